//! `Attest`: the VM presents its EK and AK (TPM2B_PUBLIC each, plus the EK certificate if it has one)
//! in a `Begun` session of its own instance. The server accepts the EK ([`crate::ek_check`]) or denies
//! `tpm.ek`, checks the AK template or denies `tpm.ak`, and answers with a MakeCredential challenge
//! (TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET) over a fresh 32-byte secret that only the TPM holding
//! that EK can recover for that AK's Name. The session moves to `Attested` keeping SHA-256 of the
//! secret (never the secret) and both publics; the instance's attestation record gets the new keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use sha2::{Digest, Sha256};
use tokendist_core::checks;
use tokendist_core::tpm::{TpmtPublic, check_ak_template, make_credential, marshal};
use tokendist_core::verdict::CheckResult;
use tokendist_proto::v1 as pb;
use tokendist_store::records::{
    AttestationRecord, SessionAttestation, SessionRecord, SessionStep, SessionUpdate, StepChange,
};
use zeroize::Zeroizing;

use crate::denials::deny;
use crate::ek_check::{EkRefusal, accept_ek};
use crate::sessions::{SessionRefusal, StepCall};
use crate::state::ServerState;
use crate::status::{Dependency, ServiceError};
use crate::store_errors::from_store;

/// Parses a TPM2B_PUBLIC field of a request; malformed input is INVALID_ARGUMENT naming the field.
pub fn parse_public(bytes: &[u8], field: &str) -> Result<TpmtPublic, ServiceError> {
    if bytes.is_empty() {
        return Err(ServiceError::InvalidArgument(format!(
            "{field} is empty: send the key's TPM2B_PUBLIC"
        )));
    }
    TpmtPublic::from_tpm2b(bytes).map_err(|error| {
        ServiceError::InvalidArgument(format!("{field} is not a valid TPM2B_PUBLIC: {error}"))
    })
}

/// Serves `Attest` for an authenticated (and rate-limited) caller.
pub async fn attest(call: StepCall<pb::AttestRequest>) -> Result<pb::AttestResponse, ServiceError> {
    let (state, claims, peer, session, request) = call.into_parts();
    let (state, claims, peer, request) = (&state, &claims, peer.as_ref(), &request);
    let live = state.live();
    let instance_id = &claims.compute_engine.instance_id;
    let session = session.live(instance_id, state.now())?.record;
    if session.step != SessionStep::Begun {
        return Err(SessionRefusal::AlreadyAt(session.step).into());
    }
    let ek = parse_public(&request.ek_public, "ek_public")?;
    let ak = parse_public(&request.ak_public, "ak_public")?;

    let ek_source = match accept_ek(state, &live, claims, &ek, &request.ek_certificate).await {
        Ok(source) => source,
        Err(EkRefusal::Unavailable(api)) => {
            return Err(ServiceError::Unavailable(Dependency::GoogleApi(api)));
        }
        Err(EkRefusal::Denied(reason)) => {
            return Err(deny(
                state,
                claims,
                peer,
                CheckResult::fail(checks::TPM_EK, reason),
                None,
            )
            .await);
        }
    };
    if let Err(error) = check_ak_template(&ak) {
        return Err(deny(
            state,
            claims,
            peer,
            CheckResult::fail(checks::TPM_AK, error.to_string()),
            None,
        )
        .await);
    }

    let ak_name = ak
        .name()
        .map_err(|e| ServiceError::InvalidArgument(format!("ak_public has no Name: {e}")))?;
    let (secret, seed) = {
        let mut rng = rand::rng();
        (
            Zeroizing::new(rng.random::<[u8; 32]>()),
            rng.random::<[u8; 32]>(),
        )
    };
    let (id_object, encrypted_secret) = make_credential(&ek, &ak_name, secret.as_slice(), seed)
        .map_err(|e| {
            ServiceError::InvalidArgument(format!("cannot wrap a credential to ek_public: {e}"))
        })?;
    let credential_blob = marshal::tpm2b(&id_object, "TPM2B_ID_OBJECT")
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let encrypted_secret = marshal::tpm2b(&encrypted_secret, "TPM2B_ENCRYPTED_SECRET")
        .map_err(|e| ServiceError::Internal(e.to_string()))?;

    let update = SessionUpdate {
        credential_digest: Some(hex::encode(Sha256::digest(secret.as_slice()))),
        attestation: Some(SessionAttestation {
            ek_public: STANDARD.encode(&request.ek_public),
            ek_source,
            ak_public: STANDARD.encode(&request.ak_public),
        }),
        quote: None,
    };
    let now = state.now();
    state
        .store
        .advance_session(
            &session.session_id,
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Attested,
                update,
                now,
            },
        )
        .await
        .map_err(from_store)?;
    record_keys(state, &session, &ek, &ak, now).await?;
    tracing::info!(instance_id, session = %session.session_id, ek_source = %ek_source, "attest: credential challenge issued");
    Ok(pb::AttestResponse {
        credential_blob,
        encrypted_secret,
    })
}

/// A new attestation record of the session's instance for these keys (base64 of their TPMT_PUBLIC),
/// without a quote yet; unsigned.
pub fn unquoted_record(
    session: &SessionRecord,
    ek_public: String,
    ak_public: String,
    now: chrono::DateTime<chrono::Utc>,
) -> AttestationRecord {
    AttestationRecord {
        instance_id: session.instance_id.clone(),
        ek_public,
        ak_public,
        pcr_hash_alg: session.pcr_hash_alg,
        pcr_values: Default::default(),
        nonce: session.nonce.clone(),
        quoted_at: now,
        verified: false,
        quote_attest: String::new(),
        quote_signature: String::new(),
        server_signature: None,
    }
}

/// Upserts the instance's attestation record with the EK and AK (keeping its last quote only when
/// they are the ones that made it), signed with the server's receipt key.
async fn record_keys(
    state: &ServerState,
    session: &SessionRecord,
    ek: &TpmtPublic,
    ak: &TpmtPublic,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ServiceError> {
    let marshalled = |public: &TpmtPublic| {
        public
            .marshal()
            .map(|bytes| STANDARD.encode(bytes))
            .map_err(|e| ServiceError::Internal(e.to_string()))
    };
    let previous = state
        .store
        .get_attestation(&session.instance_id)
        .await
        .map_err(from_store)?;
    let (ek_public, ak_public) = (marshalled(ek)?, marshalled(ak)?);
    let mut record = match previous {
        // The same keys: the last quote still belongs to them.
        Some(previous) if previous.ek_public == ek_public && previous.ak_public == ak_public => {
            previous
        }
        // New keys: a quote by an earlier AK says nothing about them, so none is kept.
        _ => unquoted_record(session, ek_public, ak_public, now),
    };
    record.sign(&state.live().keys.receipt_key);
    state
        .store
        .put_attestation(&record)
        .await
        .map_err(from_store)
}
