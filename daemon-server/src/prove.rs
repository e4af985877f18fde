//! `ProveAttestation`: in an `Attested` session of its own instance, the VM returns the credential its
//! TPM activated and a quote (TPM2B_ATTEST + TPMT_SIGNATURE) by the session's AK over the session
//! nonce. The server checks SHA-256 of the secret against the session (constant time) or denies
//! `tpm.ak`; verifies the quote against the approval's PCR policy, or, for a VM without one, against
//! the PCR values the client reports (so they are on record for Alice), or denies `tpm.quote`; then
//! moves the session to `Proven`, records the quote and an `Attested` event. A second proof of the
//! same session is a replay: DENY `tpm.quote` ("nonce already used").

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokendist_core::approval::PcrPolicy;
use tokendist_core::checks;
use tokendist_core::policy::{describe_pcrs, pcrs_that_differ};
use tokendist_core::tpm::{QuoteError, TpmtPublic, marshal, verify_quote};
use tokendist_core::verdict::CheckResult;
use tokendist_proto::v1 as pb;
use tokendist_store::records::{
    AttestationRecord, EventKind, EventRecord, SessionQuote, SessionRecord, SessionStep,
    SessionUpdate, StepChange,
};
use tokendist_store::{AttestedDetail, EventDetail, PcrPolicySource, StoreError};

use crate::attest::unquoted_record;
use crate::denials::deny;
use crate::sessions::{self, RequestedSession, SessionRefusal, StepCall};
use crate::state::ServerState;
use crate::status::ServiceError;
use crate::store_errors::from_store;

/// TPM_ALG_SHA256: quotes are verified in this bank only.
const SHA256_BANK: u16 = 0x000B;

/// The PCR values a quote must match, and where they came from.
struct Expected {
    values: BTreeMap<u32, Vec<u8>>,
    from_approval: bool,
}

/// Serves `ProveAttestation` for an authenticated (and rate-limited) caller.
pub async fn prove(call: StepCall<pb::ProveRequest>) -> Result<pb::ProveResponse, ServiceError> {
    let (state, claims, peer, session, request) = call.into_parts();
    let (state, claims, peer, request) = (&state, &claims, peer.as_ref(), &request);
    let instance_id = &claims.compute_engine.instance_id;
    let RequestedSession {
        record: session,
        nonce,
    } = session.bound(instance_id)?;
    let summary = quote_summary(&session, request);
    let replay = || {
        CheckResult::fail(
            checks::TPM_QUOTE,
            "nonce already used: this session was proven before; call BeginSession again",
        )
    };
    match session.step {
        SessionStep::Begun => return Err(SessionRefusal::NotAttested.into()),
        SessionStep::Proven | SessionStep::Consumed => {
            return Err(deny(state, claims, peer, replay(), Some(summary)).await);
        }
        SessionStep::Attested => {}
    }
    if session.is_expired(state.now()) {
        return Err(SessionRefusal::Expired.into());
    }

    if !credential_matches(&session, &request.activated_secret) {
        let check = CheckResult::fail(
            checks::TPM_AK,
            "credential not activated by the TPM holding this EK",
        );
        return Err(deny(state, claims, peer, check, Some(summary)).await);
    }

    let ak = session_ak(&session)?;
    let attest = marshal::tpm2b_content(&request.quote_attest, "TPM2B_ATTEST").map_err(|e| {
        ServiceError::InvalidArgument(format!("quote_attest is not a TPM2B_ATTEST: {e}"))
    })?;
    let reported = reported_values(request)?;
    let policy = state
        .store
        .get_approval(instance_id)
        .await
        .map_err(from_store)?
        .and_then(|approval| approval.pcr_policy);
    let expected = match expected_values(&session, policy, &reported) {
        Ok(expected) => expected,
        Err(reason) => {
            let check = CheckResult::fail(checks::TPM_QUOTE, reason);
            return Err(deny(state, claims, peer, check, Some(summary)).await);
        }
    };
    if let Err(error) = verify_quote(
        &ak,
        attest,
        &request.quote_signature,
        &nonce,
        &expected.values,
    ) {
        if let QuoteError::MalformedAttest(e) | QuoteError::MalformedSignature(e) = &error {
            return Err(ServiceError::InvalidArgument(format!(
                "quote is malformed: {e}"
            )));
        }
        let reason = quote_failure(&error, &ak, attest, request, &nonce, &expected);
        record_quote(
            state,
            &session,
            &reported,
            false,
            attest,
            &request.quote_signature,
        )
        .await;
        let check = CheckResult::fail(checks::TPM_QUOTE, reason);
        return Err(deny(state, claims, peer, check, Some(summary)).await);
    }

    let now = state.now();
    let pcr_values: BTreeMap<u32, String> = expected
        .values
        .iter()
        .map(|(index, value)| (*index, hex::encode(value)))
        .collect();
    let update = SessionUpdate {
        quote: Some(SessionQuote {
            pcr_hash_alg: session.pcr_hash_alg,
            pcr_values: pcr_values.clone(),
            verified_at: now,
        }),
        ..SessionUpdate::default()
    };
    let advanced = state
        .store
        .advance_session(
            &session.session_id,
            StepChange {
                from: SessionStep::Attested,
                to: SessionStep::Proven,
                update,
                now,
            },
        )
        .await;
    match advanced {
        Ok(_) => {}
        // Another request proved this session first: this one is the replay.
        Err(StoreError::Conflict { .. }) => {
            return Err(deny(state, claims, peer, replay(), Some(summary)).await);
        }
        Err(other) => return Err(from_store(other)),
    }
    record_quote(
        state,
        &session,
        &expected.values,
        true,
        attest,
        &request.quote_signature,
    )
    .await;
    let event = EventRecord::new(
        now,
        EventKind::Attested,
        instance_id.clone(),
        "server",
        EventDetail::Attested(AttestedDetail {
            session_id: session.session_id.clone(),
            ek_source: session.attestation.as_ref().map(|a| a.ek_source),
            pcr_hash_alg: session.pcr_hash_alg,
            pcr_values,
            pcr_policy: if expected.from_approval {
                PcrPolicySource::Approval
            } else {
                PcrPolicySource::Reported
            },
        }),
    );
    state.store.append_event(&event).await.map_err(from_store)?;
    tracing::info!(instance_id, session = %session.session_id, "attestation proven");
    Ok(pb::ProveResponse {
        valid_until_unix: session.expires_at.timestamp(),
    })
}

