//! `GetToken`: the release decision. Looks up the caller's approval, gathers live evidence
//! in one concurrent round (instance, boot disk, project metadata, audit log), adds the caller's `Proven` TPM
//! session (if any) as
//! `Evidence.tpm`, runs `core::policy::evaluate` — the very checks the console shows — and either
//! releases the secrets with a signed receipt or denies with the failed checks. Every GetToken needs a
//! live session of the caller's instance (the token's audience names it) and spends it before
//! deciding, so each token and session serves exactly one decision, on any replica. A `require_tpm`
//! approval without a proven session fails the `tpm.*` checks (closed); a session of another
//! instance is a `tpm.quote` denial (and stays untouched). Every decision is recorded in `events`; every
//! denial upserts the instance's `pending` record. A dependency outage is UNAVAILABLE (the client
//! retries) unless a check fails for another reason.

use tokendist_core::approval::{Approval, StoredSecret};
use tokendist_core::checks;
use tokendist_core::evidence::{Evidence, FetchErrorKind, PeerEvidence};
use tokendist_core::identity::IdentityClaims;
use tokendist_core::receipt::{Receipt, evidence_digest};
use tokendist_core::server_seal;
use tokendist_core::verdict::{CheckResult, Outcome, Verdict};
use tokendist_gcp::{KnownVm, ShieldedIdentityRead};
use tokendist_proto::v1 as pb;
use tokendist_store::records::{EventKind, EventRecord, SessionStep, SessionUpdate, StepChange};
use tokendist_store::{EventDetail, EventId, ReleasedDetail, StoreError};
use zeroize::Zeroizing;

use crate::approval_cache::OpenedSecret;
use crate::config::EnforcementConfig;
use crate::denials::{deny, record_denial};
use crate::sessions::{SessionRefusal, StepCall};
use crate::state::{LiveSettings, ServerState};
use crate::status::{Dependency, ServiceError};
use crate::store_errors::from_store;
use crate::tpm_session;
use crate::unapproved;

/// Checks whose failure is definitive even while a dependency is down.
const DEFINITIVE: [&str; 4] = [
    checks::APPROVAL_STATE,
    checks::APPROVAL_SIGNATURE,
    checks::IDENTITY_INSTANCE,
    checks::IDENTITY_SERVICE_ACCOUNT,
];

