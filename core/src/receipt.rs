//! Release receipts: the server signs (Ed25519) what it released, to whom, on which evidence, so that
//! Alice can later prove a release happened on evidence that passed. The evidence digest is SHA-256
//! over the canonical JSON of the evidence and the verdict.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::evidence::Evidence;
use crate::verdict::Verdict;

/// A signed statement of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub event_id: String,
    pub instance_id: String,
    /// Names of the released secrets.
    pub secrets: Vec<String>,
    /// SHA-256 of the evidence and verdict, hex.
    pub evidence_digest: String,
    pub issued_at: DateTime<Utc>,
    /// `keys::key_id` of the signing key.
    pub key_id: String,
    /// Ed25519 signature over [`Receipt::signed_bytes`], base64.
    pub signature: String,
}

/// A receipt that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt signature is not valid base64 Ed25519")]
    MalformedSignature,
    #[error("receipt signature does not verify with key {0}")]
    BadSignature(String),
}

/// SHA-256 over the canonical JSON of the evidence and the verdict that decided.
pub fn evidence_digest(evidence: &Evidence, verdict: &Verdict) -> [u8; 32] {
    let mut hasher = Sha256::new();
    // serde_json output of these types is deterministic: structs in field order, maps are BTreeMaps.
    let bytes = serde_json::to_vec(&(evidence, verdict)).unwrap_or_default();
    hasher.update(&bytes);
    hasher.finalize().into()
}

impl Receipt {
    /// The exact bytes the signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!(
            "tokendist-receipt-v1\nevent={}\ninstance={}\nsecrets={}\nevidence={}\nissued_at={}\nkey={}\n",
            self.event_id,
            self.instance_id,
            self.secrets.join(","),
            self.evidence_digest,
            self.issued_at.timestamp(),
            self.key_id
        )
        .into_bytes()
    }

    /// Builds and signs a receipt.
    pub fn issue(
        key: &ed25519_dalek::SigningKey,
        event_id: &str,
        instance_id: &str,
        secrets: Vec<String>,
        evidence_digest: [u8; 32],
        issued_at: DateTime<Utc>,
    ) -> Receipt {
        let mut receipt = Receipt {
            event_id: event_id.to_string(),
            instance_id: instance_id.to_string(),
            secrets,
            evidence_digest: hex::encode(evidence_digest),
            issued_at,
            key_id: crate::keys::key_id(key.verifying_key().as_bytes()),
            signature: String::new(),
        };
        receipt.signature = STANDARD.encode(key.sign(&receipt.signed_bytes()).to_bytes());
        receipt
    }

    /// Verifies the signature with the server's receipt public key.
    pub fn verify(&self, key: &ed25519_dalek::VerifyingKey) -> Result<(), ReceiptError> {
        let bytes = STANDARD
            .decode(&self.signature)
            .map_err(|_| ReceiptError::MalformedSignature)?;
        let signature = ed25519_dalek::Signature::from_slice(&bytes)
            .map_err(|_| ReceiptError::MalformedSignature)?;
        key.verify(&self.signed_bytes(), &signature)
            .map_err(|_| ReceiptError::BadSignature(self.key_id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_verifies_and_any_edit_breaks_it() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
        let receipt = Receipt::issue(
            &key,
            "0001",
            "42",
            vec!["a".into()],
            [1u8; 32],
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        );
        receipt.verify(&key.verifying_key()).unwrap();
        let mut edited = receipt.clone();
        edited.secrets.push("b".into());
        assert!(matches!(
            edited.verify(&key.verifying_key()),
            Err(ReceiptError::BadSignature(_))
        ));
        let other = ed25519_dalek::SigningKey::from_bytes(&[6u8; 32]);
        assert!(receipt.verify(&other.verifying_key()).is_err());
    }
}
