//! Sample records for the store tests, with every optional field filled so round trips cover them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use tokendist_core::approval::{Approval, PcrPolicy, StoredSecret};
use tokendist_core::evidence::EkSource;
use tokendist_store::{
    ApprovedDetail, AttestationRecord, AttestedDetail, DeniedDetail, EventDetail, EventKind,
    EventRecord, FailedCheck, PcrPolicySource, PendingAttempt, PendingRemovedDetail,
    ReleasedDetail, RevokedDetail, SecretDetail, SessionRecord, SessionStep,
};

/// A fixed point in time the samples are built around.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
}

pub fn approval(instance_id: &str) -> Approval {
    Approval {
        instance_id: instance_id.to_string(),
        instance_name: "bob-vm-1".into(),
        project: "bob-project".into(),
        zone: "us-central1-a".into(),
        service_account: "vm@bob-project.iam.gserviceaccount.com".into(),
        user_data_sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
        fingerprint: "hEX9pbBc7uo=".into(),
        boot_images: vec!["projects/cos-cloud/global/images/cos-117".into()],
        allowed_metadata_keys: BTreeSet::from(["google-logging-enabled".to_string()]),
        peer_address: Some("203.0.113.7".into()),
        client_cert_serial: Some("0a1b".into()),
        require_confidential: true,
        require_tpm: true,
        require_data_access: false,
        pcr_policy: Some(PcrPolicy {
            hash_alg: 0x000B,
            pcrs: BTreeMap::from([(0, "aa".repeat(32)), (7, "bb".repeat(32))]),
        }),
        ek_public_pem: Some("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n".into()),
        secrets: vec![StoredSecret {
            name: "db-password".into(),
            secret_type: "RAW".into(),
            protection: "tpm-envelope".into(),
            data: "c2VhbGVk".into(),
            plaintext_len: 12,
        }],
        approver: "alice@example.com".into(),
        approved_at: t0(),
        expires_at: Some(t0() + Duration::days(30)),
        revision: 0,
        revoked_at: None,
        revoke_reason: None,
        forced_reason: None,
        approved_user_data: Some("#cloud-config\n".into()),
        signature: "c2lnbmF0dXJl".into(),
    }
}

pub fn pending_attempt(instance_id: &str, seen_at: DateTime<Utc>) -> PendingAttempt {
    PendingAttempt {
        instance_id: instance_id.to_string(),
        project: "bob-project".into(),
        zone: "us-central1-a".into(),
        instance_name: "bob-vm-1".into(),
        service_account: "vm@bob-project.iam.gserviceaccount.com".into(),
        seen_at,
        peer_address: Some("203.0.113.7:40000".into()),
        failed_checks: vec![FailedCheck {
            name: "approval.state".into(),
            reason: "no approval".into(),
        }],
        last_quote: Some(json!({"pcrs": {"0": "aa"}, "verified": true})),
        checks_evaluated: Some(16),
    }
}

pub fn attestation(instance_id: &str) -> AttestationRecord {
    AttestationRecord {
        instance_id: instance_id.to_string(),
        ek_public: "AAEACwADALIAIINx".into(),
        ak_public: "AAEACwAFAHIAAAAQ".into(),
        pcr_hash_alg: 0x000B,
        pcr_values: BTreeMap::from([(0, "aa".repeat(32)), (14, "cc".repeat(32))]),
        nonce: "11".repeat(32),
        quoted_at: t0(),
        verified: true,
        quote_attest: "cXVvdGU=".into(),
        quote_signature: "c2lnbmF0dXJl".into(),
        server_signature: None,
    }
}

pub fn session(session_id: &str, created: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        session_id: session_id.to_string(),
        instance_id: "1234567890123456789".into(),
        nonce: "22".repeat(32),
        created_at: created,
        expires_at: created + Duration::minutes(5),
        step: SessionStep::Begun,
        credential_digest: None,
        pcr_hash_alg: 0x000B,
        pcr_selection: vec![0, 4, 7, 8, 9, 14],
        attestation: None,
        quote: None,
    }
}

/// A typed detail of `kind` with every optional field filled.
pub fn detail(kind: EventKind) -> EventDetail {
    let failed_checks = vec![FailedCheck {
        name: "approval.state".into(),
        reason: "no approval".into(),
    }];
    match kind {
        EventKind::Approved => EventDetail::Approved(ApprovedDetail {
            instance_name: "bob-vm-1".into(),
            project: "bob-project".into(),
            zone: "us-central1-a".into(),
            revision: 2,
            previous_revision: Some(1),
            require_tpm: true,
            require_data_access: true,
            pcr_policy: approval("1").pcr_policy,
            ek_fingerprint: Some("ab".repeat(32)),
            expires_at: Some(t0() + Duration::days(30)),
            secrets: approval("1")
                .secrets
                .iter()
                .map(SecretDetail::from)
                .collect(),
            forced_reason: Some("no template yet".into()),
            failed_checks: vec!["cloudconfig.template".into()],
            pending_removed: true,
        }),
        EventKind::Revoked => EventDetail::Revoked(RevokedDetail {
            instance_name: "bob-vm-1".into(),
            reason: "decommissioned".into(),
            revision: 3,
            previous_revision: 2,
            audit_entry: None,
        }),
        EventKind::Released => EventDetail::Released(ReleasedDetail {
            secrets: vec!["db-password".into()],
            approval_revision: 2,
            peer: Some("203.0.113.7".into()),
            receipt_id: Some("evt-1".into()),
        }),
        EventKind::Denied => EventDetail::Denied(DeniedDetail {
            failed_checks,
            checks_evaluated: 22,
            peer: Some("203.0.113.7".into()),
        }),
        EventKind::Attested => EventDetail::Attested(AttestedDetail {
            session_id: "sess-1".into(),
            ek_source: Some(EkSource::ShieldedIdentity),
            pcr_hash_alg: 0x000B,
            pcr_values: BTreeMap::from([(0, "aa".repeat(32))]),
            pcr_policy: PcrPolicySource::Reported,
        }),
        EventKind::PendingRemoved => EventDetail::PendingRemoved(PendingRemovedDetail {
            reason: Some("VM deleted".into()),
        }),
    }
}

pub fn event(kind: EventKind, instance_id: &str, time: DateTime<Utc>) -> EventRecord {
    let mut event = EventRecord::new(time, kind, instance_id, "alice@example.com", detail(kind));
    event.receipt = Some(json!({"digest": "abcd", "signature": "sig"}));
    event
}
