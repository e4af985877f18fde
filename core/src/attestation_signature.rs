//! The token server's signature over an attestation record (DESIGN §4, §6): the record the server
//! writes for Alice's review (EK, AK, quote, PCR values, nonce, time, instance id) is signed with the
//! server's receipt key (Ed25519) over a canonical, length-prefixed encoding, and the console checks
//! that signature *and* re-verifies the quote before it seals anything to those PCR values. Whoever
//! can write the store but does not hold the receipt key cannot choose what Alice signs.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};

use crate::keys::key_id;
use crate::tpm::{QuoteError, TpmtPublic, verify_quote};

/// Domain separation: these bytes can never be mistaken for a receipt or an approval.
const DOMAIN: &str = "tokendist-attestation-record-v1";
/// TPM_ALG_SHA256, the only PCR bank quotes are verified in.
const SHA256_BANK: u16 = 0x000B;

/// The server's signature over a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSignature {
    /// `keys::key_id` of the receipt key that signed.
    pub key_id: String,
    /// Ed25519 signature over [`AttestationFields::signed_bytes`], base64.
    pub signature: String,
}

/// Every field of an attestation record the signature covers (borrowed from the stored record).
#[derive(Debug, Clone, Copy)]
pub struct AttestationFields<'a> {
    pub instance_id: &'a str,
    /// EK public area (TPMT_PUBLIC), base64.
    pub ek_public: &'a str,
    /// AK public area (TPMT_PUBLIC), base64.
    pub ak_public: &'a str,
    pub pcr_hash_alg: u16,
    /// PCR index to value, hex.
    pub pcr_values: &'a BTreeMap<u32, String>,
    /// The session nonce, hex.
    pub nonce: &'a str,
    pub quoted_at: DateTime<Utc>,
    pub verified: bool,
    /// The quote's TPMS_ATTEST, base64 (empty before the first quote).
    pub quote_attest: &'a str,
    /// The quote's TPMT_SIGNATURE by the AK, base64.
    pub quote_signature: &'a str,
}

/// Why a stored attestation record is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordCheckError {
    #[error("it carries no server signature (unsigned, or the signature was stripped)")]
    Unsigned,
    #[error("its server signature is not valid base64 Ed25519")]
    MalformedSignature,
    #[error(
        "it is signed by key {found}, not by the token server's receipt key {expected}: another key wrote it"
    )]
    OtherKey { found: String, expected: String },
    #[error(
        "its server signature does not verify with the receipt key {key_id}: the record was changed after the token server wrote it"
    )]
    BadSignature { key_id: String },
    #[error("it holds no TPM quote to verify")]
    NoQuote,
    #[error("its {field} cannot be read: {problem}")]
    Unreadable {
        field: &'static str,
        problem: String,
    },
    #[error("its quote does not verify against its AK, nonce and PCR values: {0}")]
    Quote(QuoteError),
}

