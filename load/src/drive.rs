//! The two load shapes. Closed loop: K callers, each on its own connection, each sending its next
//! request when the previous one is answered. Open loop: R requests per second at scheduled times
//! (fixed spacing or Poisson), each on the next connection round robin whatever the answers, its
//! latency counted from its scheduled time (so a server that falls behind shows it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use tokio::time::Instant;

use crate::caller::{Caller, Failure};

/// How long the requests still in flight when an open-loop phase ends may take to finish.
const DRAIN: Duration = Duration::from_secs(30);
/// At most this many distinct failure messages are kept per phase (the rest are counted by code only).
const MESSAGES: usize = 20;

/// What one phase measured on the client side.
#[derive(Debug, Default)]
pub struct Samples {
    /// Latency of every finished request (ok or failed).
    pub latencies: Vec<Duration>,
    /// Failed requests by gRPC code (or `token-fetch`).
    pub errors: BTreeMap<String, u64>,
    /// Failed requests by `CODE RPC: message` (the first [`MESSAGES`] distinct ones).
    pub messages: BTreeMap<String, u64>,
    /// From the first send to the last answer.
    pub elapsed: Duration,
    /// Open loop: requests still unanswered after the drain bound.
    pub unfinished: u64,
}

impl Samples {
    fn add(&mut self, latency: Duration, result: Result<(), Failure>) {
        self.latencies.push(latency);
        if let Err(failure) = result {
            self.add_failure(failure.code, failure.detail, 1);
        }
    }

    fn add_failure(&mut self, code: String, detail: String, n: u64) {
        let message = format!("{code} {detail}");
        if self.messages.len() < MESSAGES || self.messages.contains_key(&message) {
            *self.messages.entry(message).or_default() += n;
        }
        *self.errors.entry(code).or_default() += n;
    }

    fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
        for (message, n) in other.messages {
            if self.messages.len() < MESSAGES || self.messages.contains_key(&message) {
                *self.messages.entry(message).or_default() += n;
            }
        }
    }
}

/// One request per caller, not measured (connections, JWKS, caches); the first failure ends the run.
pub async fn warm_up(callers: &[Arc<Caller>]) -> anyhow::Result<()> {
    for caller in callers {
        caller.request().await.map_err(|failure| {
            anyhow::anyhow!(
                "the warm-up request of {} failed: {} {}",
                caller.vm(),
                failure.code,
                failure.detail
            )
        })?;
    }
    Ok(())
}

/// Closed loop for `duration`.
pub async fn closed(callers: &[Arc<Caller>], duration: Duration) -> anyhow::Result<Samples> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(callers.len());
    for caller in callers {
        let caller = Arc::clone(caller);
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let result = caller.request().await;
                samples.add(sent.elapsed(), result);
            }
            samples
        }));
    }
    let mut all = Samples::default();
    for task in tasks {
        all.merge(task.await?);
    }
    all.elapsed = started.elapsed();
    Ok(all)
}

/// Open loop at `rate` per second for `duration`.
pub async fn open(
    callers: &[Arc<Caller>],
    rate: f64,
    poisson: bool,
    duration: Duration,
) -> anyhow::Result<Samples> {
    anyhow::ensure!(!callers.is_empty(), "no connections to send on");
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let mut offset = 0.0f64;
    let mut sent: u64 = 0;
    loop {
        let gap = if poisson {
            let u: f64 = rand::rng().random_range(f64::EPSILON..1.0);
            -u.ln() / rate
        } else {
            1.0 / rate
        };
        let scheduled = started + Duration::from_secs_f64(offset);
        if scheduled >= started + duration {
            break;
        }
        offset += gap;
        tokio::time::sleep_until(scheduled).await;
        let caller = Arc::clone(&callers[(sent as usize) % callers.len()]);
        sent += 1;
        let sender = sender.clone();
        tokio::spawn(async move {
            let result = caller.request().await;
            let _ = sender.send((scheduled.elapsed(), result));
        });
    }
    drop(sender);
    let mut samples = Samples::default();
    let drain_until = Instant::now() + DRAIN;
    while let Ok(Some((latency, result))) =
        tokio::time::timeout_at(drain_until, receiver.recv()).await
    {
        samples.add(latency, result);
    }
    samples.elapsed = started.elapsed();
    samples.unfinished = sent.saturating_sub(samples.latencies.len() as u64);
    Ok(samples)
}
