//! How denials are recorded, at every step (`Attest`, `ProveAttestation`, `GetToken`): a `Denied`
//! event with the failed checks, and the instance's `pending` record (DESIGN §4), so that a VM that is
//! not (or no longer) approved shows up in the console with the checks that stopped it.

use tokendist_core::identity::IdentityClaims;
use tokendist_core::verdict::{CheckResult, Outcome};
use tokendist_store::records::{EventKind, EventRecord, FailedCheck, PendingAttempt};
use tokendist_store::{DeniedDetail, EventDetail};

use crate::state::ServerState;
use crate::tls::PeerInfo;

/// Records a denial: an event with the failed checks, and the instance's pending record. A failure to
/// record is logged; the denial stands either way.
/// `last_quote` is a summary of the quote the request carried, if any (for the console's review).
pub async fn record_denial(
    state: &ServerState,
    claims: &IdentityClaims,
    peer: Option<&PeerInfo>,
    checks: &[CheckResult],
    last_quote: Option<serde_json::Value>,
) {
    let now = state.now();
    let gce = &claims.compute_engine;
    let failed_checks: Vec<FailedCheck> = checks
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Fail(reason) => Some(FailedCheck {
                name: c.name.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    let peer_address = peer.map(|p| p.address.ip().to_string());
    // Skipped checks were not evaluated (not required by the approval, or decided elsewhere).
    let evaluated = checks
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    let checks_evaluated = u32::try_from(evaluated).unwrap_or(u32::MAX);
    let attempt = PendingAttempt {
        instance_id: gce.instance_id.clone(),
        project: gce.project_id.clone(),
        zone: gce.zone.clone(),
        instance_name: gce.instance_name.clone(),
        service_account: claims.email.clone().unwrap_or_default(),
        seen_at: now,
        peer_address: peer_address.clone(),
        failed_checks: failed_checks.clone(),
        last_quote,
        checks_evaluated: Some(checks_evaluated),
    };
    if let Err(error) = state.store.upsert_pending(&attempt).await {
        tracing::error!(instance_id = %gce.instance_id, %error, "could not record the pending instance");
        state.metrics.observe_dependency_error("store");
    }
    let detail = EventDetail::Denied(DeniedDetail {
        failed_checks: failed_checks.clone(),
        checks_evaluated,
        peer: peer_address,
    });
    let event = EventRecord::new(
        now,
        EventKind::Denied,
        gce.instance_id.clone(),
        "server",
        detail,
    );
    if let Err(error) = state.store.append_event(&event).await {
        tracing::error!(instance_id = %gce.instance_id, %error, "could not record the denial event");
        state.metrics.observe_dependency_error("store");
    }
    let names: Vec<&str> = failed_checks.iter().map(|c| c.name.as_str()).collect();
    tracing::info!(instance_id = %gce.instance_id, failed = ?names, "denied");
}

/// Records a denial by one check (an attestation step's) and returns the error to answer with.
pub async fn deny(
    state: &ServerState,
    claims: &IdentityClaims,
    peer: Option<&PeerInfo>,
    check: CheckResult,
    last_quote: Option<serde_json::Value>,
) -> crate::status::ServiceError {
    let checks = vec![check];
    record_denial(state, claims, peer, &checks, last_quote).await;
    crate::status::ServiceError::Denied {
        checks,
        pending_approval: false,
    }
}
