//! [`list`]: every VM the store knows — its approval (approved, expired, revoked) and its latest
//! denial, with the server's last verdict — as rows sorted by need of attention: the group order of
//! [`VmGroup`], then last seen (newest first), then instance id.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tokendist_core::approval::Approval;
use tokendist_store::{PendingRecord, Store};

use crate::error::ConsoleError;
use crate::operations::model::{VerdictSummary, VmGroup, VmList, VmRow, VmState};

/// Reads approvals and pending records and builds the sorted list.
pub async fn list(store: &dyn Store, now: DateTime<Utc>) -> Result<VmList, ConsoleError> {
    let approvals = store.list_approvals().await?;
    let pending = store.list_pending().await?;
    Ok(VmList {
        rows: rows(approvals, pending, now),
        loaded_at: Some(now),
    })
}

fn verdict(record: &PendingRecord) -> VerdictSummary {
    let failed: Vec<String> = record
        .failed_checks
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let evaluated = record
        .checks_evaluated
        .unwrap_or_else(|| u32::try_from(failed.len()).unwrap_or(u32::MAX));
    VerdictSummary { evaluated, failed }
}

fn approved_row(approval: Approval, denial: Option<PendingRecord>, now: DateTime<Utc>) -> VmRow {
    let state = if approval.revoked_at.is_some() {
        VmState::Revoked
    } else if approval.expires_at.is_some_and(|at| at <= now) {
        VmState::Expired
    } else {
        VmState::Approved
    };
    // A denial recorded after the approval was signed: the approved VM no longer passes.
    let denied_since = denial
        .as_ref()
        .is_some_and(|d| d.last_seen >= approval.approved_at);
    let group = match state {
        VmState::Approved if denied_since => VmGroup::DeniedAfterApproval,
        VmState::Approved => VmGroup::Approved,
        VmState::Pending | VmState::Expired | VmState::Revoked => VmGroup::Revoked,
    };
    VmRow {
        state,
        group,
        approved_at: Some(approval.approved_at),
        expires_at: approval.expires_at,
        revoked_at: approval.revoked_at,
        revoke_reason: approval.revoke_reason,
        revision: Some(approval.revision),
        first_seen: denial.as_ref().map(|p| p.first_seen),
        last_seen: denial.as_ref().map(|p| p.last_seen),
        attempts: denial.as_ref().map_or(0, |p| p.attempts),
        verdict: denial.as_ref().map(verdict),
        failed_checks: denial
            .map(|p| p.failed_checks.into_iter().map(|c| c.name).collect())
            .unwrap_or_default(),
        instance_id: approval.instance_id,
        name: approval.instance_name,
        project: approval.project,
        zone: approval.zone,
    }
}

fn pending_row(record: PendingRecord) -> VmRow {
    VmRow {
        verdict: Some(verdict(&record)),
        state: VmState::Pending,
        group: VmGroup::Pending,
        approved_at: None,
        expires_at: None,
        revoked_at: None,
        revoke_reason: None,
        revision: None,
        first_seen: Some(record.first_seen),
        last_seen: Some(record.last_seen),
        attempts: record.attempts,
        failed_checks: record.failed_checks.into_iter().map(|c| c.name).collect(),
        instance_id: record.instance_id,
        name: record.instance_name,
        project: record.project,
        zone: record.zone,
    }
}

/// When the VM was last heard of: its latest denial, else its approval.
fn last_activity(row: &VmRow) -> Option<DateTime<Utc>> {
    row.last_seen.or(row.revoked_at).or(row.approved_at)
}

