//! TPM 2.0 response codes: the raw `TSS2_RC`, its TCG name (`TPM_RC_POLICY_FAIL`) and where it points
//! (handle, parameter or session number), decoded without relying on tss-esapi's partial decoding.

use std::fmt;

/// Format-one codes (bit 7 set): the error number is bits 0..=5, added to `TPM_RC_FMT1` (0x080).
const FMT1_NAMES: &[(u32, &str)] = &[
    (0x081, "TPM_RC_ASYMMETRIC"),
    (0x082, "TPM_RC_ATTRIBUTES"),
    (0x083, "TPM_RC_HASH"),
    (0x084, "TPM_RC_VALUE"),
    (0x085, "TPM_RC_HIERARCHY"),
    (0x087, "TPM_RC_KEY_SIZE"),
    (0x088, "TPM_RC_MGF"),
    (0x089, "TPM_RC_MODE"),
    (0x08A, "TPM_RC_TYPE"),
    (0x08B, "TPM_RC_HANDLE"),
    (0x08C, "TPM_RC_KDF"),
    (0x08D, "TPM_RC_RANGE"),
    (0x08E, "TPM_RC_AUTH_FAIL"),
    (0x08F, "TPM_RC_NONCE"),
    (0x090, "TPM_RC_PP"),
    (0x092, "TPM_RC_SCHEME"),
    (0x095, "TPM_RC_SIZE"),
    (0x096, "TPM_RC_SYMMETRIC"),
    (0x097, "TPM_RC_TAG"),
    (0x098, "TPM_RC_SELECTOR"),
    (0x09A, "TPM_RC_INSUFFICIENT"),
    (0x09B, "TPM_RC_SIGNATURE"),
    (0x09C, "TPM_RC_KEY"),
    (0x09D, "TPM_RC_POLICY_FAIL"),
    (0x09F, "TPM_RC_INTEGRITY"),
    (0x0A0, "TPM_RC_TICKET"),
    (0x0A1, "TPM_RC_RESERVED_BITS"),
    (0x0A2, "TPM_RC_BAD_AUTH"),
    (0x0A3, "TPM_RC_EXPIRED"),
    (0x0A4, "TPM_RC_POLICY_CC"),
    (0x0A5, "TPM_RC_BINDING"),
    (0x0A6, "TPM_RC_CURVE"),
    (0x0A7, "TPM_RC_ECC_POINT"),
];

