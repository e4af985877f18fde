//! A server's memory and file descriptors over a soak run: `VmRSS` of `/proc/PID/status` and the
//! entries of `/proc/PID/fd`, sampled every few seconds on a task of their own; and whether they
//! stayed flat. Flat: of the samples taken after the warm-up, RSS stays within ±[`RSS_BAND`] of
//! their median (max ≤ 1.1 × median, min ≥ 0.9 × median), and the open descriptors vary by at
//! most `fd_slack` (max − min).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use tokio::time::Instant;

use crate::procstat;

/// RSS may move this far from its median after the warm-up.
pub const RSS_BAND: f64 = 0.10;

/// One sample: seconds since the run began, RSS in KiB, open descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    pub t: f64,
    pub rss_kib: u64,
    pub fds: u64,
}

/// The open file descriptors of `pid`.
pub fn open_fds(pid: u32) -> anyhow::Result<u64> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("cannot list /proc/{pid}/fd"))?;
    Ok(dir.count() as u64)
}

/// Samples `pid` every `every` from now until dropped or [`Sampler::finish`].
#[derive(Debug)]
pub struct Sampler {
    samples: Arc<Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Starts sampling; `origin` is the run's start.
    pub fn start(pid: u32, origin: Instant, every: Duration) -> Sampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let samples = Arc::clone(&samples);
            async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if let (Ok(rss_kib), Ok(fds)) = (procstat::rss_kib(pid), open_fds(pid)) {
                        let sample = Sample {
                            t: origin.elapsed().as_secs_f64(),
                            rss_kib,
                            fds,
                        };
                        samples
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(sample);
                    }
                }
            }
        });
        Sampler { samples, task }
    }

    /// Stops sampling and returns the samples.
    pub fn finish(self) -> Vec<Sample> {
        self.task.abort();
        let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        samples.clone()
    }
}

/// Min, median and max of some values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    pub min: u64,
    pub median: u64,
    pub max: u64,
}

impl Spread {
    fn of(mut values: Vec<u64>) -> Spread {
        values.sort_unstable();
        match (values.first(), values.get(values.len() / 2), values.last()) {
            (Some(&min), Some(&median), Some(&max)) => Spread { min, median, max },
            _ => Spread::default(),
        }
    }
}

/// One server's resources over the run, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub name: String,
    pub pid: u32,
    /// Samples taken after the warm-up (the ones judged).
    pub judged_samples: usize,
    pub rss_kib: Spread,
    pub fds: Spread,
    /// The first and last judged samples' RSS and descriptors.
    pub first: Option<Sample>,
    pub last: Option<Sample>,
    pub rss_flat: bool,
    pub fds_flat: bool,
    /// Median open descriptors of the last quarter of the judged samples minus the first's.
    pub fds_growth: i64,
    /// Why RSS is not flat (too few samples, or out of the band), if not.
    pub rss_problem: Option<String>,
    /// Why the descriptors are not flat, if not.
    pub fds_problem: Option<String>,
    /// Every sample, warm-up included.
    pub samples: Vec<Sample>,
}

/// Judges `samples` of server `name`: those at or after `warm_up` seconds must be at least three,
/// RSS within the band around their median, descriptors within `fd_slack`.
pub fn judge(name: &str, pid: u32, samples: Vec<Sample>, warm_up: f64, fd_slack: u64) -> Usage {
    let judged: Vec<Sample> = samples.iter().copied().filter(|s| s.t >= warm_up).collect();
    let rss = Spread::of(judged.iter().map(|s| s.rss_kib).collect());
    let fds = Spread::of(judged.iter().map(|s| s.fds).collect());
    let median = rss.median as f64;
    let enough = judged.len() >= 3;
    let too_few = format!(
        "only {} samples after the {warm_up:.0} s warm-up (3 needed)",
        judged.len()
    );
    let rss_flat = enough && rss.max as f64 <= median * (1.0 + RSS_BAND);
    let rss_problem = match (enough, rss_flat) {
        (false, _) => Some(too_few.clone()),
        (true, false) => Some(format!(
            "RSS max {} KiB is more than {:.0} % above the median {} KiB",
            rss.max,
            RSS_BAND * 100.0,
            rss.median
        )),
        (true, true) => None,
    };
    let quarter = (judged.len() / 4).max(1);
    let first_fds = Spread::of(judged.iter().take(quarter).map(|s| s.fds).collect()).median;
    let last_fds = Spread::of(judged.iter().rev().take(quarter).map(|s| s.fds).collect()).median;
    let fds_growth = last_fds as i64 - first_fds as i64;
    let fds_flat = enough && fds_growth <= fd_slack as i64;
    let fds_problem = match (enough, fds_flat) {
        (false, _) => Some(too_few),
        (true, false) => Some(format!(
            "open descriptors grew by {fds_growth} (median of the first quarter {first_fds}, of the last {last_fds}), more than {fd_slack}"
        )),
        (true, true) => None,
    };
    Usage {
        name: name.to_string(),
        pid,
        judged_samples: judged.len(),
        rss_kib: rss,
        fds,
        first: judged.first().copied(),
        last: judged.last().copied(),
        rss_flat,
        fds_flat,
        fds_growth,
        rss_problem,
        fds_problem,
        samples,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn samples(rss: &[u64], fds: &[u64]) -> Vec<Sample> {
        rss.iter()
            .zip(fds)
            .enumerate()
            .map(|(i, (&rss_kib, &fds))| Sample {
                t: i as f64,
                rss_kib,
                fds,
            })
            .collect()
    }

    #[test]
    fn steady_memory_and_descriptors_are_flat_after_the_warm_up() {
        // The warm-up's 10 MiB start is not judged.
        let usage = judge(
            "a",
            1,
            samples(
                &[10_000, 40_000, 41_000, 40_500, 42_000],
                &[5, 60, 61, 60, 62],
            ),
            1.0,
            8,
        );
        assert!(usage.rss_flat && usage.fds_flat, "{usage:#?}");
        assert_eq!(usage.judged_samples, 4);
        assert_eq!(usage.rss_kib.min, 40_000);
        assert_eq!(usage.rss_kib.max, 42_000);
    }

    #[test]
    fn growing_memory_or_descriptors_are_not_flat() {
        let usage = judge(
            "a",
            1,
            samples(&[40_000, 45_000, 50_000, 60_000], &[60, 70, 80, 90]),
            0.0,
            8,
        );
        assert!(!usage.rss_flat && !usage.fds_flat, "{usage:#?}");
        assert!(usage.rss_problem.is_some() && usage.fds_problem.is_some());
    }

    #[test]
    fn a_burst_of_descriptors_that_closes_again_and_a_small_rss_step_are_flat() {
        let usage = judge(
            "a",
            1,
            samples(
                &[
                    43_000, 43_500, 52_000, 52_000, 52_100, 52_100, 52_100, 52_200,
                ],
                &[518, 518, 603, 603, 523, 528, 528, 533],
            ),
            0.0,
            16,
        );
        assert!(usage.rss_flat && usage.fds_flat, "{usage:#?}");
        assert_eq!(usage.fds_growth, 15);
        assert_eq!(usage.fds.max, 603);
    }

    #[test]
    fn too_few_samples_are_not_flat() {
        let usage = judge("a", 1, samples(&[1, 1], &[1, 1]), 0.0, 8);
        assert!(!usage.rss_flat && !usage.fds_flat, "{usage:#?}");
        assert!(usage.rss_problem.unwrap().contains("only 2 samples"));
    }
}
