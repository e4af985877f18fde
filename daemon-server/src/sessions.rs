//! `BeginSession`: a fresh single-use nonce bound to the caller's instance, stored so that any server
//! replica can serve the session's later steps and a restart loses nothing.

use chrono::{DateTime, Utc};
use rand::Rng;
use tokendist_core::identity::IdentityClaims;
use tokendist_proto::v1 as pb;
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

/// Why `load_bound` refuses a session opened by another instance (GetToken turns it into a denial).
pub const OTHER_INSTANCE: &str = "session belongs to another instance";

/// Loads a session for `GetToken`/attestation steps and checks it belongs to the caller and is live.
pub async fn load_for(
    state: &ServerState,
    session_id: &str,
    instance_id: &str,
) -> Result<SessionRecord, ServiceError> {
    let session = load_bound(state, session_id, instance_id).await?;
    if session.step == SessionStep::Consumed {
        return Err(ServiceError::FailedPrecondition(
            "session already used; call BeginSession again".into(),
        ));
    }
    if session.is_expired(state.now()) {
        return Err(ServiceError::FailedPrecondition(
            "session expired; call BeginSession again".into(),
        ));
    }
    Ok(session)
}

/// Loads a session and checks only that it exists and belongs to the caller (any step, expired or
/// not): for steps that judge a used session themselves (`ProveAttestation`'s replay denial).
pub async fn load_bound(
    state: &ServerState,
    session_id: &str,
    instance_id: &str,
) -> Result<SessionRecord, ServiceError> {
    if session_id.len() != 32 || !session_id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ServiceError::InvalidArgument(
            "session_id must be the 32 hex digits BeginSession returned".into(),
        ));
    }
    let session = state
        .store
        .get_session(session_id)
        .await
        .map_err(from_store)?
        .ok_or_else(|| {
            ServiceError::FailedPrecondition("unknown session; call BeginSession".into())
        })?;
    if session.instance_id != instance_id {
        return Err(ServiceError::FailedPrecondition(OTHER_INSTANCE.into()));
    }
    Ok(session)
}
