//! A forced approval's reason (`tokendist approve --force --reason`) is part of the signed record
//! (canonical encoding v2), while approvals without one keep the v1 encoding and still verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::approval::canonical::{DOMAIN_TAG, DOMAIN_TAG_V2, encode};
use tokendist_core::approval::{Approval, SignatureError, sign, verify};

fn trusted() -> Vec<ed25519_dalek::VerifyingKey> {
    vec![approver_key().verifying_key()]
}

fn starts_with_tag(bytes: &[u8], tag: &str) -> bool {
    bytes
        .get(5..5 + tag.len())
        .is_some_and(|b| b == tag.as_bytes())
}

#[test]
fn a_forced_reason_is_signed_and_cannot_be_removed_or_edited() {
    let mut approval = unsigned_good_approval();
    approval.forced_reason = Some("no template yet; reviewed the diff by hand".to_owned());
    sign(&mut approval, &approver_key());
    assert!(starts_with_tag(&encode(&approval), DOMAIN_TAG_V2));
    assert_eq!(verify(&approval, &trusted()), Ok(()));

    let json = serde_json::to_string(&approval).unwrap();
    assert!(json.contains("\"forced_reason\""), "{json}");
    let back: Approval = serde_json::from_str(&json).unwrap();
    assert_eq!(verify(&back, &trusted()), Ok(()));

    let mut removed = approval.clone();
    removed.forced_reason = None;
    assert!(matches!(
        verify(&removed, &trusted()),
        Err(SignatureError::NotTrusted)
    ));
    let mut edited = approval;
    edited.forced_reason = Some("something else".to_owned());
    assert!(matches!(
        verify(&edited, &trusted()),
        Err(SignatureError::NotTrusted)
    ));
}

#[test]
fn an_approval_without_a_forced_reason_keeps_the_v1_encoding_and_verifies_from_old_json() {
    let mut approval = unsigned_good_approval();
    sign(&mut approval, &approver_key());
    let bytes = encode(&approval);
    assert!(starts_with_tag(&bytes, DOMAIN_TAG));
    assert!(!bytes.windows(13).any(|w| w == b"forced_reason"));
    // A record written before the field existed has no `forced_reason` key at all.
    let json = serde_json::to_string(&approval).unwrap();
    assert!(!json.contains("forced_reason"), "{json}");
    let back: Approval = serde_json::from_str(&json).unwrap();
    assert_eq!(back.forced_reason, None);
    assert_eq!(verify(&back, &trusted()), Ok(()));
    // Adding a reason to it afterwards breaks the signature.
    let mut added = back;
    added.forced_reason = Some("added later".to_owned());
    assert!(verify(&added, &trusted()).is_err());
}