/// Decides a `GetToken` for an authenticated caller.
pub async fn get_token(
    call: StepCall<pb::TokenRequest>,
) -> Result<pb::TokenResponse, ServiceError> {
    let (state, claims, peer, session, _) = call.into_parts();
    let (state, claims, peer) = (&state, &claims, peer.as_ref());
    let live = state.live();
    let instance_id = claims.compute_engine.instance_id.clone();
    let session = match session.live(&instance_id, state.now()) {
        Ok(session) => session.record,
        // Another VM's attested session vouches for that VM's TPM, not for this caller. It is
        // left untouched (its own VM may still use it).
        Err(SessionRefusal::OtherInstance) => {
            let check = CheckResult::fail(
                checks::TPM_QUOTE,
                "the attestation session belongs to another instance; its quote does not vouch for this caller",
            );
            return Err(deny(state, claims, peer, check, None).await);
        }
        Err(other) => return Err(other.into()),
    };
    // Single use (DESIGN §4): this GetToken spends the session, and with it the identity token
    // minted for its audience, whatever the decision. A copy of the token is worthless afterwards
    // on every replica, even once an approval arrives or a failed check heals.
    spend_session(state, &session).await?;
    let approval = match state.store.get_approval(&instance_id).await {
        Ok(Some(approval)) => approval,
        Ok(None) => {
            state.approvals.forget(&instance_id);
            let checks = vec![CheckResult::fail(
                checks::APPROVAL_STATE,
                "no approval for this instance; waiting for review",
            )];
            let mut recorded = checks.clone();
            let caller = unapproved::Caller {
                claims,
                peer,
                session: &session,
            };
            recorded.extend(unapproved::review(state, &live, caller).await);
            record_denial(state, claims, peer, &recorded, None).await;
            return Err(ServiceError::Denied {
                checks,
                pending_approval: true,
            });
        }
        Err(StoreError::Corrupt { what, reason }) => {
            state.approvals.forget(&instance_id);
            tracing::error!(instance_id, %what, %reason, "approval record in the store is unreadable; denying");
            let check = CheckResult::fail(
                checks::APPROVAL_SIGNATURE,
                "the stored approval is unreadable (corrupt record)",
            );
            return Err(deny(state, claims, peer, check, None).await);
        }
        Err(other) => return Err(from_store(other)),
    };

    // A revoked approval is denied whatever the live evidence says, and its client keeps retrying:
    // the full verdict (what the pending record and the denial show) is made at most once a minute
    // per revocation, as an unapproved VM's review is, so a revoked VM's retries spend no Google
    // quota. A new approval is a new revision and never meets this.
    let revoked_key = approval
        .revoked_at
        .is_some()
        .then(|| format!("{instance_id}@{}", approval.revision));
    if let Some(key) = &revoked_key
        && let Some(checks) = state.revoked_verdicts.recent(key, state.now())
    {
        state.approvals.forget(&instance_id);
        record_denial(state, claims, peer, &checks, None).await;
        return Err(ServiceError::Denied {
            checks,
            pending_approval: false,
        });
    }

    let now = state.now();
    let known = known_vm(&approval, claims);
    // The audit watch's state when fresh enough, else the direct read of the audit log.
    let watched = crate::watch::release_source::fresh_evidence(state, &approval).await;
    let collect = async {
        if watched.is_some() {
            state
                .collector
                .collect_known_without_audit_log(&known, ShieldedIdentityRead::Skip)
                .await
        } else {
            state
                .collector
                .collect_known(&known, ShieldedIdentityRead::Skip)
                .await
        }
    };
    let vm = match tokio::time::timeout(live.evidence_timeout, collect).await {
        Ok(vm) => vm,
        Err(_) => {
            state.metrics.observe_dependency_error("evidence");
            return Err(ServiceError::Unavailable(Dependency::EvidenceTimeout));
        }
    };
    let peer_evidence = PeerEvidence {
        address: peer.map(|p| p.address.ip().to_string()),
        client_cert_serial: peer.and_then(|p| p.client_cert_serial.clone()),
    };
    let (mut evidence, _) = vm.into_evidence(Ok(claims.clone()), peer_evidence, now);
    if let Some(watched) = watched {
        evidence.audit_log = Ok(watched.failing);
        evidence.data_access = Ok(watched.data_access);
    }
    evidence.tpm = tpm_session::evidence_of(&session);
    let signature = state.approvals.signature(&approval, &live, || {
        tokendist_core::policy::signature_check(&approval, &live.policy)
    });
    let mut verdict = tokendist_core::policy::evaluate_with_signature(
        &approval,
        &evidence,
        &live.policy,
        signature,
    );
    if approval.revoked_at.is_some() {
        state.approvals.forget(&instance_id);
    }
    apply_enforcement(&mut verdict, &live.enforce);

    if !verdict.allowed() {
        let definitive = verdict
            .failed_names()
            .iter()
            .any(|name| DEFINITIVE.contains(name));
        if let Some(api) = unavailable_dependency(&evidence).filter(|_| !definitive) {
            return Err(ServiceError::Unavailable(Dependency::GoogleApi(api)));
        }
        if let Some(key) = &revoked_key {
            state
                .revoked_verdicts
                .keep(key, now, verdict.checks.clone());
        }
        record_denial(state, claims, peer, &verdict.checks, None).await;
        return Err(ServiceError::Denied {
            checks: verdict.checks,
            pending_approval: false,
        });
    }

    let opened = state
        .approvals
        .secrets(&approval, &live, || open_secrets(&approval, &live))?;
    let names: Vec<String> = opened.iter().map(|s| s.name.clone()).collect();
    let event_id = EventId::generate(now);
    let mut event = EventRecord::new(
        now,
        EventKind::Released,
        instance_id.clone(),
        "server",
        EventDetail::Released(ReleasedDetail {
            secrets: names.clone(),
            approval_revision: approval.revision,
            peer: evidence.peer.address.clone(),
            receipt_id: Some(event_id.to_string()),
        }),
    );
    event.id = event_id;
    let receipt = Receipt::issue(
        &live.keys.receipt_key,
        &event.id.to_string(),
        &instance_id,
        names,
        evidence_digest(&evidence, &verdict),
        now,
    );
    event.receipt = serde_json::to_value(&receipt).ok();
    // The release is recorded before anything leaves: no record, no release.
    // One atomic write: the event and the end of the instance's pending record.
    state
        .store
        .record_release(&event)
        .await
        .map_err(from_store)?;
    tracing::info!(instance_id, event = %event.id, secrets = receipt.secrets.len(), "released secrets");
    let signature = base64_decode(&receipt.signature);
    let secrets = opened
        .iter()
        .map(|secret| pb::Secret {
            name: secret.name.clone(),
            r#type: secret.secret_type,
            data: secret.data.to_vec(),
            protection: secret.protection,
        })
        .collect();
    Ok(pb::TokenResponse {
        secrets,
        receipt: Some(pb::Receipt {
            event_id: receipt.event_id,
            evidence_digest: hex::decode(&receipt.evidence_digest).unwrap_or_default(),
            signature,
            key_id: receipt.key_id,
            issued_at_unix: receipt.issued_at.timestamp(),
        }),
    })
}

