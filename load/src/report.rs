//! The report of a run: per phase (tokenserver, echo) throughput, latency percentiles, errors by
//! code, server CPU per request and RSS; Google API calls per release and per project-minute; the
//! ratios of tokenserver to echo. Printed as a table and written as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use serde::Serialize;

use crate::drive::Samples;
use crate::procstat::Rss;

/// One measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// `tokenserver` or `echo`.
    pub target: String,
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    /// Failed requests by `CODE RPC: message` (the server's status message; the first 20 distinct).
    pub error_messages: BTreeMap<String, u64>,
    /// Open loop: requests unanswered when the drain bound passed.
    pub unfinished: u64,
    pub elapsed_s: f64,
    /// Answered requests per second (ok or not).
    pub throughput_per_s: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The server process's user + system CPU over the phase.
    pub server_cpu_ms: f64,
    pub server_cpu_ms_per_request: f64,
    pub server_rss: Rss,
    /// gcpsim's CPU over the phase (tokenserver phase only), and per request.
    pub gcpsim_cpu_ms: Option<f64>,
    pub gcpsim_cpu_ms_per_request: Option<f64>,
    /// This tool's own CPU over the phase (callers, software TPM), and per request.
    pub tool_cpu_ms: f64,
    pub tool_cpu_ms_per_request: f64,
    /// How long the server's threads waited, runnable, for a CPU over the phase (run-queue wait
    /// from `/proc/PID/task/*/schedstat`): time the server lost to other processes.
    pub server_runqueue_wait_ms: f64,
    /// The share of the machine's CPU time (all processes, all CPUs) that was busy over the phase.
    pub machine_busy: f64,
    /// The machine's CPUs.
    pub machine_cpus: usize,
}

/// CPU over a phase of the processes beside the server: they share the machine with it.
#[derive(Debug, Clone, Copy)]
pub struct OtherCpu {
    /// The server's threads' run-queue wait over the phase.
    pub server_wait_ms: f64,
    pub gcpsim_ms: Option<f64>,
    pub tool_ms: f64,
    /// Busy share of all CPUs, 0..1.
    pub machine_busy: f64,
}

