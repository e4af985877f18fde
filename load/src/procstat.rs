//! A child process's CPU time and memory from `/proc`: `utime + stime` of `/proc/PID/stat` (every
//! thread, in clock ticks, converted with `getconf CLK_TCK`), and `VmRSS` of `/proc/PID/status`,
//! sampled while a phase runs (start, end, max).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;

/// How often RSS is sampled during a phase.
const RSS_SAMPLE: Duration = Duration::from_millis(100);

/// Clock ticks per second (`getconf CLK_TCK`; 100 where it cannot be asked).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// CPU time (user + system) the process has used so far, in milliseconds.
pub fn cpu_ms(pid: u32, ticks_per_sec: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc/PID/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let tick = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc/PID/stat")?
            .parse::<f64>()?)
    };
    Ok((tick(11)? + tick(12)?) * 1000.0 / ticks_per_sec)
}

/// The machine's busy and total CPU time so far, in clock ticks, summed over its CPUs (the `cpu`
/// line of `/proc/stat`; idle and iowait are not busy).
pub fn machine_ticks() -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("no cpu line in /proc/stat")?;
    let values: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse::<f64>().unwrap_or(0.0))
        .collect();
    let total: f64 = values.iter().sum();
    let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
    Ok((total - idle, total))
}

/// Milliseconds the process's threads have spent waiting for a CPU while runnable so far (the
/// second field of `/proc/PID/task/TID/schedstat`, summed over the live threads): CPU starvation.
pub fn runqueue_wait_ms(pid: u32) -> anyhow::Result<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .with_context(|| format!("cannot list /proc/{pid}/task"))?;
    let mut total_ns = 0.0;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat"))
            && let Some(wait) = text.split_whitespace().nth(1)
        {
            total_ns += wait.parse::<f64>().unwrap_or(0.0);
        }
    }
    Ok(total_ns / 1e6)
}

/// Resident set size in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// RSS samples of one process while a phase runs.
#[derive(Debug)]
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
    pid: u32,
    start: u64,
}

/// RSS over a phase, KiB.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Rss {
    pub start_kib: u64,
    pub end_kib: u64,
    pub max_kib: u64,
}

impl RssSampler {
    pub fn start(pid: u32) -> anyhow::Result<RssSampler> {
        let start = rss_kib(pid)?;
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(start));
        let task = tokio::spawn({
            let (stop, max) = (Arc::clone(&stop), Arc::clone(&max));
            async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(rss) = rss_kib(pid) {
                        max.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(RSS_SAMPLE).await;
                }
            }
        });
        Ok(RssSampler {
            stop,
            max,
            task,
            pid,
            start,
        })
    }

    pub async fn finish(self) -> anyhow::Result<Rss> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        let end = rss_kib(self.pid)?;
        Ok(Rss {
            start_kib: self.start,
            end_kib: end,
            max_kib: self.max.load(Ordering::Relaxed).max(end),
        })
    }
}
