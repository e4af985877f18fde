//! Ed25519 signatures over an approval's [canonical encoding](super::canonical): Alice's console signs,
//! the server verifies against its trusted approver keys (`approval.signature`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound as _, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{Approval, canonical};

/// Why an approval's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum SignatureError {
    #[error("approval is not signed; approve it again in the console")]
    Unsigned,
    #[error(
        "approval signature is malformed ({0}); the record was damaged or edited outside the console"
    )]
    Malformed(String),
    #[error(
        "approval signature does not verify with any trusted approver key; the record was altered or signed by an untrusted key"
    )]
    NotTrusted,
    #[error(
        "no trusted approver keys are configured; add the approver's public key to trusted_approver_keys"
    )]
    NoTrustedKeys,
}

/// Signs `approval` in place with `key`: truncates its times to microseconds (what the signature
/// covers and stores keep), then sets `signature` to standard base64 of the 64-byte signature.
pub fn sign(approval: &mut Approval, key: &SigningKey) {
    approval.approved_at = to_micros(approval.approved_at);
    approval.expires_at = approval.expires_at.map(to_micros);
    approval.revoked_at = approval.revoked_at.map(to_micros);
    let signature = key.sign(&canonical::encode(approval));
    approval.signature = STANDARD.encode(signature.to_bytes());
}

/// Verifies `approval`'s signature against `trusted` keys; succeeds if any of them verifies it.
pub fn verify(approval: &Approval, trusted: &[VerifyingKey]) -> Result<(), SignatureError> {
    if approval.signature.is_empty() {
        return Err(SignatureError::Unsigned);
    }
    let bytes = STANDARD
        .decode(approval.signature.trim())
        .map_err(|e| SignatureError::Malformed(format!("not base64: {e}")))?;
    let bytes: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| SignatureError::Malformed(format!("{} bytes instead of 64", bytes.len())))?;
    let signature = Signature::from_bytes(&bytes);
    if trusted.is_empty() {
        return Err(SignatureError::NoTrustedKeys);
    }
    let message = canonical::encode(approval);
    if trusted
        .iter()
        .any(|key| key.verify_strict(&message, &signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::NotTrusted)
    }
}

fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}