/// Format-zero codes: errors (`TPM_RC_VER1` = 0x100) and warnings (`TPM_RC_WARN` = 0x900).
const FMT0_NAMES: &[(u32, &str)] = &[
    (0x100, "TPM_RC_INITIALIZE"),
    (0x101, "TPM_RC_FAILURE"),
    (0x103, "TPM_RC_SEQUENCE"),
    (0x10B, "TPM_RC_PRIVATE"),
    (0x119, "TPM_RC_HMAC"),
    (0x120, "TPM_RC_DISABLED"),
    (0x121, "TPM_RC_EXCLUSIVE"),
    (0x124, "TPM_RC_AUTH_TYPE"),
    (0x125, "TPM_RC_AUTH_MISSING"),
    (0x126, "TPM_RC_POLICY"),
    (0x127, "TPM_RC_PCR"),
    (0x128, "TPM_RC_PCR_CHANGED"),
    (0x12D, "TPM_RC_UPGRADE"),
    (0x12E, "TPM_RC_TOO_MANY_CONTEXTS"),
    (0x12F, "TPM_RC_AUTH_UNAVAILABLE"),
    (0x130, "TPM_RC_REBOOT"),
    (0x131, "TPM_RC_UNBALANCED"),
    (0x142, "TPM_RC_COMMAND_SIZE"),
    (0x143, "TPM_RC_COMMAND_CODE"),
    (0x144, "TPM_RC_AUTHSIZE"),
    (0x145, "TPM_RC_AUTH_CONTEXT"),
    (0x146, "TPM_RC_NV_RANGE"),
    (0x147, "TPM_RC_NV_SIZE"),
    (0x148, "TPM_RC_NV_LOCKED"),
    (0x149, "TPM_RC_NV_AUTHORIZATION"),
    (0x14A, "TPM_RC_NV_UNINITIALIZED"),
    (0x14B, "TPM_RC_NV_SPACE"),
    (0x14C, "TPM_RC_NV_DEFINED"),
    (0x150, "TPM_RC_BAD_CONTEXT"),
    (0x151, "TPM_RC_CPHASH"),
    (0x152, "TPM_RC_PARENT"),
    (0x153, "TPM_RC_NEEDS_TEST"),
    (0x154, "TPM_RC_NO_RESULT"),
    (0x155, "TPM_RC_SENSITIVE"),
    (0x901, "TPM_RC_CONTEXT_GAP"),
    (0x902, "TPM_RC_OBJECT_MEMORY"),
    (0x903, "TPM_RC_SESSION_MEMORY"),
    (0x904, "TPM_RC_MEMORY"),
    (0x905, "TPM_RC_SESSION_HANDLES"),
    (0x906, "TPM_RC_OBJECT_HANDLES"),
    (0x907, "TPM_RC_LOCALITY"),
    (0x908, "TPM_RC_YIELDED"),
    (0x909, "TPM_RC_CANCELED"),
    (0x90A, "TPM_RC_TESTING"),
    (0x920, "TPM_RC_NV_RATE"),
    (0x921, "TPM_RC_LOCKOUT"),
    (0x922, "TPM_RC_RETRY"),
    (0x923, "TPM_RC_NV_UNAVAILABLE"),
];

/// The TSS layers (bits 16..=23 of a `TSS2_RC`) that carry TPM-format codes.
const LAYER_TPM: u32 = 0x00;
const LAYER_RESOURCE_MANAGER_TPM: u32 = 0x0B;

/// A TPM (or TSS) response code as returned by libtss2, e.g. `0x99d` = `TPM_RC_POLICY_FAIL` on session 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseCode(pub u32);

impl ResponseCode {
    /// The raw `TSS2_RC` value, including the TSS layer in bits 16..=23.
    pub fn raw(self) -> u32 {
        self.0
    }

    /// The TSS layer that produced the code (0 = the TPM itself, 8 = TCTI, 7 = ESAPI, ...).
    pub fn layer(self) -> u32 {
        (self.0 >> 16) & 0xFF
    }

    fn is_tpm_format(self) -> bool {
        matches!(self.layer(), LAYER_TPM | LAYER_RESOURCE_MANAGER_TPM)
    }

    fn is_format_one(self) -> bool {
        self.0 & 0x080 != 0
    }

    /// The code with its handle/parameter/session location removed (`0x99d` → `0x09d`), for TPM codes.
    pub fn base(self) -> Option<u32> {
        if !self.is_tpm_format() {
            return None;
        }
        if self.is_format_one() {
            Some(0x080 | (self.0 & 0x3F))
        } else {
            Some(self.0 & 0xFFF)
        }
    }

