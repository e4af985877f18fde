//! The one decision function (DESIGN §3): [`evaluate`] runs every release check on an approval and the
//! live evidence and returns a [`Verdict`]; [`review`] runs the cloud-config checks when Alice reviews.
//! [`evaluate_unapproved`] / [`evaluate_for_review`] show pending VMs against a proposed approval.
//! Each group of checks lives in its own submodule; this file only orders them (and names the VM
//! audit-log entries are judged for, [`audit_scope`]).

mod approval_checks;
mod auditlog_checks;
mod boot_disk;
mod identity_checks;
mod instance_checks;
mod network_checks;
mod project_metadata;
mod review_checks;
mod tpm_checks;

use crate::approval::Approval;
use crate::auditlog::AuditScope;
use crate::evidence::Evidence;
use crate::settings::Settings;
use crate::verdict::{CheckResult, Verdict};

pub use review_checks::{review, review_instance, review_user_data, template as template_check};
pub use tpm_checks::{describe_pcrs, pcrs_that_differ};

/// Whether a real, signed approval is evaluated or a proposal for a VM nobody approved yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Release,
    Proposal,
}

/// Runs every release check, in [`crate::checks::RELEASE_CHECKS`] order, at `evidence.gathered_at`.
/// TPM checks are `Skipped` when the approval does not require a TPM, run on `evidence.tpm` when it
/// does, and fail closed when it does and there is no verified TPM session.
pub fn evaluate(approval: &Approval, evidence: &Evidence, settings: &Settings) -> Verdict {
    let signature = signature_check(approval, settings);
    run(approval, evidence, settings, Mode::Release, Some(signature))
}

/// The `approval.signature` check alone: the costly part of a release's checks, which a caller may
/// run once per approval revision and hand to [`evaluate_with_signature`].
pub fn signature_check(approval: &Approval, settings: &Settings) -> CheckResult {
    approval_checks::signature(approval, settings)
}

/// [`evaluate`] with `signature`, which must be [`signature_check`]'s result for this very approval
/// record and these settings (e.g. remembered for an unchanged record).
pub fn evaluate_with_signature(
    approval: &Approval,
    evidence: &Evidence,
    settings: &Settings,
    signature: CheckResult,
) -> Verdict {
    run(approval, evidence, settings, Mode::Release, Some(signature))
}

/// Like [`evaluate`] for a VM that has no approval yet: `approval.*` checks are skipped, as are the TPM
/// checks (the console shows attestation records separately); everything else runs against `proposed`.
pub fn evaluate_unapproved(
    proposed: &Approval,
    evidence: &Evidence,
    settings: &Settings,
) -> Verdict {
    run(proposed, evidence, settings, Mode::Proposal, None)
}

/// A proposal built from the live evidence (from the Compute API, or from the token when the API
/// failed) and its [`evaluate_unapproved`] verdict: what the console shows for a pending VM.
pub fn evaluate_for_review(
    evidence: &Evidence,
    settings: &Settings,
    approver: &str,
) -> (Approval, Verdict) {
    let now = evidence.gathered_at;
    let proposed = match (&evidence.instance, &evidence.identity) {
        (Ok(instance), _) => Approval::proposed_from(
            instance,
            &settings.always_allowed_metadata_keys,
            approver,
            now,
        ),
        (Err(_), Ok(claims)) => Approval::proposed_from_claims(claims, approver, now),
        (Err(_), Err(_)) => Approval::unpinned("", "", "", "", approver, now),
    };
    let verdict = evaluate_unapproved(&proposed, evidence, settings);
    (proposed, verdict)
}

fn run(
    approval: &Approval,
    evidence: &Evidence,
    settings: &Settings,
    mode: Mode,
    signature: Option<CheckResult>,
) -> Verdict {
    let now = evidence.gathered_at;
    let mut checks = identity_checks::run(approval, &evidence.identity, &evidence.instance);
    match mode {
        Mode::Release => {
            checks
                .push(signature.unwrap_or_else(|| approval_checks::signature(approval, settings)));
            checks.push(approval_checks::state(approval, now));
        }
        Mode::Proposal => checks.extend(approval_checks::skipped_for_proposal()),
    }
    checks.extend(instance_checks::run(approval, evidence, settings));
    checks.push(project_metadata::check(evidence));
    let scope = audit_scope(approval, evidence);
    checks.push(boot_disk::check(evidence, settings, &scope));
    checks.push(auditlog_checks::clean(
        &evidence.audit_log,
        settings,
        &scope,
    ));
    checks.push(auditlog_checks::data_access(
        &evidence.data_access,
        approval,
        settings,
    ));
    checks.push(network_checks::peer_ip(approval, &evidence.peer));
    checks.push(network_checks::client_cert(approval, &evidence.peer));
    match mode {
        Mode::Release => checks.extend(tpm_checks::run(approval, evidence.tpm.as_ref())),
        Mode::Proposal => checks.extend(tpm_checks::skipped_for_proposal()),
    }
    Verdict { checks }
}

/// The VM the audit-log entries are judged for: the approved instance and its live boot disk.
pub fn audit_scope<'a>(approval: &'a Approval, evidence: &'a Evidence) -> AuditScope<'a> {
    let disk = evidence.boot_disk.as_ref().ok();
    AuditScope {
        instance_id: &approval.instance_id,
        instance_name: &approval.instance_name,
        boot_disk_id: disk.and_then(|d| d.disk_id.as_deref()),
        boot_disk_name: disk.map(|d| d.name.as_str()),
    }
}
