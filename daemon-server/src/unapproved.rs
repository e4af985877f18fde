//! What the server records about a VM that asks with no approval: besides `approval.state`, the
//! review Alice would see — every check against the approval proposed from the live evidence
//! (`policy::evaluate_for_review`) and the cloud-config review — so the console's list tells a
//! tampered pending VM from one that merely waits for approval. The caller is still told only
//! `approval.state`; the review goes to the pending record and the `denied` event. The server reads
//! no template file, so `cloudconfig.template` is left to the console unless the text is inline.

use tokendist_core::checks::CLOUDCONFIG_TEMPLATE;
use tokendist_core::evidence::PeerEvidence;
use tokendist_core::identity::IdentityClaims;
use tokendist_core::policy::{evaluate_for_review, review_instance};
use tokendist_core::verdict::CheckResult;
use tokendist_gcp::{KnownVm, ShieldedIdentityRead};
use tokendist_store::SessionRecord;

use crate::state::{LiveSettings, ServerState};
use crate::tls::PeerInfo;
use crate::tpm_session;

/// The approver named in proposals nobody signs.
const PROPOSAL_APPROVER: &str = "(server review)";

/// Whether the server holds the template text (inline `text`); a `path` only the console reads.
fn server_reads_the_template(live: &LiveSettings) -> bool {
    live.policy
        .cloud_config_template
        .as_ref()
        .is_some_and(|t| t.text.is_some())
}

/// Without the template text the server cannot decide `cloudconfig.template` (and without any
/// template it fails for every VM); the console decides it on review, so it is not held against
/// the VM here.
fn skip_template_check(review: &mut [CheckResult]) {
    for check in review {
        if check.name == CLOUDCONFIG_TEMPLATE {
            *check = CheckResult::skipped(
                CLOUDCONFIG_TEMPLATE,
                "not decided by the server (it does not read the template file); the console decides it on review",
            );
        }
    }
}

/// The unapproved caller: its verified identity, its connection and its attested session.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub claims: &'a IdentityClaims,
    pub peer: Option<&'a PeerInfo>,
    pub session: &'a SessionRecord,
}

/// The review checks of an unapproved caller (approval checks skipped), or none when Google could
/// not be read in time: an outage must not look like tampering. A review made less than a minute
/// ago for the same VM is reused ([`crate::review_cache`]): retries do not spend Google's quota.
pub async fn review(
    state: &ServerState,
    live: &LiveSettings,
    caller: Caller<'_>,
) -> Vec<CheckResult> {
    let instance_id = &caller.claims.compute_engine.instance_id;
    if let Some(recent) = state.unapproved_reviews.recent(instance_id, state.now()) {
        return recent;
    }
    let checks = fresh_review(state, live, caller).await;
    if !checks.is_empty() {
        state
            .unapproved_reviews
            .keep(instance_id, state.now(), checks.clone());
    }
    checks
}

async fn fresh_review(
    state: &ServerState,
    live: &LiveSettings,
    caller: Caller<'_>,
) -> Vec<CheckResult> {
    let Caller {
        claims,
        peer,
        session,
    } = caller;
    let gce = &claims.compute_engine;
    let known = KnownVm {
        project: &gce.project_id,
        zone: &gce.zone,
        name: &gce.instance_name,
        instance_id: &gce.instance_id,
        created: crate::release::instance_created(claims),
        boot_disk: &gce.instance_name,
    };
    let collect = state
        .collector
        .collect_known(&known, ShieldedIdentityRead::Skip);
    let Ok(vm) = tokio::time::timeout(live.evidence_timeout, collect).await else {
        state.metrics.observe_dependency_error("evidence");
        return Vec::new();
    };
    let peer_evidence = PeerEvidence {
        address: peer.map(|p| p.address.ip().to_string()),
        client_cert_serial: peer.and_then(|p| p.client_cert_serial.clone()),
    };
    let (mut evidence, _) = vm.into_evidence(Ok(claims.clone()), peer_evidence, state.now());
    let Ok(instance) = &evidence.instance else {
        return Vec::new();
    };
    // Any other read that failed (an outage, a quota) would show as failed checks: record
    // `approval.state` alone rather than a review that blames the VM for Google.
    if evidence.boot_disk.is_err() || evidence.project.is_err() || evidence.audit_log.is_err() {
        return Vec::new();
    }
    let mut review = review_instance(instance, &live.policy);
    if !server_reads_the_template(live) {
        skip_template_check(&mut review);
    }
    evidence.tpm = tpm_session::evidence_of(session);
    let (_, verdict) = evaluate_for_review(&evidence, &live.policy, PROPOSAL_APPROVER);
    let mut checks = verdict.checks;
    checks.extend(review);
    checks
}
