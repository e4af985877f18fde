//! `tokendist list`: every VM the store knows ([`crate::operations::list`]), one row each, sorted by
//! need of attention — approval state when approved (approved, expired, revoked), else `pending` —
//! with the server's last verdict (✘ when the VM's own checks failed, – when only its approval is
//! missing), the latest denial's attempts and failed checks. `--json` prints [`ListJson`], whose
//! shape is documented in the subcommand's `--help`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::terminal_text::printable_line;

use crate::cli::{GlobalOptions, ListArgs};
use crate::context::open_store;
use crate::error::ConsoleError;
use crate::operations;
pub use crate::operations::model::{VerdictSummary, VmGroup, VmRow, VmState};
use crate::output::{emit, emit_json};

/// `list --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListJson {
    pub vms: Vec<VmRow>,
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

const COLUMNS: usize = 8;

/// The state, and whether an approved VM has been denied since.
fn state_cell(row: &VmRow) -> String {
    match row.group {
        VmGroup::DeniedAfterApproval => format!("{} (denied since)", row.state.as_str()),
        VmGroup::Pending | VmGroup::Approved | VmGroup::Revoked => row.state.as_str().to_owned(),
    }
}

/// The server's last verdict as `MARK PASSED/EVALUATED`: ✘ when a check of the VM itself failed
/// (tampered or misconfigured), – when only its approval is missing or unusable, `-` without one.
pub fn verdict_cell(verdict: Option<&VerdictSummary>) -> String {
    match verdict {
        None => "-".to_owned(),
        Some(v) if v.failed.is_empty() => format!("✔ {}", v.ratio()),
        Some(v) if v.only_unapproved() => format!("– {}", v.ratio()),
        Some(v) => format!("✘ {}", v.ratio()),
    }
}

/// The rows as a text table.
pub fn table(rows: &[VmRow]) -> String {
    let header = [
        "INSTANCE ID",
        "NAME",
        "PROJECT/ZONE",
        "STATE",
        "VERDICT",
        "LAST SEEN / APPROVED",
        "ATTEMPTS",
        "FAILED CHECKS",
    ]
    .map(str::to_owned);
    let mut cells: Vec<[String; COLUMNS]> = vec![header];
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
            state_cell(r),
            verdict_cell(r.verdict.as_ref()),
            when,
            r.attempts.to_string(),
            cell(&failed),
        ]);
    }
    let mut widths = [0usize; COLUMNS];
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

pub async fn run(global: &GlobalOptions, args: &ListArgs) -> Result<(), ConsoleError> {
    let store = open_store(&global.store, global.create).await?;
    let rows = operations::list(&*store, Utc::now()).await?.rows;
    if args.output.json {
        emit_json(&ListJson { vms: rows })
    } else {
        emit(&table(&rows))
    }
}