    /// The TCG name of the code (`"TPM_RC_POLICY_FAIL"`), when it is a TPM code this module knows.
    pub fn name(self) -> Option<&'static str> {
        let base = self.base()?;
        let table = if self.is_format_one() {
            FMT1_NAMES
        } else {
            FMT0_NAMES
        };
        table
            .iter()
            .find(|(code, _)| *code == base)
            .map(|(_, name)| *name)
    }

    /// Where a format-one code points: `"handle 1"`, `"parameter 3"` or `"session 1"`.
    pub fn location(self) -> Option<String> {
        if !self.is_tpm_format() || !self.is_format_one() {
            return None;
        }
        let number = (self.0 >> 8) & 0xF;
        if self.0 & 0x040 != 0 {
            Some(format!("parameter {number}"))
        } else if number & 0x8 != 0 {
            Some(format!("session {}", number & 0x7))
        } else if number != 0 {
            Some(format!("handle {number}"))
        } else {
            None
        }
    }

    /// Whether the TPM asked to be asked again later (`TPM_RC_RETRY`, `TPM_RC_YIELDED`, `TPM_RC_TESTING`).
    pub fn is_busy(self) -> bool {
        matches!(
            self.name(),
            Some("TPM_RC_RETRY" | "TPM_RC_YIELDED" | "TPM_RC_TESTING")
        )
    }

    /// Whether the code is `TPM_RC_POLICY_FAIL` (e.g. Unseal with PCRs that differ from the policy).
    pub fn is_policy_fail(self) -> bool {
        self.name() == Some("TPM_RC_POLICY_FAIL")
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.location()) {
            (Some(name), Some(location)) => write!(f, "{name} (0x{:x}, {location})", self.0),
            (Some(name), None) => write!(f, "{name} (0x{:x})", self.0),
            (None, _) => write!(f, "TSS2_RC 0x{:x} (layer {})", self.0, self.layer()),
        }
    }
}

/// The raw code inside a tss-esapi error, if it carries one. tss-esapi keeps the raw value private but
/// prints it as `Response code value: 0x...`, so it is read back from that text.
pub(crate) fn from_tss_error(error: &tss_esapi::Error) -> Option<ResponseCode> {
    use tss_esapi::constants::response_code::Tss2ResponseCode;
    let text = match error {
        tss_esapi::Error::Tss2Error(Tss2ResponseCode::FormatZero(rc)) => rc.to_string(),
        tss_esapi::Error::Tss2Error(Tss2ResponseCode::FormatOne(rc)) => rc.to_string(),
        tss_esapi::Error::Tss2Error(Tss2ResponseCode::Success)
        | tss_esapi::Error::WrapperError(_) => {
            return None;
        }
    };
    let hex = text.rsplit("0x").next()?;
    u32::from_str_radix(hex.trim(), 16).ok().map(ResponseCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_fail_on_session_one_is_named_and_located() {
        let rc = ResponseCode(0x99d);
        assert_eq!(rc.name(), Some("TPM_RC_POLICY_FAIL"));
        assert_eq!(rc.location().as_deref(), Some("session 1"));
        assert!(rc.is_policy_fail());
        assert_eq!(rc.to_string(), "TPM_RC_POLICY_FAIL (0x99d, session 1)");
    }

    #[test]
    fn integrity_on_parameter_three_is_located() {
        let rc = ResponseCode(0x3df);
        assert_eq!(rc.name(), Some("TPM_RC_INTEGRITY"));
        assert_eq!(rc.location().as_deref(), Some("parameter 3"));
    }

    #[test]
    fn handle_error_names_the_handle() {
        let rc = ResponseCode(0x18b);
        assert_eq!(rc.name(), Some("TPM_RC_HANDLE"));
        assert_eq!(rc.location().as_deref(), Some("handle 1"));
    }

    #[test]
    fn retry_and_yielded_are_busy_but_object_memory_is_not() {
        assert!(ResponseCode(0x922).is_busy());
        assert!(ResponseCode(0x908).is_busy());
        assert!(ResponseCode(0x000B_0922).is_busy());
        assert!(!ResponseCode(0x902).is_busy());
        assert_eq!(ResponseCode(0x902).name(), Some("TPM_RC_OBJECT_MEMORY"));
    }

    #[test]
    fn tcti_io_error_is_not_decoded_as_a_tpm_code() {
        let rc = ResponseCode(0x000A_000A);
        assert_eq!(rc.name(), None);
        assert_eq!(rc.layer(), 10);
        assert_eq!(rc.to_string(), "TSS2_RC 0xa000a (layer 10)");
    }
}
