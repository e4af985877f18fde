//! Where the TPM is: the TCTI string (`device:/dev/tpmrm0` on a VM, `swtpm:host=H,port=P` in tests and
//! demos) and whether leftover handles are flushed when connecting.

use std::str::FromStr;

use super::error::TpmError;

/// The kernel resource manager of a real (v)TPM: the default.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";

/// How to reach the TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmConfig {
    /// A libtss2 TCTI string: `device:/dev/tpmrm0` (default) or `swtpm:host=127.0.0.1,port=P`.
    pub tcti: String,
    /// Flush every transient object and session left in the TPM when connecting. Only safe when this
    /// process owns the TPM (a swtpm of its own): objects leaked by a killed process otherwise fill
    /// swtpm's 3 object slots. Never needed behind `/dev/tpmrm0`, whose resource manager isolates
    /// clients. Default: on for `swtpm:` TCTIs, off otherwise.
    pub flush_leftovers_on_connect: bool,
}

impl TpmConfig {
    /// A configuration for `tcti`, with the default leftover policy for its kind.
    pub fn new(tcti: impl Into<String>) -> Self {
        let tcti = tcti.into();
        let flush_leftovers_on_connect = tcti.starts_with("swtpm");
        TpmConfig {
            tcti,
            flush_leftovers_on_connect,
        }
    }

    /// The device path of a `device:` TCTI (`device` alone means `/dev/tpm0`), if it is one.
    pub fn device_path(&self) -> Option<&str> {
        match self.tcti.split_once(':') {
            Some(("device", path)) if !path.is_empty() => Some(path),
            Some(("device", _)) => Some("/dev/tpm0"),
            None if self.tcti == "device" => Some("/dev/tpm0"),
            _ => None,
        }
    }

    /// Parses the TCTI into libtss2's form.
    pub(crate) fn tcti_name_conf(&self) -> Result<tss_esapi::TctiNameConf, TpmError> {
        tss_esapi::TctiNameConf::from_str(&self.tcti).map_err(|error| TpmError::InvalidTcti {
            tcti: self.tcti.clone(),
            reason: error.to_string(),
        })
    }
}

impl Default for TpmConfig {
    fn default() -> Self {
        TpmConfig::new(DEFAULT_TCTI)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_kernel_resource_manager_without_flushing() {
        let config = TpmConfig::default();
        assert_eq!(config.tcti, "device:/dev/tpmrm0");
        assert_eq!(config.device_path(), Some("/dev/tpmrm0"));
        assert!(!config.flush_leftovers_on_connect);
        assert!(config.tcti_name_conf().is_ok());
    }

    #[test]
    fn swtpm_tcti_parses_and_flushes_leftovers() {
        let config = TpmConfig::new("swtpm:host=127.0.0.1,port=2321");
        assert!(config.flush_leftovers_on_connect);
        assert_eq!(config.device_path(), None);
        assert!(config.tcti_name_conf().is_ok());
    }

    #[test]
    fn unknown_tcti_kind_is_an_invalid_tcti_error() {
        let error = TpmConfig::new("carrier-pigeon:coop=3").tcti_name_conf();
        assert!(
            matches!(error, Err(TpmError::InvalidTcti { .. })),
            "{error:?}"
        );
    }
}
