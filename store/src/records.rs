//! The records the store keeps besides approvals (which are `tokendist_core::approval::Approval`):
//! pending VMs, attestations, sessions and audit events, plus the inputs that create or change them.
//! All are plain serde data; backends store each as one JSON document next to indexed key fields.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use tokendist_core::attestation_signature::{AttestationFields, RecordCheckError, RecordSignature};
use tokendist_core::evidence::EkSource;

use crate::event_detail::EventDetail;
use crate::event_id::EventId;

/// One named check that denied a request, with its reason (check names are the stable strings of
/// DESIGN §3, e.g. `identity.instance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCheck {
    pub name: String,
    pub reason: String,
}

/// A denied request, as the server reports it to [`crate::Store::upsert_pending`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAttempt {
    pub instance_id: String,
    pub project: String,
    pub zone: String,
    pub instance_name: String,
    /// `email` claim of the identity token.
    pub service_account: String,
    pub seen_at: DateTime<Utc>,
    pub peer_address: Option<String>,
    pub failed_checks: Vec<FailedCheck>,
    /// Summary of the last quote the VM sent, if this attempt carried one.
    pub last_quote: Option<serde_json::Value>,
    /// How many checks the server evaluated (the failed ones included); None from older servers.
    #[serde(default)]
    pub checks_evaluated: Option<u32>,
}

/// A VM that asked for secrets and was denied: what the console lists as "pending".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRecord {
    pub instance_id: String,
    pub project: String,
    pub zone: String,
    pub instance_name: String,
    pub service_account: String,
    /// Time of the first denied attempt; never changes once recorded.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Number of denied attempts recorded.
    pub attempts: u64,
    pub peer_address: Option<String>,
    /// The checks that failed on the latest attempt.
    pub failed_checks: Vec<FailedCheck>,
    /// The latest quote summary seen (kept when a later attempt carries none).
    pub last_quote: Option<serde_json::Value>,
    /// How many checks the latest attempt evaluated; None on records from older servers.
    #[serde(default)]
    pub checks_evaluated: Option<u32>,
}

impl PendingRecord {
    /// The record after `attempt`, given the previously stored one (if any): attempts counted,
    /// first_seen kept, everything else from the latest attempt.
    pub fn after_attempt(previous: Option<PendingRecord>, attempt: &PendingAttempt) -> Self {
        let (first_seen, attempts, previous_quote) = match previous {
            Some(p) => (p.first_seen, p.attempts.saturating_add(1), p.last_quote),
            None => (attempt.seen_at, 1, None),
        };
        PendingRecord {
            instance_id: attempt.instance_id.clone(),
            project: attempt.project.clone(),
            zone: attempt.zone.clone(),
            instance_name: attempt.instance_name.clone(),
            service_account: attempt.service_account.clone(),
            first_seen,
            last_seen: attempt.seen_at,
            attempts,
            peer_address: attempt.peer_address.clone(),
            failed_checks: attempt.failed_checks.clone(),
            last_quote: attempt.last_quote.clone().or(previous_quote),
            checks_evaluated: attempt.checks_evaluated,
        }
    }
}

/// The latest TPM evidence of a VM (DESIGN §6 `attestations`), keyed by instance id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationRecord {
    pub instance_id: String,
    /// EK public area (marshalled TPMT_PUBLIC), base64.
    pub ek_public: String,
    /// AK public area (marshalled TPMT_PUBLIC), base64.
    pub ak_public: String,
    /// TPM_ALG_ID of the quoted PCR bank (0x000B = SHA-256).
    pub pcr_hash_alg: u16,
    /// Quoted PCR index to digest (hex).
    pub pcr_values: BTreeMap<u32, String>,
    /// The session nonce the quote covered, hex.
    pub nonce: String,
    pub quoted_at: DateTime<Utc>,
    /// Whether the quote verified (signature by the AK, nonce, AK bound to the EK).
    pub verified: bool,
    /// The quote's TPMS_ATTEST (base64), so the console can verify it again; empty before one.
    #[serde(default)]
    pub quote_attest: String,
    /// The quote's TPMT_SIGNATURE by the AK (base64); empty before one.
    #[serde(default)]
    pub quote_signature: String,
    /// The token server's signature (its receipt key) over every field above; `None` on records
    /// written before records were signed, which the console refuses.
    #[serde(default)]
    pub server_signature: Option<RecordSignature>,
}

impl AttestationRecord {
    /// The fields the server's signature covers.
    pub fn signed_fields(&self) -> AttestationFields<'_> {
        AttestationFields {
            instance_id: &self.instance_id,
            ek_public: &self.ek_public,
            ak_public: &self.ak_public,
            pcr_hash_alg: self.pcr_hash_alg,
            pcr_values: &self.pcr_values,
            nonce: &self.nonce,
            quoted_at: self.quoted_at,
            verified: self.verified,
            quote_attest: &self.quote_attest,
            quote_signature: &self.quote_signature,
        }
    }

    /// Signs the record with the server's receipt key (replacing any earlier signature).
    pub fn sign(&mut self, key: &ed25519_dalek::SigningKey) {
        self.server_signature = Some(self.signed_fields().sign(key));
    }

    /// Checks the server's signature and re-verifies the quote; returns the verified PCR values.
    pub fn verify(
        &self,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<BTreeMap<u32, Vec<u8>>, RecordCheckError> {
        self.signed_fields()
            .verify(self.server_signature.as_ref(), key)
    }
}

