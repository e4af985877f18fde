//! `auditlog.clean`: every method on the instance, its boot disk and its project since the VM was
//! created is on the allow-list (denied methods fail with their reason, unknown ones as unknown);
//! `auditlog.data_access`: whether Data Access audit entries of the VM are readable.

use crate::approval::Approval;
use crate::auditlog::{AuditEntry, AuditScope, classify};
use crate::checks::{AUDITLOG_CLEAN, AUDITLOG_DATA_ACCESS};
use crate::evidence::{DataAccessEvidence, Fetched};
use crate::settings::Settings;
use crate::verdict::CheckResult;

/// How many failing events the reason lists before summarising the rest.
const LISTED: usize = 5;

pub(super) fn clean(
    audit_log: &Fetched<Vec<AuditEntry>>,
    settings: &Settings,
    scope: &AuditScope<'_>,
) -> CheckResult {
    let entries = match audit_log {
        Ok(entries) => entries,
        Err(e) => return CheckResult::fail(AUDITLOG_CLEAN, e.to_string()),
    };
    let mut failing: Vec<(&AuditEntry, String)> = entries
        .iter()
        .filter_map(|e| {
            classify(e, &settings.audit_methods, scope)
                .reason()
                .map(|reason| (e, reason.to_owned()))
        })
        .collect();
    if failing.is_empty() {
        return CheckResult::pass(AUDITLOG_CLEAN);
    }
    failing.sort_by_key(|(e, _)| e.timestamp);
    let mut reasons: Vec<String> = failing
        .iter()
        .take(LISTED)
        .map(|(_, reason)| reason.clone())
        .collect();
    if failing.len() > LISTED {
        reasons.push(format!("and {} more", failing.len() - LISTED));
    }
    CheckResult::fail(AUDITLOG_CLEAN, format!("audit log: {}", reasons.join("; ")))
}

/// Verified when the VM's Data Access log was read and holds entries (so `getSerialPortOutput` and
/// friends would be seen); otherwise "not readable": skipped, or failed when Alice requires it.
pub(super) fn data_access(
    evidence: &Fetched<DataAccessEvidence>,
    approval: &Approval,
    settings: &Settings,
) -> CheckResult {
    let not_readable = match evidence {
        Ok(DataAccessEvidence {
            newest_entry: Some(_),
            ..
        }) => return CheckResult::pass(AUDITLOG_DATA_ACCESS),
        Ok(_) => "not readable: the instance's Data Access audit log has no entry; enable Data Access audit logs (ADMIN_READ and DATA_READ) for compute.googleapis.com in the VM's project and let Alice read them".to_owned(),
        Err(e) => format!("not readable: {e}"),
    };
    if approval.require_data_access || settings.require_data_access {
        let by = if approval.require_data_access {
            "the approval"
        } else {
            "the policy"
        };
        CheckResult::fail(
            AUDITLOG_DATA_ACCESS,
            format!("{not_readable} (required by {by})"),
        )
    } else {
        CheckResult::skipped(AUDITLOG_DATA_ACCESS, not_readable)
    }
}
