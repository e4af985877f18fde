//! `auditlog.clean`: no denied method on the instance or in its project since the VM was created.

use crate::approval::Approval;
use crate::auditlog::{AuditEntry, Classification, classify};
use crate::checks::AUDITLOG_CLEAN;
use crate::evidence::Fetched;
use crate::settings::Settings;
use crate::verdict::CheckResult;

/// How many denied events the reason lists before summarising the rest.
const LISTED: usize = 5;

pub(super) fn clean(
    approval: &Approval,
    audit_log: &Fetched<Vec<AuditEntry>>,
    settings: &Settings,
) -> CheckResult {
    let entries = match audit_log {
        Ok(entries) => entries,
        Err(e) => return CheckResult::fail(AUDITLOG_CLEAN, e.to_string()),
    };
    let mut denied: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| {
            matches!(
                classify(e, &settings.deny_list, &approval.instance_id),
                Classification::Denied { .. }
            )
        })
        .collect();
    if denied.is_empty() {
        return CheckResult::pass(AUDITLOG_CLEAN);
    }
    denied.sort_by_key(|e| e.timestamp);
    let mut reasons: Vec<String> = denied
        .iter()
        .take(LISTED)
        .filter_map(
            |e| match classify(e, &settings.deny_list, &approval.instance_id) {
                Classification::Denied { reason } => Some(reason),
                _ => None,
            },
        )
        .collect();
    if denied.len() > LISTED {
        reasons.push(format!("and {} more", denied.len() - LISTED));
    }
    CheckResult::fail(
        AUDITLOG_CLEAN,
        format!("denied events: {}", reasons.join("; ")),
    )
}
