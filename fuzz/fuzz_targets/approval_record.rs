//! Fuzzes approval records as the store hands them back (`core::approval::Approval` from JSON), their
//! canonical encoding (`approval::canonical::encode`), signature check (`approval::verify`) and kept
//! user-data (`verified_user_data`). Input: one record, or two separated by a 0xFF byte (never in
//! UTF-8). Never panics; a record survives a JSON round trip with the same canonical bytes, and two
//! records that encode alike are equal in every signed field (the encoding is injective, so one
//! signature never covers two approvals).
#![no_main]

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use tokendist_core::approval::{Approval, canonical, verify};

fn read(bytes: &[u8]) -> Option<Approval> {
    let approval: Approval = serde_json::from_slice(bytes).ok()?;
    let encoded = canonical::encode(&approval);
    let json = serde_json::to_vec(&approval).unwrap();
    let back: Approval = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, approval);
    assert_eq!(canonical::encode(&back), encoded);
    let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
    let _ = verify(&approval, &[key]);
    let _ = approval.verified_user_data();
    Some(approval)
}

/// The record without its unsigned fields, its times cut to the microseconds that are signed.
fn signed_part(approval: &Approval) -> Approval {
    let micros = |t: DateTime<Utc>| DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap();
    Approval {
        signature: String::new(),
        approved_user_data: None,
        approved_at: micros(approval.approved_at),
        expires_at: approval.expires_at.map(micros),
        revoked_at: approval.revoked_at.map(micros),
        ..approval.clone()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0xff);
    let first = parts.next().and_then(read);
    let second = parts.next().and_then(read);
    if let (Some(a), Some(b)) = (first, second)
        && canonical::encode(&a) == canonical::encode(&b)
    {
        assert_eq!(signed_part(&a), signed_part(&b));
    }
});