/// CPU milliseconds over `elapsed_s` as a number of busy cores.
fn cores(cpu_ms: f64, elapsed_s: f64) -> f64 {
    if elapsed_s > 0.0 {
        cpu_ms / 1000.0 / elapsed_s
    } else {
        0.0
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

impl Phase {
    pub fn new(
        target: &str,
        mut samples: Samples,
        server_cpu_ms: f64,
        server_rss: Rss,
        others: OtherCpu,
    ) -> Phase {
        samples.latencies.sort();
        let requests = samples.latencies.len() as u64;
        let failed: u64 = samples.errors.values().sum();
        let elapsed_s = samples.elapsed.as_secs_f64();
        let per_request = |ms: f64| {
            if requests > 0 {
                ms / requests as f64
            } else {
                0.0
            }
        };
        Phase {
            target: target.to_string(),
            requests,
            ok: requests.saturating_sub(failed),
            errors: samples.errors,
            error_messages: samples.messages,
            unfinished: samples.unfinished,
            elapsed_s,
            throughput_per_s: if elapsed_s > 0.0 {
                requests as f64 / elapsed_s
            } else {
                0.0
            },
            p50_ms: percentile(&samples.latencies, 50.0),
            p90_ms: percentile(&samples.latencies, 90.0),
            p99_ms: percentile(&samples.latencies, 99.0),
            max_ms: percentile(&samples.latencies, 100.0),
            server_cpu_ms,
            server_cpu_ms_per_request: per_request(server_cpu_ms),
            server_rss,
            gcpsim_cpu_ms: others.gcpsim_ms,
            gcpsim_cpu_ms_per_request: others.gcpsim_ms.map(per_request),
            tool_cpu_ms: others.tool_ms,
            tool_cpu_ms_per_request: per_request(others.tool_ms),
            server_runqueue_wait_ms: others.server_wait_ms,
            machine_busy: others.machine_busy,
            machine_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Google API calls the server made during the tokenserver phase (from gcpsim's counters).
#[derive(Debug, Clone, Serialize)]
pub struct GoogleCalls {
    /// Calls per Google method.
    pub by_method: BTreeMap<String, u64>,
    pub total: u64,
    pub per_release: f64,
    /// Per method: calls per release.
    pub per_release_by_method: BTreeMap<String, f64>,
    /// Calls per project per minute, and Cloud Logging `entries.list` alone.
    pub per_project_minute: f64,
    pub logging_per_project_minute: f64,
}

impl GoogleCalls {
    pub fn new(
        before: &BTreeMap<String, u64>,
        after: &BTreeMap<String, u64>,
        releases: u64,
        projects: usize,
        elapsed_s: f64,
    ) -> GoogleCalls {
        let by_method: BTreeMap<String, u64> = after
            .iter()
            .map(|(m, n)| (m.clone(), n - before.get(m).copied().unwrap_or(0).min(*n)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let total: u64 = by_method.values().sum();
        let per = |n: u64| {
            if releases > 0 {
                n as f64 / releases as f64
            } else {
                0.0
            }
        };
        let project_minutes = projects as f64 * elapsed_s / 60.0;
        let per_pm = |n: u64| {
            if project_minutes > 0.0 {
                n as f64 / project_minutes
            } else {
                0.0
            }
        };
        let logging = by_method.get("logging.entries.list").copied().unwrap_or(0);
        GoogleCalls {
            per_release_by_method: by_method
                .iter()
                .map(|(m, n)| (m.clone(), per(*n)))
                .collect(),
            by_method,
            total,
            per_release: per(total),
            per_project_minute: per_pm(total),
            logging_per_project_minute: per_pm(logging),
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    /// The command line that made it.
    pub command: String,
    /// `closed K` or `open R/s (fixed|poisson)`.
    pub load: String,
    pub vms: usize,
    pub projects: usize,
    pub duration_s: f64,
    pub google_latency: Vec<String>,
    /// Whether every release attested with the software TPM (`--tpm`).
    pub tpm: bool,
    /// Where releases took their audit verdict: `watch` or `direct` (`--audit`).
    pub audit: String,
    pub build: String,
    pub tokenserver: Phase,
    pub google: GoogleCalls,
    pub echo: Option<Phase>,
    /// tokenserver throughput / echo throughput.
    pub throughput_ratio: Option<f64>,
    /// tokenserver CPU per request / echo CPU per request.
    pub cpu_per_request_ratio: Option<f64>,
}

impl Report {
    /// The human table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} load, {} VMs in {} project(s), {:.0} s per phase, Google latency {}, audit {}, {}{} build",
            self.name,
            self.load,
            self.vms,
            self.projects,
            self.duration_s,
            if self.google_latency.is_empty() {
                "none".to_string()
            } else {
                self.google_latency.join(", ")
            },
            self.audit,
            if self.tpm {
                "software-TPM attestation, "
            } else {
                ""
            },
            self.build,
        );
        let _ = writeln!(
            out,
            "| target | requests | ok | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU ms/req | server RSS MiB start/end/max |"
        );
        let _ = writeln!(out, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|");
        for phase in std::iter::once(&self.tokenserver).chain(self.echo.as_ref()) {
            let errors = if phase.errors.is_empty() && phase.unfinished == 0 {
                "0".to_string()
            } else {
                let mut list: Vec<String> = phase
                    .errors
                    .iter()
                    .map(|(c, n)| format!("{c} {n}"))
                    .collect();
                if phase.unfinished > 0 {
                    list.push(format!("unfinished {}", phase.unfinished));
                }
                list.join(", ")
            };
            let mib = |kib: u64| kib as f64 / 1024.0;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} | {:.1}/{:.1}/{:.1} |",
                phase.target,
                phase.requests,
                phase.ok,
                errors,
                phase.throughput_per_s,
                phase.p50_ms,
                phase.p90_ms,
                phase.p99_ms,
                phase.max_ms,
                phase.server_cpu_ms_per_request,
                mib(phase.server_rss.start_kib),
                mib(phase.server_rss.end_kib),
                mib(phase.server_rss.max_kib),
            );
        }
        for phase in std::iter::once(&self.tokenserver).chain(self.echo.as_ref()) {
            let _ = writeln!(
                out,
                "{} phase CPU: server {:.1} cores (its threads waited {:.1} s for a CPU), {}load tool {:.1} ms/req ({:.1} cores); machine {:.0}% busy of {} CPUs",
                phase.target,
                cores(phase.server_cpu_ms, phase.elapsed_s),
                phase.server_runqueue_wait_ms / 1000.0,
                match phase.gcpsim_cpu_ms_per_request {
                    Some(ms) => format!(
                        "gcpsim {ms:.1} ms/req ({:.1} cores), ",
                        cores(phase.gcpsim_cpu_ms.unwrap_or(0.0), phase.elapsed_s)
                    ),
                    None => String::new(),
                },
                phase.tool_cpu_ms_per_request,
                cores(phase.tool_cpu_ms, phase.elapsed_s),
                phase.machine_busy * 100.0,
                phase.machine_cpus,
            );
            for (message, n) in &phase.error_messages {
                let _ = writeln!(out, "{} failure: {n} x {message}", phase.target);
            }
        }
        let methods: Vec<String> = self
            .google
            .per_release_by_method
            .iter()
            .map(|(m, n)| format!("{m} {n:.2}"))
            .collect();
        let _ = writeln!(
            out,
            "Google API calls per release: {:.2} ({}); per project-minute: {:.0} (logging.entries.list {:.0})",
            self.google.per_release,
            if methods.is_empty() {
                "none".to_string()
            } else {
                methods.join(", ")
            },
            self.google.per_project_minute,
            self.google.logging_per_project_minute,
        );
        if let (Some(throughput), Some(cpu)) = (self.throughput_ratio, self.cpu_per_request_ratio) {
            let _ = writeln!(
                out,
                "tokenserver / echo: throughput {throughput:.3}x, server CPU per request {cpu:.1}x"
            );
        }
        out
    }
}

/// Prints a report's table and, with `--json`, writes the report there as pretty JSON (creating its
/// folder).
pub fn publish(table: &str, report: &impl Serialize, json: Option<&Path>) -> anyhow::Result<()> {
    print!("{table}");
    let Some(path) = json else {
        return Ok(());
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(report)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}
