//! `identity.signature`, `identity.claims`, `identity.fresh` (from the verification result) and
//! `identity.instance`, `identity.service_account` (token claims against the approval).
//!
//! `identity.instance` also binds the evidence to the caller: the instance the Compute API returns
//! under the approval's name (the evidence every other check reads) must carry the token's and the
//! approval's instance id. A same-name replacement VM, or another VM renamed to the approved name,
//! has another id and fails here. When the instance could not be fetched the binding is skipped with
//! the reason (the `instance.*` checks fail on the same fetch error, so the verdict still denies, and
//! an outage stays retryable instead of becoming a definitive denial).

use crate::approval::Approval;
use crate::checks::{
    IDENTITY_CLAIMS, IDENTITY_FRESH, IDENTITY_INSTANCE, IDENTITY_SERVICE_ACCOUNT,
    IDENTITY_SIGNATURE,
};
use crate::evidence::{Fetched, InstanceEvidence};
use crate::identity::{IdentityClaims, IdentityError};
use crate::verdict::CheckResult;

/// Verification runs signature → claims → fresh and stops at the first failure: the steps before it
/// passed, the failed one fails, the later ones were not evaluated.
const VERIFICATION_ORDER: [&str; 3] = [IDENTITY_SIGNATURE, IDENTITY_CLAIMS, IDENTITY_FRESH];

pub(super) fn run(
    approval: &Approval,
    identity: &Result<IdentityClaims, IdentityError>,
    live_instance: &Fetched<InstanceEvidence>,
) -> Vec<CheckResult> {
    match identity {
        Ok(claims) => {
            let mut checks: Vec<CheckResult> = VERIFICATION_ORDER
                .iter()
                .map(|name| CheckResult::pass(name))
                .collect();
            checks.push(instance(approval, claims, live_instance));
            checks.push(service_account(approval, claims));
            checks
        }
        Err(error) => {
            let failed = error.check_name();
            let mut reached = false;
            let mut checks: Vec<CheckResult> = VERIFICATION_ORDER
                .iter()
                .map(|name| {
                    if *name == failed {
                        reached = true;
                        CheckResult::fail(name, error.to_string())
                    } else if reached {
                        CheckResult::skipped(name, format!("not evaluated: {failed} failed"))
                    } else {
                        CheckResult::pass(name)
                    }
                })
                .collect();
            let why = format!("not evaluated: the identity token failed {failed}");
            checks.push(CheckResult::skipped(IDENTITY_INSTANCE, why.clone()));
            checks.push(CheckResult::skipped(IDENTITY_SERVICE_ACCOUNT, why));
            checks
        }
    }
}

fn instance(
    approval: &Approval,
    claims: &IdentityClaims,
    live_instance: &Fetched<InstanceEvidence>,
) -> CheckResult {
    let gce = &claims.compute_engine;
    let mismatches: Vec<String> = [
        ("instance id", &gce.instance_id, &approval.instance_id),
        ("instance name", &gce.instance_name, &approval.instance_name),
        ("project", &gce.project_id, &approval.project),
        ("zone", &gce.zone, &approval.zone),
    ]
    .into_iter()
    .filter(|(_, token, approved)| token != approved)
    .map(|(what, token, approved)| format!("{what} is {token:?}, approved {approved:?}"))
    .collect();
    if !mismatches.is_empty() {
        return CheckResult::fail(
            IDENTITY_INSTANCE,
            format!("token {}", mismatches.join("; ")),
        );
    }
    match live_instance {
        Ok(live) if live.instance_id == gce.instance_id => CheckResult::pass(IDENTITY_INSTANCE),
        Ok(live) => CheckResult::fail(
            IDENTITY_INSTANCE,
            format!(
                "the Compute API's instance named {:?} has id {:?}, not the token's and approval's {:?}: \
                 the approved VM was replaced by another one under its name (or another VM was renamed to it)",
                live.name, live.instance_id, gce.instance_id
            ),
        ),
        Err(error) => CheckResult::skipped(
            IDENTITY_INSTANCE,
            format!(
                "the token matches the approval, but the live instance could not be fetched to bind it: {error}"
            ),
        ),
    }
}

fn service_account(approval: &Approval, claims: &IdentityClaims) -> CheckResult {
    if approval.service_account.is_empty() {
        return CheckResult::fail(
            IDENTITY_SERVICE_ACCOUNT,
            "the approval names no service account",
        );
    }
    match (&claims.email, claims.email_verified) {
        (_, Some(false)) => CheckResult::fail(
            IDENTITY_SERVICE_ACCOUNT,
            "the token's email is marked unverified (email_verified=false)",
        ),
        (Some(email), _) if *email == approval.service_account => {
            CheckResult::pass(IDENTITY_SERVICE_ACCOUNT)
        }
        (Some(email), _) => CheckResult::fail(
            IDENTITY_SERVICE_ACCOUNT,
            format!(
                "token email is {email:?}, approved {:?}",
                approval.service_account
            ),
        ),
        (None, _) => CheckResult::fail(
            IDENTITY_SERVICE_ACCOUNT,
            "the token carries no email; the VM must run with a service account",
        ),
    }
}
