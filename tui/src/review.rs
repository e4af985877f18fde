//! A VM's review: its live evidence from Google, the cloud-config review, the audit-log timeline and
//! every check of the verdict — computed by the same `core::policy` functions the server runs. The
//! console has no identity token, no connection and no TPM session from the VM, so the checks that
//! need them (`identity.*`, `network.*`, `tpm.*`) are shown as decided by the server on each request.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::{AuditScope, TimelineEvent, timeline};
use tokendist_core::checks::{self, REVIEW_CHECKS};
use tokendist_core::evidence::{
    DiskEvidence, Evidence, FetchError, FetchErrorKind, Fetched, InstanceEvidence, PeerEvidence,
    ProjectEvidence, ShieldedIdentity,
};
use tokendist_core::identity::IdentityError;
use tokendist_core::policy;
use tokendist_core::settings::Settings;
use tokendist_core::verdict::{CheckResult, Outcome, Verdict};
use tokendist_gcp::EvidenceCollector;

use crate::target::Target;

/// Everything Google says about one VM, at one time.
#[derive(Debug, Clone)]
pub struct Review {
    pub target: Target,
    pub evidence: Evidence,
    pub shielded_identity: Fetched<ShieldedIdentity>,
    /// The `cloudconfig.*` review checks on the live user-data (the template gate, then the analysis).
    pub cloud_config_review: Vec<CheckResult>,
    /// The audit log since creation, oldest first, each entry classified.
    pub timeline: Fetched<Vec<TimelineEvent>>,
}

/// What the checks were evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    /// The signed approval in the store (`policy::evaluate`).
    Approval,
    /// An unsigned proposal built from the live evidence (`policy::evaluate_unapproved`).
    Proposal,
}

/// The console's stand-in for the identity token it does not have; the checks it feeds are replaced
/// by [`console_view`].
fn no_identity_token() -> IdentityError {
    IdentityError::Malformed("the console has no identity token of the VM".into())
}

/// Fetches the evidence of `target` and computes the review parts that do not depend on an approval.
pub async fn collect(
    collector: &EvidenceCollector,
    target: Target,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Review {
    let vm = collector
        .collect(&target.project, &target.zone, &target.name)
        .await;
    let (evidence, shielded_identity) =
        vm.into_evidence(Err(no_identity_token()), PeerEvidence::default(), now);
    // `collect` always reads it; `None` would mean a collection that skipped it.
    let shielded_identity = shielded_identity.unwrap_or_else(|| {
        Err(FetchError {
            api: "compute.instances.getShieldedInstanceIdentity".to_owned(),
            kind: FetchErrorKind::Malformed,
            message: "not read by this collection".to_owned(),
        })
    });
    let cloud_config_review = match &evidence.instance {
        Ok(instance) => policy::review_instance(instance, settings),
        Err(e) => fail_all(&REVIEW_CHECKS, &e.to_string()),
    };
    let timeline = match (&evidence.audit_log, &evidence.instance) {
        (Ok(entries), Ok(instance)) => {
            let disk = evidence.boot_disk.as_ref().ok();
            let scope = AuditScope {
                instance_id: &instance.instance_id,
                instance_name: &instance.name,
                boot_disk_id: disk.and_then(|d| d.disk_id.as_deref()),
                boot_disk_name: disk.map(|d| d.name.as_str()),
            };
            Ok(timeline(entries, &settings.audit_methods, &scope))
        }
        (Err(e), _) | (Ok(_), Err(e)) => Err(e.clone()),
    };
    Review {
        target,
        evidence,
        shielded_identity,
        cloud_config_review,
        timeline,
    }
}

fn fail_all(names: &[&str], reason: &str) -> Vec<CheckResult> {
    names.iter().map(|n| CheckResult::fail(n, reason)).collect()
}

impl Review {
    pub fn instance(&self) -> Result<&InstanceEvidence, &FetchError> {
        self.evidence.instance.as_ref()
    }

    pub fn boot_disk(&self) -> Result<&DiskEvidence, &FetchError> {
        self.evidence.boot_disk.as_ref()
    }

    pub fn project(&self) -> Result<&ProjectEvidence, &FetchError> {
        self.evidence.project.as_ref()
    }

    pub fn gathered_at(&self) -> DateTime<Utc> {
        self.evidence.gathered_at
    }

    /// Every fetch that failed, for the error summary.
    pub fn fetch_errors(&self) -> Vec<&FetchError> {
        [
            self.evidence.instance.as_ref().err(),
            self.evidence.boot_disk.as_ref().err(),
            self.evidence.project.as_ref().err(),
            self.shielded_identity.as_ref().err(),
            self.evidence.audit_log.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Every check, as the console shows it: the policy verdict against `approval`, then the
    /// cloud-config review.
    pub fn checks(
        &self,
        approval: &Approval,
        against: Against,
        settings: &Settings,
    ) -> Vec<CheckResult> {
        let verdict = match against {
            Against::Approval => policy::evaluate(approval, &self.evidence, settings),
            Against::Proposal => policy::evaluate_unapproved(approval, &self.evidence, settings),
        };
        let mut shown = console_view(verdict, approval);
        shown.extend(self.cloud_config_review.iter().cloned());
        shown
    }

    /// The proposal `approve` starts from: `Approval::proposed_from` on the live instance (or, when
    /// the instance could not be read, `policy::evaluate_for_review`'s fallback).
    pub fn proposal(&self, settings: &Settings, approver: &str) -> Approval {
        policy::evaluate_for_review(&self.evidence, settings, approver).0
    }
}

/// Replaces the outcomes of checks only the server can decide (it needs the VM's own request) with a
/// skip that says so; every other check is shown exactly as the policy decided it.
pub fn console_view(verdict: Verdict, approval: &Approval) -> Vec<CheckResult> {
    verdict
        .checks
        .into_iter()
        .map(|check| {
            let name = check.name.as_str();
            let pinned = match name {
                checks::NETWORK_PEER_IP => approval.peer_address.as_deref(),
                checks::NETWORK_CLIENT_CERT => approval.client_cert_serial.as_deref(),
                _ => None,
            };
            if name.starts_with("identity.") {
                CheckResult::skipped(
                    name,
                    "decided by the server on each request, with the VM's identity token",
                )
            } else if name.starts_with("tpm.") && !matches!(check.outcome, Outcome::Skipped(_)) {
                CheckResult::skipped(
                    name,
                    "decided by the server on each request, from the VM's TPM session (see the TPM section for its last quote)",
                )
            } else if name.starts_with("network.") && !matches!(check.outcome, Outcome::Skipped(_))
            {
                CheckResult::skipped(
                    name,
                    format!(
                        "decided by the server on each request: the VM must present {}",
                        pinned.unwrap_or("the pinned value")
                    ),
                )
            } else {
                check
            }
        })
        .collect()
}

/// Names of the failed checks, in order.
pub fn failed_names(checks: &[CheckResult]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| c.is_fail())
        .map(|c| c.name.clone())
        .collect()
}
