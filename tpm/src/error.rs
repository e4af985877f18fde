//! `TpmError`: every way a TPM operation can fail, naming the TPM command and keeping its response code.

use super::rc::{self, ResponseCode};

/// A failed TPM operation. Never carries secret material: only command names, codes and sizes.
#[derive(Debug, thiserror::Error)]
pub enum TpmError {
    /// No TPM answers at the configured TCTI (device missing, swtpm not running, permission denied).
    #[error(
        "no TPM at {tcti}: {reason}; enable the VM's vTPM (shielded VM) or point the TCTI at a running \
         TPM (device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=P)"
    )]
    NoTpm {
        /// The TCTI (or device path) that was tried.
        tcti: String,
        /// What the OS or libtss2 said.
        reason: String,
    },

    /// The configured TCTI string cannot be parsed.
    #[error("invalid TPM TCTI {tcti:?}: {reason}; use device:/dev/tpmrm0 or swtpm:host=H,port=P")]
    InvalidTcti {
        /// The rejected TCTI string.
        tcti: String,
        /// Why libtss2 rejected it.
        reason: String,
    },

    /// The TPM returned an error code for a command.
    #[error("TPM command {op} failed: {code}")]
    Command {
        /// The TPM command (or tss-esapi step) that failed, e.g. `"Unseal"`.
        op: &'static str,
        /// The TPM response code, e.g. `TPM_RC_POLICY_FAIL (0x99d, session 1)`.
        code: ResponseCode,
    },

    /// The TPM kept answering "busy" (`TPM_RC_RETRY`/`YIELDED`/`TESTING`) through every retry.
    #[error("TPM busy during {op} after {attempts} attempts (last: {code}); retry later")]
    Busy {
        /// The command that kept failing.
        op: &'static str,
        /// How many times it was tried.
        attempts: u32,
        /// The last busy code.
        code: ResponseCode,
    },

    /// tss-esapi rejected a value before or after talking to the TPM (sizes, unexpected TPM output).
    #[error("TPM {op}: {detail}")]
    Library {
        /// The step that failed.
        op: &'static str,
        /// tss-esapi's description.
        detail: String,
    },

    /// An input from the caller (usually from the server) is malformed.
    #[error("{op}: invalid {what}: {reason}")]
    InvalidInput {
        /// The operation that was asked for.
        op: &'static str,
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The TPM returned something that contradicts what it said before (e.g. a quote whose PCR digest
    /// does not match the PCR values just read, on every attempt).
    #[error("TPM {op}: {detail}")]
    Inconsistent {
        /// The operation.
        op: &'static str,
        /// What did not match.
        detail: String,
    },

    /// The worker thread owning the TPM is gone (it stopped after a fatal error or was shut down).
    #[error("TPM worker stopped before {op} finished; reconnect to the TPM")]
    WorkerStopped {
        /// The operation that was pending.
        op: &'static str,
    },
}

impl TpmError {
    /// Wraps a tss-esapi error for the TPM command `op`.
    pub(crate) fn tss(op: &'static str, error: tss_esapi::Error) -> Self {
        match rc::from_tss_error(&error) {
            Some(code) => TpmError::Command { op, code },
            None => TpmError::Library {
                op,
                detail: error.to_string(),
            },
        }
    }

    /// A closure for `map_err` that wraps tss-esapi errors for the command `op`.
    pub(crate) fn during(op: &'static str) -> impl FnOnce(tss_esapi::Error) -> Self {
        move |error| TpmError::tss(op, error)
    }

    /// The TPM response code, when the TPM (or libtss2) returned one.
    pub fn response_code(&self) -> Option<ResponseCode> {
        match self {
            TpmError::Command { code, .. } | TpmError::Busy { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The TCG name of the response code, e.g. `Some("TPM_RC_POLICY_FAIL")`.
    pub fn response_code_name(&self) -> Option<&'static str> {
        self.response_code().and_then(ResponseCode::name)
    }

    /// The TPM command or step that failed, when the error is about one.
    pub fn op(&self) -> Option<&'static str> {
        match self {
            TpmError::Command { op, .. }
            | TpmError::Busy { op, .. }
            | TpmError::Library { op, .. }
            | TpmError::InvalidInput { op, .. }
            | TpmError::Inconsistent { op, .. }
            | TpmError::WorkerStopped { op } => Some(op),
            TpmError::NoTpm { .. } | TpmError::InvalidTcti { .. } => None,
        }
    }

    /// Whether the TPM asked to be asked again later.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(self, TpmError::Command { code, .. } if code.is_busy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_error_names_the_command_and_the_code() {
        let error = TpmError::Command {
            op: "Unseal",
            code: ResponseCode(0x99d),
        };
        assert_eq!(
            error.to_string(),
            "TPM command Unseal failed: TPM_RC_POLICY_FAIL (0x99d, session 1)"
        );
        assert_eq!(error.response_code_name(), Some("TPM_RC_POLICY_FAIL"));
        assert_eq!(error.op(), Some("Unseal"));
    }

    #[test]
    fn missing_tpm_says_where_it_looked() {
        let error = TpmError::NoTpm {
            tcti: "/dev/tpmrm0".into(),
            reason: "No such file or directory".into(),
        };
        assert!(
            error
                .to_string()
                .starts_with("no TPM at /dev/tpmrm0: No such file or directory")
        );
    }
}
