//! `BeginSession`: a fresh single-use nonce bound to the caller's instance, stored so that any server
//! replica can serve the session's later steps and a restart loses nothing. And [`RequestedSession`]:
//! the session a later step names, read from the store once per request.

use chrono::{DateTime, Utc};
use rand::Rng;
use tokendist_core::identity::IdentityClaims;
use tokendist_proto::v1 as pb;
use tokendist_store::StoreError;
use tokendist_store::records::{SessionRecord, SessionStep};

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

/// A session id as `BeginSession` returns it: 32 hex digits.
fn well_formed(session_id: &str) -> bool {
    session_id.len() == 32 && session_id.chars().all(|c| c.is_ascii_hexdigit())
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

    /// True when the request named no session.
    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    /// When the session's nonce was issued: a token must not predate it.
    pub fn challenge(&self) -> Option<DateTime<Utc>> {
        self.read
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(|s| s.created_at)
    }

    /// The session if it exists and belongs to the caller (any step, expired or not): for steps that
    /// judge a used session themselves (`ProveAttestation`'s replay denial).
    pub fn bound(self, instance_id: &str) -> Result<SessionRecord, ServiceError> {
        if !well_formed(&self.id) {
            return Err(ServiceError::InvalidArgument(
                "session_id must be the 32 hex digits BeginSession returned".into(),
            ));
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
