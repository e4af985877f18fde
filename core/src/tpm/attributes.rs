//! TPMA_OBJECT: the object attribute bits, with their TPM 2.0 names for error messages.

/// TPMA_OBJECT bits (TPM 2.0 Part 2, 8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ObjectAttributes(pub u32);

impl ObjectAttributes {
    pub const FIXED_TPM: u32 = 1 << 1;
    pub const ST_CLEAR: u32 = 1 << 2;
    pub const FIXED_PARENT: u32 = 1 << 4;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    pub const ADMIN_WITH_POLICY: u32 = 1 << 7;
    pub const NO_DA: u32 = 1 << 10;
    pub const ENCRYPTED_DUPLICATION: u32 = 1 << 11;
    pub const RESTRICTED: u32 = 1 << 16;
    pub const DECRYPT: u32 = 1 << 17;
    pub const SIGN: u32 = 1 << 18;

    /// Attributes of the default TCG EK template (0x000300b2).
    pub const DEFAULT_EK: ObjectAttributes = ObjectAttributes(
        Self::FIXED_TPM
            | Self::FIXED_PARENT
            | Self::SENSITIVE_DATA_ORIGIN
            | Self::ADMIN_WITH_POLICY
            | Self::RESTRICTED
            | Self::DECRYPT,
    );

    /// Attributes of an attestation key as tss-esapi `create_ak` makes it (0x00050072).
    pub const DEFAULT_AK: ObjectAttributes = ObjectAttributes(
        Self::FIXED_TPM
            | Self::FIXED_PARENT
            | Self::SENSITIVE_DATA_ORIGIN
            | Self::USER_WITH_AUTH
            | Self::RESTRICTED
            | Self::SIGN,
    );

    /// Whether every bit of `mask` is set.
    pub fn has(self, mask: u32) -> bool {
        self.0 & mask == mask
    }

    /// The TPM 2.0 name of a single attribute bit, for messages.
    pub fn bit_name(mask: u32) -> &'static str {
        match mask {
            Self::FIXED_TPM => "fixedTPM",
            Self::ST_CLEAR => "stClear",
            Self::FIXED_PARENT => "fixedParent",
            Self::SENSITIVE_DATA_ORIGIN => "sensitiveDataOrigin",
            Self::USER_WITH_AUTH => "userWithAuth",
            Self::ADMIN_WITH_POLICY => "adminWithPolicy",
            Self::NO_DA => "noDA",
            Self::ENCRYPTED_DUPLICATION => "encryptedDuplication",
            Self::RESTRICTED => "restricted",
            Self::DECRYPT => "decrypt",
            Self::SIGN => "sign",
            _ => "unknown attribute",
        }
    }
}
