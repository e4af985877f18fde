//! `BeginSession`: a fresh single-use nonce bound to the caller's instance, stored so that any server
//! replica can serve the session's later steps and a restart loses nothing. And [`RequestedSession`]:
//! the session a later step names, read from the store once per request, which says what the step's
//! identity token must carry ([`RequestedSession::token_scope`]: the session's audience). Every
//! later step needs a session; [`SessionRefusal`] says why one is refused; the purge of expired
//! sessions is [`spawn_purger`].

use chrono::{DateTime, Utc};
use rand::Rng;
use tokendist_core::identity::IdentityClaims;
use tokendist_proto::v1 as pb;
use tokendist_store::records::{SessionRecord, SessionStep};

use crate::authenticate::TokenScope;
use crate::state::ServerState;
use crate::status::ServiceError;
use crate::store_errors::from_store;
use crate::tls::PeerInfo;

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

/// An authenticated session step as its handler (`Attest`, `ProveAttestation`, `GetToken`) gets it:
/// the shared state, the caller's verified claims and peer, the session its request names, and the
/// request.
#[derive(Debug)]
pub struct StepCall<T> {
    pub state: ServerState,
    pub claims: IdentityClaims,
    pub peer: Option<PeerInfo>,
    pub session: RequestedSession,
    pub request: T,
}

impl<T> StepCall<T> {
    /// The call's parts, for handlers that borrow some and consume others.
    pub fn into_parts(
        self,
    ) -> (
        ServerState,
        IdentityClaims,
        Option<PeerInfo>,
        RequestedSession,
        T,
    ) {
        (
            self.state,
            self.claims,
            self.peer,
            self.session,
            self.request,
        )
    }
}

/// Why a session step refuses the session a request names (FAILED_PRECONDITION: the client begins a
/// new session). Decided here and in the store mapping; the caller's message is built in
/// [`crate::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No such session (never begun, or purged after expiry).
    Unknown,
    /// Its expiry has passed.
    Expired,
    /// A `GetToken` spent it.
    Used,
    /// Another request took the step first, or the steps came out of order.
    UsedOrOutOfOrder,
    /// `Attest` in a session that is already at this step.
    AlreadyAt(SessionStep),
    /// `ProveAttestation` before `Attest`.
    NotAttested,
    /// It was opened by another instance (GetToken turns this into a `tpm.quote` denial).
    OtherInstance,
    /// The stored record holds something this server did not write (logged where it is found).
    Unreadable,
}

impl From<SessionRefusal> for ServiceError {
    fn from(refusal: SessionRefusal) -> Self {
        ServiceError::Session(refusal)
    }
}

/// A session record whose content cannot be used (a nonce that is not hex, an attested session without
/// a readable AK): the store holds something this server did not write. The caller is told to start
/// a new session (a named, retryable refusal, never INTERNAL); the detail goes to the log.
pub fn unreadable_session(session_id: &str, what: &str) -> ServiceError {
    tracing::error!(
        session_id,
        what,
        "session record in the store is unreadable"
    );
    ServiceError::Session(SessionRefusal::Unreadable)
}

/// The session id a request names, checked for form (32 hex digits, as `BeginSession` returns it)
/// before anything is verified or read.
pub fn requested_id(session_id: &str) -> Result<&str, ServiceError> {
    let id = session_id.trim();
    if id.is_empty() {
        return Err(ServiceError::InvalidArgument(
            "session_id is required: call BeginSession, then send an identity token for the \
             session's audience (<audience>/session/<hex nonce>)"
                .into(),
        ));
    }
    if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ServiceError::InvalidArgument(
            "session_id must be the 32 hex digits BeginSession returned".into(),
        ));
    }
    Ok(id)
}

/// The session a request names, read once (after the caller's token passed every check that does
/// not depend on the session): it says what the step's token must carry
/// ([`RequestedSession::token_scope`]), and the step then checks it against the caller.
#[derive(Debug)]
pub struct RequestedSession {
    pub record: SessionRecord,
    /// The session's nonce, decoded once.
    pub nonce: Vec<u8>,
}

impl RequestedSession {
    /// Reads the session with the (well-formed) id `id`: an unknown one is
    /// [`SessionRefusal::Unknown`], an unreadable store UNAVAILABLE.
    pub async fn read(state: &ServerState, id: &str) -> Result<Self, ServiceError> {
        let record = state
            .store
            .get_session(id)
            .await
            .map_err(from_store)?
            .ok_or(SessionRefusal::Unknown)?;
        let nonce = hex::decode(&record.nonce)
            .map_err(|_| unreadable_session(&record.session_id, "its nonce is not hex"))?;
        Ok(Self { record, nonce })
    }

    /// What the step's identity token must carry: the audience with this session's nonce, issued
    /// after its challenge.
    pub fn token_scope(&self) -> TokenScope {
        TokenScope::Session {
            nonce: self.nonce.clone(),
            challenge: self.record.created_at,
        }
    }

    /// The session if it belongs to the caller (any step, expired or not): for steps that judge a
    /// used session themselves (`ProveAttestation`'s replay denial).
    pub fn bound(self, instance_id: &str) -> Result<Self, SessionRefusal> {
        if self.record.instance_id != instance_id {
            return Err(SessionRefusal::OtherInstance);
        }
        Ok(self)
    }

    /// The session if it belongs to the caller, is unused and unexpired at `now`.
    pub fn live(self, instance_id: &str, now: DateTime<Utc>) -> Result<Self, SessionRefusal> {
        let session = self.bound(instance_id)?;
        if session.record.step == SessionStep::Consumed {
            return Err(SessionRefusal::Used);
        }
        if session.record.is_expired(now) {
            return Err(SessionRefusal::Expired);
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
