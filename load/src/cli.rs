//! The command line: what to drive (closed-loop callers or an open-loop rate), for how long, with
//! how many simulated VMs and projects, what latency gcpsim adds to Google's methods, where the
//! binaries are and where the JSON report goes; the hidden `echo-server` mode (the baseline) and
//! the `soak` mode (its options in [`crate::soak::options`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Drives a real `tokenserver` (and, in the same run, a bare tonic mTLS echo server) with simulated
/// VMs and reports throughput, latency, errors by gRPC code, server CPU and RSS, and Google API calls.
#[derive(Debug, Parser)]
#[command(name = "tokendist-load", version)]
pub struct Cli {
    #[command(subcommand)]
    pub mode: Option<Mode>,
    #[command(flatten)]
    pub run: RunOptions,
}

#[derive(Debug, Subcommand)]
pub enum Mode {
    /// The baseline: a bare tonic mTLS unary echo of the TokenService messages (used by the tool itself).
    #[command(hide = true)]
    EchoServer(EchoOptions),
    /// The soak: N VMs re-attesting against several tokenserver replicas on one Firestore store
    /// (the emulator) while approvals and revocations arrive; fails on a wrong release, a lost
    /// event, an error, or RSS or open descriptors not flat.
    Soak(crate::soak::options::SoakOptions),
}

#[derive(Debug, Args)]
pub struct EchoOptions {
    #[arg(long)]
    pub cert: PathBuf,
    #[arg(long)]
    pub key: PathBuf,
    #[arg(long)]
    pub client_ca: PathBuf,
}

/// Where a release's audit verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditSource {
    Watch,
    Direct,
}

impl AuditSource {
    /// The option's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Watch => "watch",
            Self::Direct => "direct",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Closed loop: this many callers, each one TLS connection (one VM each), each sending its next
    /// release as soon as the previous one is answered.
    #[arg(long, default_value_t = 1, conflicts_with = "rate")]
    pub concurrency: usize,
    /// Open loop: this many releases per second, sent at their scheduled times whatever the answers
    /// (latency counts from the scheduled time), spread over the VMs' connections.
    #[arg(long)]
    pub rate: Option<f64>,
    /// With --rate: exponential (Poisson) gaps between sends instead of fixed spacing.
    #[arg(long, requires = "rate")]
    pub poisson: bool,
    /// How long each measured phase runs: `30s`, `500ms`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Simulated VMs (each its own gcpsim instance with its own approval); default: the
    /// concurrency, or 64 with --rate.
    #[arg(long)]
    pub vms: Option<usize>,
    /// Projects the VMs are spread over (round robin).
    #[arg(long, default_value_t = 1)]
    pub projects: usize,
    /// Latency gcpsim adds to every Google method (`50ms`).
    #[arg(long, value_name = "DURATION")]
    pub google_latency: Option<String>,
    /// Latency gcpsim adds to one method or API: `compute.instances.get=50ms`, `logging=20ms`
    /// (repeatable; the most specific wins).
    #[arg(long, value_name = "METHOD=DURATION")]
    pub latency: Vec<String>,
    /// Every release attests with a TPM first (Attest, ActivateCredential, a quote,
    /// ProveAttestation): each VM's vTPM is a software TPM, its EK in the VM's shielded identity, its
    /// approval requiring the TPM with the software TPM's PCR values; the server verifies it as it
    /// verifies a real vTPM.
    #[arg(long)]
    pub tpm: bool,
    /// How releases decide `auditlog.clean`: `watch` (the server's default: the audit watch,
    /// reconciled by one `entries:list` per project per 30 s; measured once every VM is baselined)
    /// or `direct` (the watch off: each release reads its VM's audit history).
    #[arg(long, value_enum, default_value_t = AuditSource::Watch)]
    pub audit: AuditSource,
    /// RUST_LOG of the tokenserver (its log is printed, and the run's directory kept, when a
    /// release fails).
    #[arg(long, value_name = "FILTER", default_value = "warn")]
    pub server_log: String,
    /// Skip the echo baseline (no ratios are printed).
    #[arg(long)]
    pub no_echo: bool,
    #[command(flatten)]
    pub files: RunFiles,
}

/// The binaries a run starts, where its report goes and what it is called (`run` and `soak` alike).
#[derive(Debug, Clone, Args)]
pub struct RunFiles {
    /// Write the report here as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// A name for this run in the report (default: `run`, or `soak` for the soak).
    #[arg(long)]
    pub name: Option<String>,
    /// The `tokenserver` binary (default: next to this one).
    #[arg(long, value_name = "PATH")]
    pub tokenserver: Option<PathBuf>,
    /// The `gcpsim` binary (default: next to this one).
    #[arg(long, value_name = "PATH")]
    pub gcpsim: Option<PathBuf>,
    /// Keep the run's directory (configs, logs, store) here instead of a removed temp dir.
    #[arg(long, value_name = "DIR")]
    pub keep_dir: Option<PathBuf>,
}

impl RunFiles {
    /// The report's name: `--name`, else `default`.
    pub fn name_or(&self, default: &str) -> String {
        self.name.clone().unwrap_or_else(|| default.to_owned())
    }
}

impl RunOptions {
    /// The number of simulated VMs.
    pub fn vm_count(&self) -> usize {
        self.vms.unwrap_or(match self.rate {
            Some(_) => 64,
            None => self.concurrency,
        })
    }

    /// gcpsim's `--latency` arguments.
    pub fn latency_args(&self) -> Vec<String> {
        let mut specs: Vec<String> = self
            .google_latency
            .iter()
            .map(|d| format!("*={d}"))
            .collect();
        specs.extend(self.latency.iter().cloned());
        specs
    }

    /// Refuses options that cannot make a run.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.concurrency > 0, "--concurrency must be positive");
        anyhow::ensure!(self.vm_count() > 0, "--vms must be positive");
        anyhow::ensure!(self.projects > 0, "--projects must be positive");
        anyhow::ensure!(
            self.projects <= self.vm_count(),
            "--projects {} is more than the {} VMs",
            self.projects,
            self.vm_count()
        );
        if let Some(rate) = self.rate {
            anyhow::ensure!(
                rate.is_finite() && rate > 0.0,
                "--rate must be a positive number of releases per second"
            );
        }
        anyhow::ensure!(!self.duration.is_zero(), "--duration must be positive");
        for spec in self.latency_args() {
            tokendist_sim_latency_check(&spec)?;
        }
        Ok(())
    }
}

fn tokendist_sim_latency_check(spec: &str) -> anyhow::Result<()> {
    let (_, duration) = spec.split_once('=').unwrap_or(("*", spec));
    parse_duration(duration).map_err(|e| anyhow::anyhow!("latency {spec:?}: {e}"))?;
    Ok(())
}

/// `10s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60.0)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s or 500ms"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?} is not a duration like 10s or 500ms"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}
