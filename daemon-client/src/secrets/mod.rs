//! Secrets as the client holds them: opened from the server's protection (plain, TPM envelope, TPM
//! import blob) and checked by type (RAW bytes, TPM-sealed bytes, TINK keysets), kept in zeroized
//! memory, and never shown by `Debug`, `Display` or any error.
//!
//! - [`open`]: `open_secret`, from the wire `Secret` to a [`SecretValue`].
//! - [`import_blob`]: the go-tpm-tools `ImportBlob` wire format of `TPM` secrets.

pub mod import_blob;
pub mod open;

use std::fmt;

use zeroize::Zeroizing;

pub use open::{OpenContext, SecretError, open_secret};

/// What a secret is once opened (the wire `SecretType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    Raw,
    Tpm,
    Tink,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Raw => "RAW",
            SecretKind::Tpm => "TPM",
            SecretKind::Tink => "TINK",
        }
    }
}

/// One opened secret. The bytes are zeroized on drop and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue {
    name: String,
    kind: SecretKind,
    bytes: Zeroizing<Vec<u8>>,
}

impl SecretValue {
    pub fn new(name: impl Into<String>, kind: SecretKind, bytes: Zeroizing<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            kind,
            bytes,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    /// The secret bytes (for delivery only).
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValue")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .field("bytes", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_name_kind_and_length_but_never_the_bytes() {
        let secret = SecretValue::new(
            "db-password",
            SecretKind::Raw,
            Zeroizing::new(b"hunter2-correct-horse".to_vec()),
        );
        let shown = format!("{secret:?} {secret:#?}");
        assert!(
            shown.contains("db-password") && shown.contains("21"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        let bytes_as_list = format!("{:?}", b"hunter2-correct-horse".to_vec());
        assert!(!shown.contains(&bytes_as_list[1..10]), "{shown}");
    }
}