/// Merges approvals and pending records into rows sorted by need of attention.
pub fn rows(
    approvals: Vec<Approval>,
    pending: Vec<PendingRecord>,
    now: DateTime<Utc>,
) -> Vec<VmRow> {
    let mut pending: BTreeMap<String, PendingRecord> = pending
        .into_iter()
        .map(|p| (p.instance_id.clone(), p))
        .collect();
    let mut rows: Vec<VmRow> = approvals
        .into_iter()
        .map(|a| {
            let denial = pending.remove(&a.instance_id);
            approved_row(a, denial, now)
        })
        .collect();
    rows.extend(pending.into_values().map(pending_row));
    rows.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then_with(|| last_activity(b).cmp(&last_activity(a)))
            .then_with(|| a.instance_id.cmp(&b.instance_id))
    });
    rows
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _};
    use tokendist_store::FailedCheck;

    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::seconds(seconds)
    }

    fn approval(id: &str, approved_at: i64) -> Approval {
        let mut approval =
            Approval::unpinned(id, &format!("vm-{id}"), "p", "z", "alice", t(approved_at));
        approval.revision = 1;
        approval
    }

    fn pending(id: &str, seen: i64, failed: &[&str], evaluated: Option<u32>) -> PendingRecord {
        PendingRecord {
            instance_id: id.to_owned(),
            project: "p".into(),
            zone: "z".into(),
            instance_name: format!("vm-{id}"),
            service_account: String::new(),
            first_seen: t(seen),
            last_seen: t(seen),
            attempts: 1,
            peer_address: None,
            failed_checks: failed
                .iter()
                .map(|name| FailedCheck {
                    name: (*name).to_owned(),
                    reason: "r".into(),
                })
                .collect(),
            last_quote: None,
            checks_evaluated: evaluated,
        }
    }

    fn ids(rows: &[VmRow]) -> Vec<&str> {
        rows.iter().map(|r| r.instance_id.as_str()).collect()
    }

    #[test]
    fn rows_are_sorted_by_group_then_newest_activity() {
        let mut revoked = approval("r", 0);
        revoked.revoked_at = Some(t(50));
        let mut expired = approval("e", 0);
        expired.expires_at = Some(t(10));
        let approvals = vec![
            approval("a1", 5),
            approval("a2", 20),
            approval("d", 1),
            revoked,
            expired,
        ];
        let pending_records = vec![
            pending("p-old", 30, &["approval.state"], Some(16)),
            pending("p-new", 40, &["approval.state", "auditlog.clean"], Some(16)),
            // A denial after its approval: the approved VM no longer passes.
            pending("d", 60, &["instance.fingerprint"], Some(16)),
        ];
        let rows = rows(approvals, pending_records, t(100));
        assert_eq!(ids(&rows), ["d", "p-new", "p-old", "a2", "a1", "r", "e"]);
        let groups: Vec<VmGroup> = rows.iter().map(|r| r.group).collect();
        assert_eq!(
            groups,
            [
                VmGroup::DeniedAfterApproval,
                VmGroup::Pending,
                VmGroup::Pending,
                VmGroup::Approved,
                VmGroup::Approved,
                VmGroup::Revoked,
                VmGroup::Revoked
            ]
        );
        assert_eq!(rows[6].state, VmState::Expired);
    }

    #[test]
    fn a_denial_older_than_the_approval_does_not_mark_it_denied() {
        let rows = rows(
            vec![approval("a", 50)],
            vec![pending("a", 10, &["approval.state"], Some(1))],
            t(100),
        );
        assert_eq!(rows[0].group, VmGroup::Approved);
    }

    #[test]
    fn the_verdict_tells_tampering_from_waiting_and_falls_back_for_old_records() {
        let rows = rows(
            Vec::new(),
            vec![
                pending("waiting", 2, &["approval.state"], Some(16)),
                pending(
                    "tampered",
                    1,
                    &["approval.state", "instance.metadata"],
                    Some(16),
                ),
                pending("old", 0, &["approval.state"], None),
            ],
            t(100),
        );
        let verdicts: Vec<(u32, bool, String)> = rows
            .iter()
            .filter_map(|r| r.verdict.as_ref())
            .map(|v| (v.evaluated, v.only_unapproved(), v.ratio()))
            .collect();
        assert_eq!(
            verdicts,
            [
                (16, true, "15/16".to_owned()),
                (16, false, "14/16".to_owned()),
                (1, true, "0/1".to_owned())
            ]
        );
    }
}
