//! Loading the keys `approve` and `revoke` use: Alice's Ed25519 approval key (PKCS#8 PEM from
//! `keygen`), the token server's X25519 public key (SPKI PEM, `secrets.pub`) and its Ed25519 receipt
//! public key (`receipt.pub`, which verifies the attestation records the server writes).

use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};
use tokendist_core::keys;
use zeroize::Zeroizing;

use crate::error::ConsoleError;
use crate::files::read_text;

/// Alice's approval key and its id (the approval's `approver` and the events' `actor`).
pub struct ApproverKey {
    pub signing: SigningKey,
    pub id: String,
}

impl std::fmt::Debug for ApproverKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApproverKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ApproverKey {
    pub fn verifying(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
}

/// Reads the approval private key.
pub fn load_approver_key(path: &Path) -> Result<ApproverKey, ConsoleError> {
    let pem = Zeroizing::new(read_text(path, "read approval key")?);
    let signing = keys::ed25519_private_from_pem(&pem).map_err(|e| {
        ConsoleError::bad_input(
            path,
            format!("{e}; pass the PREFIX.key written by `tokendist keygen`"),
        )
    })?;
    let id = keys::key_id(signing.verifying_key().as_bytes());
    Ok(ApproverKey { signing, id })
}

/// Reads the server's X25519 public key.
pub fn load_server_public(path: &Path) -> Result<[u8; 32], ConsoleError> {
    let pem = read_text(path, "read server public key")?;
    keys::x25519_public_from_pem(&pem).map_err(|e| {
        ConsoleError::bad_input(
            path,
            format!("{e}; pass secrets.pub written by `tokendist keygen --server`"),
        )
    })
}

/// Reads the token server's receipt public key (`--server-receipt-key`): the key that signs the
/// store's attestation records. `None` when the option is not set.
pub fn load_receipt_public(path: Option<&Path>) -> Result<Option<VerifyingKey>, ConsoleError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let pem = read_text(path, "read the token server's receipt public key")?;
    keys::ed25519_public_from_pem(&pem).map(Some).map_err(|e| {
        ConsoleError::bad_input(
            path,
            format!(
                "{e}; pass receipt.pub written by `tokendist keygen --server` (the public half of \
                 the token server's keys.receipt_key)"
            ),
        )
    })
}
