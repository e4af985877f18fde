//! `identity.signature`, `identity.claims`, `identity.fresh` (from the verification result) and
//! `identity.instance`, `identity.service_account` (token claims against the approval).

use crate::approval::Approval;
use crate::checks::{
    IDENTITY_CLAIMS, IDENTITY_FRESH, IDENTITY_INSTANCE, IDENTITY_SERVICE_ACCOUNT,
    IDENTITY_SIGNATURE,
};
use crate::identity::{IdentityClaims, IdentityError};
use crate::verdict::CheckResult;

/// Verification runs signature → claims → fresh and stops at the first failure: the steps before it
/// passed, the failed one fails, the later ones were not evaluated.
const VERIFICATION_ORDER: [&str; 3] = [IDENTITY_SIGNATURE, IDENTITY_CLAIMS, IDENTITY_FRESH];

pub(super) fn run(
    approval: &Approval,
    identity: &Result<IdentityClaims, IdentityError>,
) -> Vec<CheckResult> {
    match identity {
        Ok(claims) => {
            let mut checks: Vec<CheckResult> = VERIFICATION_ORDER
                .iter()
                .map(|name| CheckResult::pass(name))
                .collect();
            checks.push(instance(approval, claims));
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

fn instance(approval: &Approval, claims: &IdentityClaims) -> CheckResult {
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
    if mismatches.is_empty() {
        CheckResult::pass(IDENTITY_INSTANCE)
    } else {
        CheckResult::fail(
            IDENTITY_INSTANCE,
            format!("token {}", mismatches.join("; ")),
        )
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