impl AttestationFields<'_> {
    /// The exact bytes the signature covers: every field, length-prefixed, in a fixed order.
    pub fn signed_bytes(&self, signer_key_id: &str) -> Vec<u8> {
        let mut out = format!("{DOMAIN}\n");
        let mut field = |name: &str, value: &str| {
            out.push_str(&format!("{name}={}:{value}\n", value.len()));
        };
        field("instance", self.instance_id);
        field("ek", self.ek_public);
        field("ak", self.ak_public);
        field("pcr_bank", &self.pcr_hash_alg.to_string());
        field("pcr_count", &self.pcr_values.len().to_string());
        for (index, value) in self.pcr_values {
            field(&format!("pcr.{index}"), value);
        }
        field("nonce", self.nonce);
        field(
            "quoted_at",
            &self.quoted_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        );
        field("verified", if self.verified { "true" } else { "false" });
        field("quote", self.quote_attest);
        field("quote_signature", self.quote_signature);
        field("key", signer_key_id);
        out.into_bytes()
    }

    /// Signs the record with the server's receipt key.
    pub fn sign(&self, key: &ed25519_dalek::SigningKey) -> RecordSignature {
        let key_id = key_id(key.verifying_key().as_bytes());
        let signature = STANDARD.encode(key.sign(&self.signed_bytes(&key_id)).to_bytes());
        RecordSignature { key_id, signature }
    }

    /// Checks that `signature` is the receipt key's over exactly these fields.
    pub fn verify_signature(
        &self,
        signature: Option<&RecordSignature>,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<(), RecordCheckError> {
        let signature = signature.ok_or(RecordCheckError::Unsigned)?;
        let expected = key_id(key.as_bytes());
        if signature.key_id != expected {
            return Err(RecordCheckError::OtherKey {
                found: signature.key_id.clone(),
                expected,
            });
        }
        let bytes = STANDARD
            .decode(&signature.signature)
            .map_err(|_| RecordCheckError::MalformedSignature)?;
        let parsed = ed25519_dalek::Signature::from_slice(&bytes)
            .map_err(|_| RecordCheckError::MalformedSignature)?;
        key.verify(&self.signed_bytes(&signature.key_id), &parsed)
            .map_err(|_| RecordCheckError::BadSignature { key_id: expected })
    }

    /// Checks the server's signature, then re-verifies the quote ([`Self::verify_quote`]); returns the
    /// record's PCR values, decoded.
    pub fn verify(
        &self,
        signature: Option<&RecordSignature>,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<BTreeMap<u32, Vec<u8>>, RecordCheckError> {
        self.verify_signature(signature, key)?;
        self.verify_quote()
    }

    /// Re-verifies the quote (AK signature, nonce, PCR selection and digest, SHA-256 bank) over the
    /// record's own PCR values; returns those values, decoded. They are the token server's only once
    /// [`Self::verify_signature`] passed: call [`Self::verify`] unless that was checked already.
    pub fn verify_quote(&self) -> Result<BTreeMap<u32, Vec<u8>>, RecordCheckError> {
        if self.quote_attest.is_empty() || self.quote_signature.is_empty() {
            return Err(RecordCheckError::NoQuote);
        }
        if self.pcr_hash_alg != SHA256_BANK {
            return Err(unreadable(
                "PCR bank",
                format!("0x{:04x} is not SHA-256 (0x000b)", self.pcr_hash_alg),
            ));
        }
        let ak = STANDARD
            .decode(self.ak_public.trim())
            .map_err(|e| e.to_string())
            .and_then(|bytes| TpmtPublic::unmarshal(&bytes).map_err(|e| e.to_string()))
            .map_err(|problem| unreadable("AK", problem))?;
        let attest = decode_base64(self.quote_attest, "quote")?;
        let quote_signature = decode_base64(self.quote_signature, "quote signature")?;
        let nonce = hex::decode(self.nonce.trim()).map_err(|e| unreadable("nonce", e))?;
        let mut values = BTreeMap::new();
        for (index, text) in self.pcr_values {
            let value = hex::decode(text.trim())
                .map_err(|e| unreadable("PCR values", format!("PCR {index}: {e}")))?;
            values.insert(*index, value);
        }
        verify_quote(&ak, &attest, &quote_signature, &nonce, &values)
            .map_err(RecordCheckError::Quote)?;
        Ok(values)
    }
}

fn unreadable(field: &'static str, problem: impl ToString) -> RecordCheckError {
    RecordCheckError::Unreadable {
        field,
        problem: problem.to_string(),
    }
}

fn decode_base64(text: &str, field: &'static str) -> Result<Vec<u8>, RecordCheckError> {
    STANDARD
        .decode(text.trim())
        .map_err(|e| unreadable(field, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<u32, String> {
        BTreeMap::from([(0, "aa".repeat(32)), (7, "bb".repeat(32))])
    }

    fn fields(values: &BTreeMap<u32, String>) -> AttestationFields<'_> {
        AttestationFields {
            instance_id: "4708",
            ek_public: "ZWs=",
            ak_public: "YWs=",
            pcr_hash_alg: SHA256_BANK,
            pcr_values: values,
            nonce: "00ff",
            quoted_at: DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default(),
            verified: true,
            quote_attest: "cXVvdGU=",
            quote_signature: "c2ln",
        }
    }

    #[test]
    fn signature_verifies_and_any_edit_or_other_key_breaks_it() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let values = values();
        let signature = fields(&values).sign(&key);
        assert_eq!(
            fields(&values).verify_signature(Some(&signature), &key.verifying_key()),
            Ok(())
        );

        let mut edited = values.clone();
        edited.insert(7, "cc".repeat(32));
        assert!(matches!(
            fields(&edited).verify_signature(Some(&signature), &key.verifying_key()),
            Err(RecordCheckError::BadSignature { .. })
        ));
        let mut later = fields(&values);
        later.quoted_at += chrono::Duration::nanoseconds(1);
        assert!(
            later
                .verify_signature(Some(&signature), &key.verifying_key())
                .is_err()
        );

        let other = ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]);
        let foreign = fields(&values).sign(&other);
        assert!(matches!(
            fields(&values).verify_signature(Some(&foreign), &key.verifying_key()),
            Err(RecordCheckError::OtherKey { .. })
        ));
        // Claiming the right key id does not help a foreign signature.
        let forged = RecordSignature {
            key_id: signature.key_id.clone(),
            signature: foreign.signature,
        };
        assert!(matches!(
            fields(&values).verify_signature(Some(&forged), &key.verifying_key()),
            Err(RecordCheckError::BadSignature { .. })
        ));
        assert_eq!(
            fields(&values).verify_signature(None, &key.verifying_key()),
            Err(RecordCheckError::Unsigned)
        );
    }

    #[test]
    fn fields_cannot_shift_into_each_other() {
        let values = values();
        let mut a = fields(&values);
        let mut b = fields(&values);
        a.ek_public = "ab";
        a.ak_public = "c";
        b.ek_public = "a";
        b.ak_public = "bc";
        assert_ne!(a.signed_bytes("k"), b.signed_bytes("k"));
    }

    #[test]
    fn a_signed_record_without_a_quote_is_not_trusted() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let values = values();
        let mut record = fields(&values);
        record.quote_attest = "";
        let signature = record.sign(&key);
        assert_eq!(
            record.verify(Some(&signature), &key.verifying_key()),
            Err(RecordCheckError::NoQuote)
        );
    }
}
