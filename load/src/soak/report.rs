//! A soak run's report: the verdict of every check (wrong releases, lost events, errors, churn
//! committed, each replica's RSS and descriptors flat), the counts behind them, latency, and each
//! replica's samples; printed as a table and written as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::AuditSource;
use crate::report::GoogleCalls;
use crate::soak::resources::Usage;
use crate::soak::timeline::{Accounting, Change};

/// One enforced check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl Check {
    pub fn new(name: &str, passed: bool, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// Latency of the answered requests from their scheduled send, milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(mut seconds: Vec<f64>) -> Latency {
        seconds.sort_by(f64::total_cmp);
        let at = |q: f64| -> f64 {
            if seconds.is_empty() {
                return 0.0;
            }
            let i = ((seconds.len() - 1) as f64 * q).round() as usize;
            seconds.get(i).copied().unwrap_or(0.0) * 1000.0
        };
        Latency {
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub name: String,
    pub command: String,
    pub build: String,
    pub store: String,
    pub vms: usize,
    /// VMs per role (`approved`, `late-approved`, `revoked`, `unapproved`).
    pub roles: BTreeMap<String, usize>,
    pub replicas: usize,
    /// Where releases took their audit verdict from (`direct` or `watch`).
    pub audit: AuditSource,
    pub duration_s: f64,
    pub interval_s: f64,
    pub rate_per_s: f64,
    pub warm_up_s: f64,
    pub sample_every_s: f64,
    pub fd_slack: u64,
    /// How the server's approval reads were judged (no grace period: see the timeline module).
    pub revocation_rule: String,
    /// From the first send to the last answer (or the end of the drain).
    pub elapsed_s: f64,
    pub planned_changes: usize,
    pub changes: Vec<Change>,
    /// The longest approval/revocation write (start to commit), milliseconds.
    pub max_commit_ms: f64,
    pub accounting: Accounting,
    pub latency: Latency,
    pub usage: Vec<Usage>,
    /// Google API calls the replicas made while releases were sent (gcpsim's counters).
    pub google: GoogleCalls,
    pub checks: Vec<Check>,
    pub passed: bool,
}

impl SoakReport {
    /// The human-readable table.
    pub fn table(&self) -> String {
        let a = &self.accounting;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} VMs ({}), {} replica(s) on {}, audit {}, {:.0} s, each VM every {:.0} s ({:.1} releases/s), {} build",
            self.name,
            self.vms,
            self.roles
                .iter()
                .map(|(role, n)| format!("{role} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.replicas,
            self.store,
            self.audit.as_str(),
            self.duration_s,
            self.interval_s,
            self.rate_per_s,
            self.build
        );
        let _ = writeln!(
            out,
            "| requests | released | denied (expected) | raced | errors | wrong releases | lost events | p50 ms | p99 ms | max ms |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
        let errors = if a.errors.is_empty() {
            "0".to_string()
        } else {
            a.errors
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            a.requests,
            a.releases,
            a.expected_denials,
            a.raced,
            errors,
            a.wrong_releases,
            a.lost_events,
            self.latency.p50_ms,
            self.latency.p99_ms,
            self.latency.max_ms
        );
        let approvals = self
            .changes
            .iter()
            .filter(|c| c.kind == crate::soak::timeline::ChangeKind::Approve)
            .count();
        let _ = writeln!(
            out,
            "churn: {approvals} approvals and {} revocations committed of {} planned (longest write {:.1} ms); store events: released {}, approved {}, revoked {}",
            self.changes.len() - approvals,
            self.planned_changes,
            self.max_commit_ms,
            a.stored_releases,
            a.stored_approvals,
            a.stored_revocations
        );
        let g = &self.google;
        let _ = writeln!(
            out,
            "Google calls: {:.2} per release ({}); Logging entries.list {:.1} per project-minute",
            g.per_release,
            g.per_release_by_method
                .iter()
                .map(|(method, n)| format!("{method} {n:.2}"))
                .collect::<Vec<_>>()
                .join(", "),
            g.logging_per_project_minute
        );
        let _ = writeln!(
            out,
            "| replica | samples judged | RSS MiB min/median/max | fds min/median/max | flat |"
        );
        let _ = writeln!(out, "|---|---:|---|---|---|");
        for usage in &self.usage {
            let mib = |kib: u64| kib as f64 / 1024.0;
            let _ = writeln!(
                out,
                "| {} | {} | {:.1}/{:.1}/{:.1} | {}/{}/{} | RSS {}, fds {} |",
                usage.name,
                usage.judged_samples,
                mib(usage.rss_kib.min),
                mib(usage.rss_kib.median),
                mib(usage.rss_kib.max),
                usage.fds.min,
                usage.fds.median,
                usage.fds.max,
                yes(usage.rss_flat),
                yes(usage.fds_flat)
            );
        }
        for (message, n) in &a.error_messages {
            let _ = writeln!(out, "error: {n} x {message}");
        }
        for why in a
            .wrong_release_examples
            .iter()
            .chain(&a.lost_event_examples)
        {
            let _ = writeln!(out, "  {why}");
        }
        for check in &self.checks {
            let _ = writeln!(
                out,
                "check {}: {} ({})",
                check.name,
                if check.passed { "PASS" } else { "FAIL" },
                check.detail
            );
        }
        let _ = writeln!(
            out,
            "soak {}",
            if self.passed { "PASSED" } else { "FAILED" }
        );
        out
    }
}

fn yes(flat: bool) -> &'static str {
    if flat { "flat" } else { "NOT flat" }
}
