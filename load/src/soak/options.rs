//! The command line of `tokendist-load soak`: how many VMs, how long, how often each re-attests,
//! how many replicas, when memory and descriptors are sampled and judged, the binaries and reports.

use std::time::Duration;

use clap::Args;

use crate::cli::{AuditSource, RunFiles, parse_duration};

/// The longest default warm-up.
const DEFAULT_WARM_UP: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Args)]
pub struct SoakOptions {
    /// Simulated VMs; by index, 1 in 20 is never approved, 1 in 10 is approved during the run, 1 in
    /// 10 is revoked during the run.
    #[arg(long, default_value_t = 1000)]
    pub vms: usize,
    /// How long releases are sent: `10m`, `30s`.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Each VM re-attests once per this interval (open loop: the servers see VMs / interval
    /// releases per second, whatever the answers).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub interval: Duration,
    /// `tokenserver` replicas on the one Firestore store; VM `i` connects to replica `i mod R`.
    #[arg(long, default_value_t = 2)]
    pub replicas: usize,
    /// How often each replica's RSS and open descriptors are sampled.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub sample_every: Duration,
    /// Samples before this (from the start of the releases) are not judged for flatness; default
    /// one minute, or a third of a shorter run.
    #[arg(long, value_parser = parse_duration)]
    pub warm_up: Option<Duration>,
    /// After the warm-up, each replica's open descriptors may grow by at most this many (median of
    /// the last quarter of the samples minus that of the first quarter).
    #[arg(long, default_value_t = 16)]
    pub fd_slack: u64,
    /// The Firestore project id of the run's store (default: `soak-` and a random suffix, so runs
    /// on one emulator never see each other). Needs `FIRESTORE_EMULATOR_HOST`.
    #[arg(long)]
    pub project: Option<String>,
    /// How releases decide `auditlog.clean`: `direct` (each release reads its VM's audit history)
    /// or `watch` (the server's default: the replicas share the audit watch through the store,
    /// reconciliation only — one `entries:list` per project per 30 s; the run starts once every
    /// initially approved VM is baselined, and VMs approved during it are baselined as it goes).
    #[arg(long, value_enum, default_value_t = AuditSource::Direct)]
    pub audit: AuditSource,
    /// RUST_LOG of the replicas.
    #[arg(long, value_name = "FILTER", default_value = "warn")]
    pub server_log: String,
    #[command(flatten)]
    pub files: RunFiles,
}

impl SoakOptions {
    /// Refuses options that cannot make a run.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.vms >= 20,
            "--vms must be at least 20 (every role needs a VM)"
        );
        anyhow::ensure!(self.replicas > 0, "--replicas must be positive");
        anyhow::ensure!(!self.duration.is_zero(), "--duration must be positive");
        anyhow::ensure!(!self.interval.is_zero(), "--interval must be positive");
        anyhow::ensure!(
            !self.sample_every.is_zero(),
            "--sample-every must be positive"
        );
        anyhow::ensure!(
            self.warm_up() < self.duration,
            "--warm-up {:?} leaves nothing of the {:?} run to judge",
            self.warm_up(),
            self.duration
        );
        Ok(())
    }

    /// The warm-up: as given, else one minute or a third of the run, whichever is shorter.
    pub fn warm_up(&self) -> Duration {
        self.warm_up
            .unwrap_or_else(|| DEFAULT_WARM_UP.min(self.duration / 3))
    }

    /// Releases per second over all VMs.
    pub fn rate(&self) -> f64 {
        self.vms as f64 / self.interval.as_secs_f64()
    }
}
