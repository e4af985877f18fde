//! Ed25519 approval signatures over the canonical encoding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::TimeZone as _;
use common::*;
use ed25519_dalek::SigningKey;
use tokendist_core::approval::canonical::encode;
use tokendist_core::approval::{Approval, PcrPolicy, SignatureError, StoredSecret, sign, verify};

fn trusted() -> Vec<ed25519_dalek::VerifyingKey> {
    vec![approver_key().verifying_key()]
}

fn rich_approval() -> Approval {
    let mut approval = unsigned_good_approval();
    approval.peer_address = Some("34.121.225.36".to_owned());
    approval.pcr_policy = Some(PcrPolicy {
        hash_alg: 0x000B,
        pcrs: [(
            0,
            "24af52a4f429b71a3184a6d64cddad17e54ea030e2aa6576bf3a5a3d8bd3328f".to_owned(),
        )]
        .into(),
    });
    approval.secrets.push(StoredSecret {
        name: "db-password".to_owned(),
        secret_type: "RAW".to_owned(),
        protection: "hpke-x25519".to_owned(),
        data: "c2VhbGVk".to_owned(),
        plaintext_len: 12,
    });
    approval.expires_at = Some(chrono::Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    approval
}

#[test]
fn signed_verifies() {
    let mut approval = rich_approval();
    sign(&mut approval, &approver_key());
    assert_eq!(approval.signature.len(), 88);
    assert_eq!(verify(&approval, &trusted()), Ok(()));
}

#[test]
fn signed_approval_survives_a_json_round_trip() {
    let mut approval = rich_approval();
    approval.approved_at = chrono::Utc
        .timestamp_opt(1_624_363_000, 123_456_789)
        .unwrap();
    sign(&mut approval, &approver_key());
    assert_eq!(approval.approved_at.timestamp_subsec_nanos(), 123_456_000);
    let back: Approval = serde_json::from_str(&serde_json::to_string(&approval).unwrap()).unwrap();
    assert_eq!(verify(&back, &trusted()), Ok(()));
}

/// One field edit applied to a signed approval.
type Edit = Box<dyn Fn(&mut Approval)>;

#[test]
fn one_edited_field_fails() {
    let mut signed = rich_approval();
    sign(&mut signed, &approver_key());
    let edits: Vec<(&str, Edit)> = vec![
        ("instance_id", Box::new(|a| a.instance_id.push('1'))),
        (
            "user_data_sha256",
            Box::new(|a| a.user_data_sha256 = "AAAA".to_owned()),
        ),
        ("fingerprint", Box::new(|a| a.fingerprint.clear())),
        (
            "allowed_metadata_keys",
            Box::new(|a| {
                a.allowed_metadata_keys.insert("ssh-keys".to_owned());
            }),
        ),
        ("peer_address", Box::new(|a| a.peer_address = None)),
        ("require_tpm", Box::new(|a| a.require_tpm = !a.require_tpm)),
        ("pcr_policy", Box::new(|a| a.pcr_policy = None)),
        (
            "secret data",
            Box::new(|a| a.secrets[0].data = "b3RoZXI=".to_owned()),
        ),
        ("expires_at", Box::new(|a| a.expires_at = None)),
        ("revision", Box::new(|a| a.revision += 1)),
        (
            "revoked_at",
            Box::new(|a| a.revoked_at = Some(a.approved_at)),
        ),
        (
            "revoke_reason",
            Box::new(|a| a.revoke_reason = Some(String::new())),
        ),
    ];
    for (what, edit) in edits {
        let mut edited = signed.clone();
        edit(&mut edited);
        assert_eq!(
            verify(&edited, &trusted()),
            Err(SignatureError::NotTrusted),
            "{what}"
        );
    }
}

#[test]
fn re_signed_by_an_untrusted_key_fails() {
    let mut approval = rich_approval();
    approval.service_account = "attacker@evil.iam.gserviceaccount.com".to_owned();
    sign(&mut approval, &SigningKey::from_bytes(&[9u8; 32]));
    assert_eq!(
        verify(&approval, &trusted()),
        Err(SignatureError::NotTrusted)
    );
}

#[test]
fn unsigned_and_malformed_signatures_are_distinct_errors() {
    let approval = rich_approval();
    assert_eq!(verify(&approval, &trusted()), Err(SignatureError::Unsigned));
    let mut bad = approval.clone();
    bad.signature = "not base64!".to_owned();
    assert!(matches!(
        verify(&bad, &trusted()),
        Err(SignatureError::Malformed(_))
    ));
    bad.signature = "AAAA".to_owned();
    assert!(matches!(
        verify(&bad, &trusted()),
        Err(SignatureError::Malformed(_))
    ));
    let mut signed = approval;
    sign(&mut signed, &approver_key());
    assert_eq!(verify(&signed, &[]), Err(SignatureError::NoTrustedKeys));
}

#[test]
fn canonical_encoding_is_deterministic_and_separates_fields() {
    let a = rich_approval();
    assert_eq!(encode(&a), encode(&a.clone()));
    // Moving a character between adjacent fields changes the encoding.
    let mut b = a.clone();
    b.instance_name = format!("{}x", a.instance_name);
    let mut c = b.clone();
    c.instance_name = a.instance_name.clone();
    c.project = format!("x{}", a.project);
    assert_ne!(encode(&b), encode(&c));
    // The signature itself is not covered.
    let mut signed = a.clone();
    signed.signature = "anything".to_owned();
    assert_eq!(encode(&a), encode(&signed));
}
