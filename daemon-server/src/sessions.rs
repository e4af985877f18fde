//! `BeginSession`: a fresh single-use nonce bound to the caller's instance, stored so that any server
//! replica can serve the session's later steps and a restart loses nothing. And [`RequestedSession`]:
//! the session a later step names, read from the store once per request, which says what the step's
//! identity token must carry ([`RequestedSession::token_scope`]: the session's audience). Every
//! later step needs a session; the purge of expired sessions is [`spawn_purger`].

use chrono::{DateTime, Utc};
use rand::Rng;
use tokendist_core::identity::IdentityClaims;
use tokendist_proto::v1 as pb;
use tokendist_store::StoreError;
use tokendist_store::records::{SessionRecord, SessionStep};

use crate::authenticate::TokenScope;
use crate::state::ServerState;
use crate::status::ServiceError;
use crate::store_errors::from_store;

/// TPM_ALG_SHA256.
const SHA256_BANK: u16 = 0x000B;

/// Opens a session for the authenticated caller.
pub async fn begin(
    state: &ServerState,
    claims: &IdentityClaims,
) -> Result<pb::BeginSessionResponse, ServiceError> {
    let live = state.live();
    let now = state.now();
    let instance_id = claims.compute_engine.instance_id.clone();
    let approval = state
        .store
        .get_approval(&instance_id)
        .await
        .map_err(from_store)?;
    let (hash_alg, pcrs, tpm_required) = match &approval {
        Some(approval) => match &approval.pcr_policy {
            Some(policy) => (
                policy.hash_alg,
                policy.pcrs.keys().copied().collect(),
                approval.require_tpm,
            ),
            None => (SHA256_BANK, live.default_pcrs.clone(), approval.require_tpm),
        },
        None => (SHA256_BANK, live.default_pcrs.clone(), true),
    };
    let (session_id, nonce) = {
        let mut rng = rand::rng();
        (
            hex::encode(rng.random::<[u8; 16]>()),
            rng.random::<[u8; 32]>(),
        )
    };
    let ttl =
        chrono::Duration::from_std(live.session_ttl).unwrap_or(chrono::Duration::seconds(120));
    let expires_at: DateTime<Utc> = now + ttl;
    let record = SessionRecord {
        session_id: session_id.clone(),
        instance_id,
        nonce: hex::encode(nonce),
        created_at: now,
        expires_at,
        step: SessionStep::Begun,
        credential_digest: None,
        pcr_hash_alg: hash_alg,
        pcr_selection: pcrs,
        attestation: None,
        quote: None,
    };
    state
        .store
        .create_session(&record)
        .await
        .map_err(from_store)?;
    Ok(pb::BeginSessionResponse {
        session_id,
        nonce: nonce.to_vec(),
        expires_at_unix: expires_at.timestamp(),
        pcr_selection: Some(pb::PcrSelection {
            hash_alg: u32::from(record.pcr_hash_alg),
            pcrs: record.pcr_selection,
        }),
        tpm_required,
    })
}

/// Why a session opened by another instance is refused (GetToken turns it into a denial).
pub const OTHER_INSTANCE: &str = "session belongs to another instance";

/// A session record whose content cannot be used (a nonce that is not hex, an attested session without
/// a readable AK): the store holds something this server did not write. The caller is told to start
/// a new session (a named, retryable refusal, never INTERNAL); the detail goes to the log.
pub fn unreadable_session(session_id: &str, what: &str) -> ServiceError {
    tracing::error!(
        session_id,
        what,
        "session record in the store is unreadable"
    );
    ServiceError::FailedPrecondition(
        "the session record is unreadable; call BeginSession again".into(),
    )
}

/// A session id as `BeginSession` returns it: 32 hex digits.
fn well_formed(session_id: &str) -> bool {
    session_id.len() == 32 && session_id.chars().all(|c| c.is_ascii_hexdigit())
}

fn malformed_id() -> ServiceError {
    ServiceError::InvalidArgument(
        "session_id must be the 32 hex digits BeginSession returned".into(),
    )
}

/// The session a request names, read once: authentication needs its challenge time before the
/// caller is known, and the step then checks the same record against the caller.
#[derive(Debug)]
pub struct RequestedSession {
    id: String,
    read: Result<Option<SessionRecord>, StoreError>,
}

impl RequestedSession {
    /// Reads the session `session_id` names (nothing for an empty or malformed id).
    pub async fn read(state: &ServerState, session_id: &str) -> Self {
        let id = session_id.trim().to_string();
        let read = if well_formed(&id) {
            state.store.get_session(&id).await
        } else {
            Ok(None)
        };
        Self { id, read }
    }

    /// What the step's identity token must carry: the audience with this session's nonce, issued
    /// after its challenge. Decided before authentication, since the audience depends on the
    /// session: no session id (or a malformed one) is INVALID_ARGUMENT, an unknown (or purged) one
    /// FAILED_PRECONDITION, an unreadable store UNAVAILABLE — never UNAUTHENTICATED, which the
    /// client would take for a refusal.
    pub fn token_scope(&mut self) -> Result<TokenScope, ServiceError> {
        if self.id.is_empty() {
            return Err(ServiceError::InvalidArgument(
                "session_id is required: call BeginSession, then send an identity token for the \
                 session's audience (<audience>/session/<hex nonce>)"
                    .into(),
            ));
        }
        if !well_formed(&self.id) {
            return Err(malformed_id());
        }
        if self.read.is_err() {
            // The request ends here: hand the store error over (it is not `Clone`).
            if let Err(error) = std::mem::replace(&mut self.read, Ok(None)) {
                return Err(from_store(error));
            }
        }
        let Ok(Some(session)) = &self.read else {
            return Err(ServiceError::FailedPrecondition(
                "unknown session; call BeginSession".into(),
            ));
        };
        let nonce = hex::decode(&session.nonce)
            .map_err(|_| unreadable_session(&session.session_id, "its nonce is not hex"))?;
        Ok(TokenScope::Session {
            nonce,
            challenge: session.created_at,
        })
    }

    /// The session if it exists and belongs to the caller (any step, expired or not): for steps that
    /// judge a used session themselves (`ProveAttestation`'s replay denial).
    pub fn bound(self, instance_id: &str) -> Result<SessionRecord, ServiceError> {
        if !well_formed(&self.id) {
            return Err(malformed_id());
        }
        let session = self.read.map_err(from_store)?.ok_or_else(|| {
            ServiceError::FailedPrecondition("unknown session; call BeginSession".into())
        })?;
        if session.instance_id != instance_id {
            return Err(ServiceError::FailedPrecondition(OTHER_INSTANCE.into()));
        }
        Ok(session)
    }

    /// The session if it belongs to the caller, is unused and unexpired at `now`.
    pub fn live(
        self,
        instance_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, ServiceError> {
        let session = self.bound(instance_id)?;
        if session.step == SessionStep::Consumed {
            return Err(ServiceError::FailedPrecondition(
                "session already used; call BeginSession again".into(),
            ));
        }
        if session.is_expired(now) {
            return Err(ServiceError::FailedPrecondition(
                "session expired; call BeginSession again".into(),
            ));
        }
        Ok(session)
    }
}

/// Deletes expired sessions every `interval` (the first run at start), on every replica (deleting
/// twice is harmless). Failures are logged; the next run retries.
pub fn spawn_purger(
    store: std::sync::Arc<dyn tokendist_store::Store>,
    interval: std::time::Duration,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match store.purge_expired_sessions(Utc::now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "purged expired sessions"),
                Err(error) => {
                    tracing::warn!(%error, "could not purge expired sessions; retrying later")
                }
            }
        }
    });
}
