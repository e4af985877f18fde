//! What `tokenclient` shows on its `metrics_listen`: attempts by outcome, when secrets were last
//! delivered and how many, and whether it is ready — the latest release or re-attestation
//! succeeded and the secrets it delivered are in place. When it is not, `/readyz` says why:
//! waiting for approval since T, refused, server unreachable since T, secrets removed.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokendist_daemon_kit::health::{Observed, Readiness, ReadinessFuture};

/// How an attempt (a release or a re-attestation) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Secrets received and delivered.
    Released,
    /// The server has not approved this VM yet.
    Pending,
    /// The server refused this VM (a check failed).
    Denied,
    /// No decision: the server or the metadata server could not be reached, or delivery failed.
    Failed,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 4] = [
        AttemptOutcome::Released,
        AttemptOutcome::Pending,
        AttemptOutcome::Denied,
        AttemptOutcome::Failed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Released => "released",
            AttemptOutcome::Pending => "pending",
            AttemptOutcome::Denied => "denied",
            AttemptOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// Where the client stands, as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    Starting,
    Delivered {
        count: usize,
    },
    Pending {
        since: DateTime<Utc>,
        checks: String,
    },
    Refused {
        at: DateTime<Utc>,
        /// The failed checks, or the identity failure the server named.
        reason: String,
    },
    Failing {
        since: DateTime<Utc>,
        message: String,
    },
    Withdrawn {
        at: DateTime<Utc>,
    },
}

/// The client's health and metrics; cheap to clone, shared by the loop and the listener.
#[derive(Debug, Clone)]
pub struct ClientHealth {
    standing: Arc<Mutex<Standing>>,
    registry: Arc<Registry>,
    attempts: Family<OutcomeLabels, Counter>,
    last_success: Gauge<f64, AtomicU64>,
    delivered: Gauge<i64, AtomicI64>,
}

impl Default for ClientHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientHealth {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tokenclient");
        let attempts = Family::<OutcomeLabels, Counter>::default();
        let last_success = Gauge::<f64, AtomicU64>::default();
        let delivered = Gauge::<i64, AtomicI64>::default();
        registry.register("attempts", "Attempts by outcome", attempts.clone());
        registry.register(
            "last_success_timestamp_seconds",
            "When secrets were last received (Unix time; 0: never)",
            last_success.clone(),
        );
        registry.register(
            "secrets_delivered",
            "Secrets currently delivered",
            delivered.clone(),
        );
        for outcome in AttemptOutcome::ALL {
            let _ = attempts.get_or_create(&outcome_labels(outcome));
        }
        Self {
            standing: Arc::new(Mutex::new(Standing::Starting)),
            registry: Arc::new(registry),
            attempts,
            last_success,
            delivered,
        }
    }

    /// `count` secrets were received and written.
    pub fn delivered(&self, count: usize, now: DateTime<Utc>) {
        self.count(AttemptOutcome::Released);
        self.last_success
            .set(now.timestamp_millis() as f64 / 1000.0);
        self.delivered.set(i64::try_from(count).unwrap_or(i64::MAX));
        self.set(|_| Standing::Delivered { count });
    }

    /// The server has not approved this VM yet.
    pub fn pending(&self, checks: &str, now: DateTime<Utc>) {
        self.count(AttemptOutcome::Pending);
        self.set(|old| Standing::Pending {
            since: match old {
                Standing::Pending { since, .. } => *since,
                _ => now,
            },
            checks: checks.to_string(),
        });
    }

    /// The server refused this VM (`reason`: the failed checks, or the identity failure named).
    pub fn refused(&self, reason: &str, now: DateTime<Utc>) {
        self.count(AttemptOutcome::Denied);
        self.set(|_| Standing::Refused {
            at: now,
            reason: reason.to_string(),
        });
    }

    /// An attempt ended without a decision (server unreachable, delivery failed, ...).
    pub fn failed(&self, message: &str, now: DateTime<Utc>) {
        self.count(AttemptOutcome::Failed);
        self.set(|old| Standing::Failing {
            since: match old {
                Standing::Failing { since, .. } => *since,
                _ => now,
            },
            message: message.to_string(),
        });
    }

    /// The delivered secrets were removed.
    pub fn withdrawn(&self, now: DateTime<Utc>) {
        self.delivered.set(0);
        self.set(|_| Standing::Withdrawn { at: now });
    }

    fn count(&self, outcome: AttemptOutcome) {
        self.attempts.get_or_create(&outcome_labels(outcome)).inc();
    }

    fn set(&self, next: impl FnOnce(&Standing) -> Standing) {
        let mut standing = match self.standing.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *standing = next(&standing);
    }

    /// Whether the client is ready, and why not.
    pub fn readiness(&self) -> Readiness {
        let standing = match self.standing.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let problem = match standing {
            Standing::Delivered { .. } => return Readiness::default(),
            Standing::Starting => "starting: no answer from the token server yet".to_string(),
            Standing::Pending { since, checks } => format!(
                "waiting for approval since {}: the token server has not approved this VM ({checks})",
                time(since)
            ),
            Standing::Refused { at, reason } => {
                format!("refused by the token server at {}: {reason}", time(at))
            }
            Standing::Failing { since, message } => {
                format!("failing since {}: {message}", time(since))
            }
            Standing::Withdrawn { at } => format!(
                "secrets removed at {}: refused on re-attestation, or no longer unsealable",
                time(at)
            ),
        };
        Readiness {
            problems: vec![problem],
        }
    }
}

impl Observed for ClientHealth {
    fn metrics(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    fn readiness(&self) -> ReadinessFuture<'_> {
        let readiness = ClientHealth::readiness(self);
        Box::pin(async move { readiness })
    }
}

fn outcome_labels(outcome: AttemptOutcome) -> OutcomeLabels {
    OutcomeLabels {
        outcome: outcome.label().to_string(),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn ready_only_while_delivered_secrets_are_current() {
        let health = ClientHealth::new();
        assert!(!health.readiness().is_ready());
        health.pending("approval.state", at(0));
        health.pending("approval.state", at(30));
        let body = health.readiness().body();
        assert!(
            body.starts_with("waiting for approval since 2023-11-14T22:13:20Z"),
            "the first pending answer dates it: {body}"
        );
        health.delivered(2, at(60));
        assert!(health.readiness().is_ready());
        health.failed("server unreachable: connection refused", at(90));
        assert!(
            health.readiness().body().contains("failing since"),
            "{}",
            health.readiness().body()
        );
        health.refused("tpm.quote", at(120));
        health.withdrawn(at(121));
        assert!(health.readiness().body().starts_with("secrets removed"));
    }

    #[test]
    fn metrics_count_attempts_and_start_at_zero() {
        let health = ClientHealth::new();
        let text = Observed::metrics(&health);
        for outcome in AttemptOutcome::ALL {
            let line = format!(
                "tokenclient_attempts_total{{outcome=\"{}\"}} 0",
                outcome.label()
            );
            assert!(text.lines().any(|l| l == line), "{line}:\n{text}");
        }
        health.pending("approval.state", at(0));
        health.delivered(3, at(10));
        let text = Observed::metrics(&health);
        for line in [
            "tokenclient_attempts_total{outcome=\"pending\"} 1",
            "tokenclient_attempts_total{outcome=\"released\"} 1",
            "tokenclient_secrets_delivered 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}:\n{text}");
        }
    }
}