/// How far a session has got. Steps only move forward, each exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStep {
    /// `BeginSession` issued the nonce.
    Begun,
    /// `Attest` issued the MakeCredential challenge.
    Attested,
    /// `ProveAttestation` verified the credential and the quote.
    Proven,
    /// `GetToken` released the secrets: the session is spent.
    Consumed,
}

impl SessionStep {
    /// The stable lowercase name stored in key columns.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStep::Begun => "begun",
            SessionStep::Attested => "attested",
            SessionStep::Proven => "proven",
            SessionStep::Consumed => "consumed",
        }
    }
}

/// A protocol session (DESIGN §4): single use, short-lived, bound to one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub session_id: String,
    pub instance_id: String,
    /// The 32-byte challenge nonce, hex.
    pub nonce: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub step: SessionStep,
    /// SHA-256 of the MakeCredential secret, hex; set when the session reaches `Attested`.
    pub credential_digest: Option<String>,
    /// TPM_ALG_ID of the PCR bank asked for.
    pub pcr_hash_alg: u16,
    /// PCR indices the quote must cover.
    pub pcr_selection: Vec<u32>,
    /// The keys `Attest` accepted; set when the session reaches `Attested`.
    #[serde(default)]
    pub attestation: Option<SessionAttestation>,
    /// The quote `ProveAttestation` verified; set when the session reaches `Proven`.
    #[serde(default)]
    pub quote: Option<SessionQuote>,
}

/// The EK and AK a session's `Attest` step accepted (what later steps verify against).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAttestation {
    /// EK public area as the client sent it (TPM2B_PUBLIC), base64.
    pub ek_public: String,
    /// Where the EK was checked.
    pub ek_source: EkSource,
    /// AK public area as the client sent it (TPM2B_PUBLIC), base64.
    pub ak_public: String,
}

/// The quote a session's `ProveAttestation` step verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionQuote {
    /// TPM_ALG_ID of the quoted bank.
    pub pcr_hash_alg: u16,
    /// The PCR values the quote's digest was verified against, index to lower-case hex.
    pub pcr_values: BTreeMap<u32, String>,
    pub verified_at: DateTime<Utc>,
}

impl SessionRecord {
    /// Whether the session can no longer be used at `now` (expiry is exclusive).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// Changes applied together with a session step (fields left `None` keep their value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionUpdate {
    pub credential_digest: Option<String>,
    pub attestation: Option<SessionAttestation>,
    pub quote: Option<SessionQuote>,
}

/// A revocation of an approval: why, when, and the revision it must still be at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub reason: String,
    pub at: DateTime<Utc>,
    pub expected_revision: u64,
}

impl Revocation {
    pub fn new(reason: impl Into<String>, at: DateTime<Utc>, expected_revision: u64) -> Self {
        Revocation {
            reason: reason.into(),
            at,
            expected_revision,
        }
    }
}

/// One step of a session: from `from` to `to` (forward only), applying `update`, at `now` (which
/// must be before the session's expiry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepChange {
    pub from: SessionStep,
    pub to: SessionStep,
    pub update: SessionUpdate,
    pub now: DateTime<Utc>,
}

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Approved,
    Revoked,
    Released,
    Denied,
    Attested,
    PendingRemoved,
}

impl EventKind {
    /// The stable lowercase name stored in key columns.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Approved => "approved",
            EventKind::Revoked => "revoked",
            EventKind::Released => "released",
            EventKind::Denied => "denied",
            EventKind::Attested => "attested",
            EventKind::PendingRemoved => "pending_removed",
        }
    }
}

/// One entry of the append-only audit trail (DESIGN §6 `events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Time-ordered id; sorting ids as text sorts events by time.
    pub id: EventId,
    pub time: DateTime<Utc>,
    pub kind: EventKind,
    pub instance_id: String,
    /// Who acted: the approver key id, or `server`.
    pub actor: String,
    /// Kind-specific detail (failed checks, secret names, ...). Never secret material.
    pub detail: EventDetail,
    /// Server-signed receipt over the evidence digest, for releases.
    pub receipt: Option<serde_json::Value>,
}

impl EventRecord {
    /// A new event at `time` with a fresh id.
    pub fn new(
        time: DateTime<Utc>,
        kind: EventKind,
        instance_id: impl Into<String>,
        actor: impl Into<String>,
        detail: EventDetail,
    ) -> Self {
        EventRecord {
            id: EventId::generate(time),
            time,
            kind,
            instance_id: instance_id.into(),
            actor: actor.into(),
            detail,
            receipt: None,
        }
    }
}

/// Which events [`crate::Store::list_events`] returns: newest first, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events of this instance.
    pub instance_id: Option<String>,
    /// Only events at or after this time (millisecond resolution).
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
}

impl EventQuery {
    /// The newest `limit` events of every instance.
    pub fn latest(limit: usize) -> Self {
        EventQuery {
            instance_id: None,
            since: None,
            limit,
        }
    }

    pub fn for_instance(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = Some(instance_id.into());
        self
    }

    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }
}