/// Whether SHA-256(`activated`) equals the session's credential digest, compared in constant time.
fn credential_matches(session: &SessionRecord, activated: &[u8]) -> bool {
    let Some(stored) = session
        .credential_digest
        .as_deref()
        .and_then(|digest| hex::decode(digest).ok())
    else {
        return false;
    };
    let presented = Sha256::digest(activated);
    stored.len() == presented.len()
        && stored
            .iter()
            .zip(presented.iter())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

fn session_ak(session: &SessionRecord) -> Result<TpmtPublic, ServiceError> {
    let attestation = session.attestation.as_ref().ok_or_else(|| {
        sessions::unreadable_session(&session.session_id, "it is attested but keeps no AK")
    })?;
    STANDARD
        .decode(&attestation.ak_public)
        .map_err(|e| e.to_string())
        .and_then(|bytes| TpmtPublic::from_tpm2b(&bytes).map_err(|e| e.to_string()))
        .map_err(|e| {
            sessions::unreadable_session(
                &session.session_id,
                &format!("it keeps an unreadable AK: {e}"),
            )
        })
}

fn reported_values(request: &pb::ProveRequest) -> Result<BTreeMap<u32, Vec<u8>>, ServiceError> {
    if let Some((index, value)) = request.pcr_values.iter().find(|(_, v)| v.len() != 32) {
        return Err(ServiceError::InvalidArgument(format!(
            "pcr_values[{index}] is {} bytes; SHA-256 PCR values are 32",
            value.len()
        )));
    }
    Ok(request
        .pcr_values
        .iter()
        .map(|(index, value)| (*index, value.clone()))
        .collect())
}

/// The approval's PCR policy when there is one, else the client's reported values; either way
/// exactly the PCRs the session asked for, in the SHA-256 bank. `Err` is a `tpm.quote` reason.
fn expected_values(
    session: &SessionRecord,
    policy: Option<PcrPolicy>,
    reported: &BTreeMap<u32, Vec<u8>>,
) -> Result<Expected, String> {
    if session.pcr_hash_alg != SHA256_BANK {
        return Err(format!(
            "PCR bank 0x{:04x} is not supported; quotes are verified in the SHA-256 bank",
            session.pcr_hash_alg
        ));
    }
    let (values, from_approval) = match policy {
        Some(policy) => {
            let mut values = BTreeMap::new();
            for (index, value) in &policy.pcrs {
                let bytes = hex::decode(value.trim())
                    .map_err(|_| format!("the approved value of PCR {index} is not hex"))?;
                values.insert(*index, bytes);
            }
            (values, true)
        }
        None => (reported.clone(), false),
    };
    let mut asked = session.pcr_selection.clone();
    asked.sort_unstable();
    asked.dedup();
    let covered: Vec<u32> = values.keys().copied().collect();
    if covered != asked {
        return Err(format!(
            "the quote must cover exactly PCRs {asked:?} (asked for in BeginSession), not {covered:?}"
        ));
    }
    Ok(Expected {
        values,
        from_approval,
    })
}

/// The `tpm.quote` reason for a failed verification; a PCR mismatch against the approval names the
/// PCRs that differ when the client's reported values are what the TPM quoted.
fn quote_failure(
    error: &QuoteError,
    ak: &TpmtPublic,
    attest: &[u8],
    request: &pb::ProveRequest,
    nonce: &[u8],
    expected: &Expected,
) -> String {
    if *error != QuoteError::PcrDigestMismatch || !expected.from_approval {
        return error.to_string();
    }
    let reported: BTreeMap<u32, Vec<u8>> = request
        .pcr_values
        .iter()
        .map(|(index, value)| (*index, value.clone()))
        .collect();
    if verify_quote(ak, attest, &request.quote_signature, nonce, &reported).is_err() {
        return "the quoted PCR values differ from the approved PCR policy (the reported values \
                do not match the quote either)"
            .into();
    }
    let as_hex = |values: &BTreeMap<u32, Vec<u8>>| -> BTreeMap<u32, String> {
        values.iter().map(|(i, v)| (*i, hex::encode(v))).collect()
    };
    let differing = pcrs_that_differ(&as_hex(&expected.values), &as_hex(&reported));
    format!("{} from the approved PCR policy", describe_pcrs(&differing))
}

/// What a pending VM's record shows about the quote it sent.
fn quote_summary(session: &SessionRecord, request: &pb::ProveRequest) -> serde_json::Value {
    let values: BTreeMap<u32, String> = request
        .pcr_values
        .iter()
        .map(|(index, value)| (*index, hex::encode(value)))
        .collect();
    serde_json::json!({
        "session_id": session.session_id,
        "nonce": session.nonce,
        "pcr_hash_alg": session.pcr_hash_alg,
        "pcr_values": values,
    })
}

/// Records the quote (its TPMS_ATTEST and signature too, so the console can verify it again) in the
/// instance's attestation record, signed with the server's receipt key (logged, not fatal, on
/// failure: the decision stands either way).
async fn record_quote(
    state: &ServerState,
    session: &SessionRecord,
    values: &BTreeMap<u32, Vec<u8>>,
    verified: bool,
    attest: &[u8],
    quote_signature: &[u8],
) {
    let now: DateTime<Utc> = state.now();
    let Some(attestation) = &session.attestation else {
        return;
    };
    let public_of = |tpm2b: &str| {
        STANDARD
            .decode(tpm2b)
            .ok()
            .and_then(|bytes| {
                marshal::tpm2b_content(&bytes, "TPM2B_PUBLIC")
                    .ok()
                    .map(|c| STANDARD.encode(c))
            })
            .unwrap_or_default()
    };
    let mut record = AttestationRecord {
        pcr_values: values
            .iter()
            .map(|(index, value)| (*index, hex::encode(value)))
            .collect(),
        verified,
        quote_attest: STANDARD.encode(attest),
        quote_signature: STANDARD.encode(quote_signature),
        ..unquoted_record(
            session,
            public_of(&attestation.ek_public),
            public_of(&attestation.ak_public),
            now,
        )
    };
    record.sign(&state.live().keys.receipt_key);
    if let Err(error) = state.store.put_attestation(&record).await {
        tracing::error!(instance_id = %session.instance_id, %error, "could not record the quote");
        state.metrics.observe_dependency_error("store");
    }
}