/// The approved VM as known before any Google read: its names from the approval, its creation
/// time from the identity token, its boot disk named after it (Compute names a boot disk created
/// with its instance after the instance; a VM booting from any other disk fails
/// `instance.boot_disk`). The token's claims are checked against the approval by `identity.*`.
fn known_vm<'a>(approval: &'a Approval, claims: &IdentityClaims) -> KnownVm<'a> {
    KnownVm {
        project: &approval.project,
        zone: &approval.zone,
        name: &approval.instance_name,
        instance_id: &approval.instance_id,
        created: instance_created(claims),
        boot_disk: &approval.instance_name,
    }
}

/// The instance's creation time as the identity token states it (whole seconds; the epoch when out
/// of range, which only widens the audit window).
pub(crate) fn instance_created(claims: &IdentityClaims) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(claims.compute_engine.instance_creation_timestamp, 0)
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
}

/// Network pins that the server configuration does not enforce become skips, visibly.
fn apply_enforcement(verdict: &mut Verdict, enforce: &EnforcementConfig) {
    for check in &mut verdict.checks {
        let disabled = (check.name == checks::NETWORK_PEER_IP && !enforce.peer_ip)
            || (check.name == checks::NETWORK_CLIENT_CERT && !enforce.client_cert_serial);
        if disabled && check.is_fail() {
            check.outcome = Outcome::Skipped(
                "pinned by the approval but not enforced by this server's configuration".into(),
            );
        }
    }
}

/// The first Google API that was unavailable while gathering this evidence.
fn unavailable_dependency(evidence: &Evidence) -> Option<String> {
    let errors = [
        evidence.instance.as_ref().err(),
        evidence.boot_disk.as_ref().err(),
        evidence.project.as_ref().err(),
        evidence.audit_log.as_ref().err(),
    ];
    let error = errors
        .into_iter()
        .flatten()
        .find(|e| e.kind == FetchErrorKind::Unavailable)?;
    // Already counted as a dependency error by the client's observer when the call was made.
    Some(error.api.clone())
}

/// A session used for a release is spent: the second use of a nonce fails on every replica.
async fn spend_session(
    state: &ServerState,
    session: &tokendist_store::records::SessionRecord,
) -> Result<(), ServiceError> {
    let now = state.now();
    let result = if session.step == SessionStep::Proven {
        state.store.consume_session(&session.session_id, now).await
    } else {
        state
            .store
            .advance_session(
                &session.session_id,
                StepChange {
                    from: session.step,
                    to: SessionStep::Consumed,
                    update: SessionUpdate::default(),
                    now,
                },
            )
            .await
    };
    result.map(|_| ()).map_err(from_store)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}

fn secret_type(name: &str) -> pb::SecretType {
    match name {
        "RAW" => pb::SecretType::Raw,
        "TPM" => pb::SecretType::Tpm,
        "TINK" => pb::SecretType::Tink,
        _ => pb::SecretType::Unspecified,
    }
}

/// Opens secrets encrypted to this server; TPM-sealed ones pass through (only the VM can open them).
fn open_secrets(
    approval: &Approval,
    live: &LiveSettings,
) -> Result<Vec<OpenedSecret>, ServiceError> {
    approval
        .secrets
        .iter()
        .map(|secret| open_secret(approval, secret, live))
        .collect()
}

fn open_secret(
    approval: &Approval,
    secret: &StoredSecret,
    live: &LiveSettings,
) -> Result<OpenedSecret, ServiceError> {
    use base64::Engine;
    let sealed = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(&secret.data)
            .map_err(|_| {
                ServiceError::Internal(format!(
                    "secret {} of approval {} is not base64",
                    secret.name, approval.instance_id
                ))
            })?,
    );
    let (data, protection) = match secret.protection.as_str() {
        "hpke-x25519" => {
            let key = live.keys.secrets_key.as_ref().ok_or_else(|| {
                ServiceError::Internal(
                    "an approval holds secrets encrypted to this server but keys.secrets_key is not configured".into(),
                )
            })?;
            let aad = server_seal::binding(&approval.instance_id, &secret.name);
            let plaintext = server_seal::open(key, &sealed, &aad).map_err(|e| {
                ServiceError::Internal(format!(
                    "secret {} of approval {} does not open: {e}",
                    secret.name, approval.instance_id
                ))
            })?;
            (plaintext, pb::SecretProtection::None)
        }
        "tpm-envelope" => (sealed, pb::SecretProtection::TpmEnvelope),
        "tpm-import-blob" => (sealed, pb::SecretProtection::TpmImportBlob),
        other => {
            return Err(ServiceError::Internal(format!(
                "secret {} has unknown protection {other:?}",
                secret.name
            )));
        }
    };
    Ok(OpenedSecret {
        name: secret.name.clone(),
        secret_type: secret_type(&secret.secret_type) as i32,
        data,
        protection: protection as i32,
    })
}
