//! The soak's open loop: every VM re-attests once per interval at its scheduled times
//! ([`crate::soak::plan::send_time`]) over its own connection, whatever the answers; each request
//! is recorded with when it started, when it was answered and what came back (the receipt's event
//! id of a release). Requests still unanswered [`DRAIN`] after the last send are recorded as
//! unfinished.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::caller::Caller;
use crate::soak::plan;
use crate::soak::timeline::{Attempt, Outcome};

/// How long requests in flight when the sending ends may take to finish.
pub const DRAIN: Duration = Duration::from_secs(30);

/// What the loop recorded.
#[derive(Debug, Default)]
pub struct Driven {
    pub attempts: Vec<Attempt>,
    /// Seconds from each answered request's scheduled time to its answer.
    pub latencies: Vec<f64>,
}

/// Sends every VM's requests (`callers[i]` is VM `i`) once per `interval` for `duration` from
/// `origin`.
pub async fn run(
    callers: &[Arc<Caller>],
    origin: Instant,
    interval: Duration,
    duration: Duration,
) -> Driven {
    let n = callers.len();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let mut scheduled: Vec<(usize, f64)> = Vec::new();
    let per_round = n.max(1) as u64;
    for k in 0u64.. {
        let (vm, round) = ((k % per_round) as usize, k / per_round);
        let at = plan::send_time(vm, round, n, interval);
        if at >= duration || n == 0 {
            break;
        }
        tokio::time::sleep_until(origin + at).await;
        let index = scheduled.len();
        scheduled.push((vm, at.as_secs_f64()));
        let caller = Arc::clone(&callers[vm]);
        let sender = sender.clone();
        tokio::spawn(async move {
            let sent = origin.elapsed().as_secs_f64();
            let outcome = match caller.release().await {
                Ok(event_id) => Outcome::Released { event_id },
                Err(failure) => Outcome::Failed {
                    code: failure.code,
                    detail: failure.detail,
                },
            };
            let answered = origin.elapsed().as_secs_f64();
            let _ = sender.send((
                index,
                Attempt {
                    vm,
                    sent,
                    answered,
                    outcome,
                },
            ));
        });
    }
    drop(sender);
    let mut driven = Driven::default();
    let mut answered = vec![false; scheduled.len()];
    let until = Instant::now() + DRAIN;
    while let Ok(Some((index, attempt))) = tokio::time::timeout_at(until, receiver.recv()).await {
        if let (Some(seen), Some((_, at))) = (answered.get_mut(index), scheduled.get(index)) {
            *seen = true;
            driven.latencies.push(attempt.answered - at);
        }
        driven.attempts.push(attempt);
    }
    let stopped = origin.elapsed().as_secs_f64();
    for ((vm, at), seen) in scheduled.into_iter().zip(answered) {
        if !seen {
            driven.attempts.push(Attempt {
                vm,
                sent: at,
                answered: stopped,
                outcome: Outcome::Unfinished,
            });
        }
    }
    driven
}
