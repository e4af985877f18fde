//! `tokendist list`: every VM the store knows, one row each — approval state when approved (approved,
//! expired, revoked), else `pending` — with the latest denial's attempts and failed checks.
//! `--json` prints [`ListJson`], whose shape is documented in the subcommand's `--help`.

use std::collections::BTreeMap;
use tokendist_core::terminal_text::printable_line;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_store::PendingRecord;

use crate::cli::GlobalOptions;
use crate::context::open_store;
use crate::error::ConsoleError;
use crate::output::{emit, emit_json};

/// A VM's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    Pending,
    Approved,
    Expired,
    Revoked,
}

impl VmState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// One row of `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmRow {
    pub instance_id: String,
    pub name: String,
    pub project: String,
    pub zone: String,
    pub state: VmState,
    pub approved_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub revision: Option<u64>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub attempts: u64,
    pub failed_checks: Vec<String>,
}

/// `list --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListJson {
    pub vms: Vec<VmRow>,
}

/// Merges approvals and pending records into rows: pending first, then approved, expired, revoked;
/// by instance id within each group.
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
            let state = if a.revoked_at.is_some() {
                VmState::Revoked
            } else if a.expires_at.is_some_and(|at| at <= now) {
                VmState::Expired
            } else {
                VmState::Approved
            };
            let denial = pending.remove(&a.instance_id);
            VmRow {
                state,
                approved_at: Some(a.approved_at),
                expires_at: a.expires_at,
                revoked_at: a.revoked_at,
                revoke_reason: a.revoke_reason,
                revision: Some(a.revision),
                first_seen: denial.as_ref().map(|p| p.first_seen),
                last_seen: denial.as_ref().map(|p| p.last_seen),
                attempts: denial.as_ref().map_or(0, |p| p.attempts),
                failed_checks: denial
                    .map(|p| p.failed_checks.into_iter().map(|c| c.name).collect())
                    .unwrap_or_default(),
                instance_id: a.instance_id,
                name: a.instance_name,
                project: a.project,
                zone: a.zone,
            }
        })
        .collect();
    rows.extend(pending.into_values().map(|p| VmRow {
        instance_id: p.instance_id,
        name: p.instance_name,
        project: p.project,
        zone: p.zone,
        state: VmState::Pending,
        approved_at: None,
        expires_at: None,
        revoked_at: None,
        revoke_reason: None,
        revision: None,
        first_seen: Some(p.first_seen),
        last_seen: Some(p.last_seen),
        attempts: p.attempts,
        failed_checks: p.failed_checks.into_iter().map(|c| c.name).collect(),
    }));
    rows.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then_with(|| a.instance_id.cmp(&b.instance_id))
    });
    rows
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

/// The rows as a text table.
pub fn table(rows: &[VmRow]) -> String {
    let header = [
        "INSTANCE ID",
        "NAME",
        "PROJECT/ZONE",
        "STATE",
        "LAST SEEN / APPROVED",
        "ATTEMPTS",
        "FAILED CHECKS",
    ]
    .map(str::to_owned);
    let mut cells: Vec<[String; 7]> = vec![header];
    for r in rows {
        let when = match r.state {
            VmState::Pending => time(r.last_seen),
            VmState::Revoked => format!("revoked {}", time(r.revoked_at)),
            VmState::Approved | VmState::Expired => time(r.approved_at),
        };
        let failed = if r.failed_checks.is_empty() {
            "-".to_owned()
        } else {
            r.failed_checks.join(",")
        };
        // The store's text (written from a VM's token) is one cell: no control characters.
        let cell = |text: &str| printable_line(text).into_owned();
        cells.push([
            cell(&r.instance_id),
            cell(&r.name),
            cell(&format!("{}/{}", r.project, r.zone)),
            r.state.as_str().to_owned(),
            when,
            r.attempts.to_string(),
            cell(&failed),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no VMs: none has asked for secrets and none is approved)\n");
    }
    out
}

pub async fn run(global: &GlobalOptions) -> Result<(), ConsoleError> {
    let store = open_store(&global.store).await?;
    let rows = rows(
        store.list_approvals().await?,
        store.list_pending().await?,
        Utc::now(),
    );
    if global.json {
        emit_json(&ListJson { vms: rows })
    } else {
        emit(&table(&rows))
    }
}
