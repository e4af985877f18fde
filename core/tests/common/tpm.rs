//! A verified TPM session as the server would hand it to `policy::evaluate`, and the approval that
//! requires it: EK and AK built around core's test RSA keys, two PCR values in the SHA-256 bank.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use tokendist_core::approval::{Approval, PcrPolicy, sign};
use tokendist_core::evidence::{EkSource, TpmEvidence, VerifiedQuoteEvidence};
use tokendist_core::tpm::{TpmtPublic, ek_template_from_pem};

use super::{approver_key, seed_now, test_data, unsigned_good_approval};

pub const SESSION_NONCE: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// The VM's EK (core's stand-in for Google's key), SPKI PEM.
pub fn ek_pem() -> String {
    String::from_utf8(test_data("rsa-google-test-key-1.pub.pem")).unwrap()
}

/// Another TPM's EK, SPKI PEM.
pub fn other_ek_pem() -> String {
    let private = String::from_utf8(test_data("rsa-attacker-test-key.pem")).unwrap();
    rsa::RsaPrivateKey::from_pkcs1_pem(&private)
        .unwrap()
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

/// An AK public area (TPM2B_PUBLIC) with the default AK template.
pub fn ak_public() -> TpmtPublic {
    let modulus = ek_template_from_pem(&ek_pem()).unwrap().unique;
    TpmtPublic::rsa_ak(modulus)
}

pub fn encode_public(public: &TpmtPublic) -> String {
    STANDARD.encode(public.to_tpm2b().unwrap())
}

pub fn pcr_values() -> BTreeMap<u32, String> {
    [(0, "00".repeat(32)), (7, "ab".repeat(32))].into()
}

/// What the server verified in a good session.
pub fn good_tpm_evidence() -> TpmEvidence {
    TpmEvidence {
        session_id: "0123456789abcdef0123456789abcdef".to_owned(),
        session_nonce: SESSION_NONCE.to_owned(),
        ek_public_pem: ek_pem(),
        ek_source: EkSource::ShieldedIdentity,
        ak_public: encode_public(&ak_public()),
        credential_activated: true,
        quote: Some(VerifiedQuoteEvidence {
            nonce: SESSION_NONCE.to_owned(),
            pcr_hash_alg: 0x000B,
            pcr_values: pcr_values(),
        }),
        verified_at: seed_now(),
    }
}

/// The good approval with `require_tpm`, the EK and the PCR policy pinned, unsigned.
pub fn unsigned_tpm_approval() -> Approval {
    let mut approval = unsigned_good_approval();
    approval.require_tpm = true;
    approval.ek_public_pem = Some(ek_pem());
    approval.pcr_policy = Some(PcrPolicy {
        hash_alg: 0x000B,
        pcrs: pcr_values(),
    });
    approval
}

pub fn tpm_approval() -> Approval {
    let mut approval = unsigned_tpm_approval();
    sign(&mut approval, &approver_key());
    approval
}
