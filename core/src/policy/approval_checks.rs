//! `approval.signature` (Ed25519 over the canonical encoding, against trusted approver keys) and
//! `approval.state` (not revoked, not expired).

use chrono::{DateTime, Utc};

use crate::approval::{Approval, verify};
use crate::checks::{APPROVAL_SIGNATURE, APPROVAL_STATE};
use crate::settings::Settings;
use crate::verdict::CheckResult;

pub(super) fn signature(approval: &Approval, settings: &Settings) -> CheckResult {
    let keys = match settings.approver_keys() {
        Ok(keys) => keys,
        Err(e) => return CheckResult::fail(APPROVAL_SIGNATURE, e.to_string()),
    };
    match verify(approval, &keys) {
        Ok(()) => CheckResult::pass(APPROVAL_SIGNATURE),
        Err(e) => CheckResult::fail(APPROVAL_SIGNATURE, e.to_string()),
    }
}

pub(super) fn state(approval: &Approval, now: DateTime<Utc>) -> CheckResult {
    if approval.instance_id.is_empty() {
        return CheckResult::fail(APPROVAL_STATE, "the approval names no instance");
    }
    if let Some(revoked_at) = approval.revoked_at {
        let reason = approval
            .revoke_reason
            .as_deref()
            .unwrap_or("no reason given");
        return CheckResult::fail(
            APPROVAL_STATE,
            format!("approval revoked at {}: {reason}", revoked_at.to_rfc3339()),
        );
    }
    if let Some(expires_at) = approval.expires_at
        && expires_at <= now
    {
        return CheckResult::fail(
            APPROVAL_STATE,
            format!(
                "approval expired at {}; approve the VM again",
                expires_at.to_rfc3339()
            ),
        );
    }
    CheckResult::pass(APPROVAL_STATE)
}

pub(super) fn skipped_for_proposal() -> [CheckResult; 2] {
    let why = "no approval yet: evaluated against a proposal built from live evidence";
    [
        CheckResult::skipped(APPROVAL_SIGNATURE, why),
        CheckResult::skipped(APPROVAL_STATE, why),
    ]
}
