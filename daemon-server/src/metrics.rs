//! Prometheus metrics of the token server, served on its own listener (`metrics_listen`) beside
//! `/healthz` and `/readyz`: requests by RPC and gRPC code, requests in flight, decisions by outcome
//! (every decision, including each repeated denial of a pending VM), denials by failed check,
//! dependency latency and errors by API, and the pending VMs in the store. Every labelled series an
//! alert refers to exists with 0 from the start.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokendist_core::checks::{RELEASE_CHECKS, REVIEW_CHECKS};
use tokendist_core::evidence::FetchErrorKind;
use tokendist_gcp::CallObserver;

/// The RPCs of `tokendist.v1.TokenService`.
pub const RPCS: [&str; 4] = ["BeginSession", "Attest", "ProveAttestation", "GetToken"];

/// The dependencies whose latency and errors are measured: each Google API call, the JWK set, the
/// store, and evidence gathering as a whole (`evidence`: its deadline).
pub const DEPENDENCIES: [&str; 9] = [
    "compute.instances.get",
    "compute.instances.getShieldedInstanceIdentity",
    "compute.disks.get",
    "compute.images.get",
    "compute.projects.get",
    "logging.entries.list",
    "jwks",
    "store",
    "evidence",
];

/// What a request to the server ended in, for `tokendist_decisions_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// Secrets released.
    Released,
    /// A check failed (at any step).
    Denied,
    /// The VM has no approval yet (each of its retries counts).
    Pending,
    /// The caller's identity token was missing or did not verify.
    Unauthenticated,
    /// A dependency (Google, the store) was unavailable; nothing was decided about the VM.
    Unavailable,
}

impl DecisionOutcome {
    pub const ALL: [DecisionOutcome; 5] = [
        DecisionOutcome::Released,
        DecisionOutcome::Denied,
        DecisionOutcome::Pending,
        DecisionOutcome::Unauthenticated,
        DecisionOutcome::Unavailable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DecisionOutcome::Released => "released",
            DecisionOutcome::Denied => "denied",
            DecisionOutcome::Pending => "pending",
            DecisionOutcome::Unauthenticated => "unauthenticated",
            DecisionOutcome::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    rpc: String,
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    rpc: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: String,
}

/// Latency buckets, seconds, shared by requests and dependencies.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// All metrics, cheap to clone (the families are reference-counted).
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    in_flight: Family<RpcLabels, Gauge>,
    decisions: Family<DecisionLabels, Counter>,
    failed_checks: Family<CheckLabels, Counter>,
    latency: Family<RpcLabels, Histogram>,
    dependency_latency: Family<ApiLabels, Histogram>,
    dependency_errors: Family<ApiLabels, Counter>,
    pending_vms: Gauge<i64, std::sync::atomic::AtomicI64>,
    pending_refreshed: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tokendist");
        let metrics = Self {
            registry: Arc::new(Registry::default()),
            requests: Family::default(),
            in_flight: Family::default(),
            decisions: Family::default(),
            failed_checks: Family::default(),
            latency: Family::new_with_constructor(histogram),
            dependency_latency: Family::new_with_constructor(histogram),
            dependency_errors: Family::default(),
            pending_vms: Gauge::default(),
            pending_refreshed: Gauge::default(),
        };
        macro_rules! register {
            ($($name:literal, $help:literal => $metric:ident;)*) => {
                $(registry.register($name, $help, metrics.$metric.clone());)*
            };
        }
        register! {
            "requests", "gRPC requests by method and status code" => requests;
            "requests_in_flight", "gRPC requests being served now, by method" => in_flight;
            "decisions", "Decisions by outcome (every request that ended in one, including each retry of a pending VM)" => decisions;
            "failed_checks", "Denials by failed policy check" => failed_checks;
            "request_duration_seconds", "gRPC request latency by method" => latency;
            "dependency_duration_seconds", "Latency of calls to Google APIs and the store, by API" => dependency_latency;
            "dependency_errors", "Errors from Google APIs and the store, by API" => dependency_errors;
            "pending_vms", "VMs in the store that asked without an approval (refreshed periodically)" => pending_vms;
            "pending_vms_refreshed_timestamp_seconds", "When pending_vms was last read from the store (Unix time; 0: never)" => pending_refreshed;
        }
        metrics.zero_every_series();
        Self {
            registry: Arc::new(registry),
            ..metrics
        }
    }

    /// Creates every labelled series an alert refers to, at 0.
    fn zero_every_series(&self) {
        for rpc in RPCS {
            let rpc = RpcLabels { rpc: rpc.into() };
            let _ = self.in_flight.get_or_create(&rpc);
            let _ = self.latency.get_or_create(&rpc);
        }
        for outcome in DecisionOutcome::ALL {
            let _ = self.decisions.get_or_create(&decision_labels(outcome));
        }
        for check in RELEASE_CHECKS.iter().chain(REVIEW_CHECKS.iter()) {
            let _ = self.failed_checks.get_or_create(&check_labels(check));
        }
        for api in DEPENDENCIES {
            let _ = self.dependency_errors.get_or_create(&api_labels(api));
            let _ = self.dependency_latency.get_or_create(&api_labels(api));
        }
    }

    pub fn observe_request(&self, rpc: &str, code: tonic::Code, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                rpc: rpc.to_string(),
                code: format!("{code:?}"),
            })
            .inc();
        self.latency
            .get_or_create(&RpcLabels {
                rpc: rpc.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Marks one `rpc` request as being served until the returned guard is dropped.
    pub fn in_flight(&self, rpc: &str) -> InFlight {
        let gauge = self
            .in_flight
            .get_or_create(&RpcLabels {
                rpc: rpc.to_string(),
            })
            .clone();
        gauge.inc();
        InFlight { gauge }
    }

    /// Counts one decision, and each failed check of a denial.
    pub fn observe_decision(&self, outcome: DecisionOutcome, failed: &[&str]) {
        self.decisions
            .get_or_create(&decision_labels(outcome))
            .inc();
        for check in failed {
            self.failed_checks.get_or_create(&check_labels(check)).inc();
        }
    }

    pub fn observe_dependency_error(&self, api: &str) {
        self.dependency_errors.get_or_create(&api_labels(api)).inc();
    }

    /// Records how long one call to `api` took.
    pub fn observe_dependency_latency(&self, api: &str, elapsed: Duration) {
        self.dependency_latency
            .get_or_create(&api_labels(api))
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the number of pending VMs, read from the store at `now_unix`.
    pub fn set_pending_vms(&self, count: usize, now_unix: f64) {
        self.pending_vms
            .set(i64::try_from(count).unwrap_or(i64::MAX));
        self.pending_refreshed.set(now_unix);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Every Compute and Logging call: its latency, and an error unless it succeeded or found nothing
/// (a 404 is an answer, not a failing dependency).
impl CallObserver for Metrics {
    fn observe(&self, api: &str, elapsed: Duration, outcome: Result<(), FetchErrorKind>) {
        self.observe_dependency_latency(api, elapsed);
        if matches!(outcome, Err(kind) if kind != FetchErrorKind::NotFound) {
            self.observe_dependency_error(api);
        }
    }
}

/// A request being served; the in-flight gauge goes down when it is dropped.
#[derive(Debug)]
pub struct InFlight {
    gauge: Gauge,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

fn decision_labels(outcome: DecisionOutcome) -> DecisionLabels {
    DecisionLabels {
        decision: outcome.label().to_string(),
    }
}

fn check_labels(check: &str) -> CheckLabels {
    CheckLabels {
        check: check.to_string(),
    }
}

fn api_labels(api: &str) -> ApiLabels {
    ApiLabels {
        api: api.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_and_failed_checks_are_counted_by_name() {
        let metrics = Metrics::new();
        metrics.observe_decision(
            DecisionOutcome::Denied,
            &["instance.user_data", "auditlog.clean"],
        );
        metrics.observe_decision(DecisionOutcome::Pending, &["approval.state"]);
        metrics.observe_decision(DecisionOutcome::Pending, &["approval.state"]);
        metrics.observe_decision(DecisionOutcome::Released, &[]);
        metrics.observe_request("GetToken", tonic::Code::Ok, Duration::from_millis(3));
        let text = metrics.render();
        for line in [
            "tokendist_decisions_total{decision=\"denied\"} 1",
            "tokendist_decisions_total{decision=\"pending\"} 2",
            "tokendist_decisions_total{decision=\"released\"} 1",
            "tokendist_failed_checks_total{check=\"auditlog.clean\"} 1",
            "tokendist_failed_checks_total{check=\"approval.state\"} 2",
            "tokendist_requests_total{rpc=\"GetToken\",code=\"Ok\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }

    #[test]
    fn every_series_an_alert_uses_is_there_with_zero_from_the_start() {
        let text = Metrics::new().render();
        let mut wanted: Vec<String> = DecisionOutcome::ALL
            .iter()
            .map(|o| format!("tokendist_decisions_total{{decision=\"{}\"}} 0", o.label()))
            .collect();
        wanted.extend(
            RELEASE_CHECKS
                .iter()
                .map(|c| format!("tokendist_failed_checks_total{{check=\"{c}\"}} 0")),
        );
        for api in DEPENDENCIES {
            wanted.push(format!(
                "tokendist_dependency_errors_total{{api=\"{api}\"}} 0"
            ));
            wanted.push(format!(
                "tokendist_dependency_duration_seconds_count{{api=\"{api}\"}} 0"
            ));
        }
        for rpc in RPCS {
            wanted.push(format!("tokendist_requests_in_flight{{rpc=\"{rpc}\"}} 0"));
        }
        wanted.push("tokendist_pending_vms 0".into());
        for line in wanted {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }

    #[test]
    fn google_calls_are_timed_and_only_failures_other_than_not_found_are_errors() {
        let metrics = Metrics::new();
        let api = "compute.disks.get";
        metrics.observe(api, Duration::from_millis(20), Ok(()));
        metrics.observe(
            api,
            Duration::from_millis(20),
            Err(FetchErrorKind::NotFound),
        );
        metrics.observe(
            api,
            Duration::from_secs(3),
            Err(FetchErrorKind::Unavailable),
        );
        let text = metrics.render();
        for line in [
            "tokendist_dependency_errors_total{api=\"compute.disks.get\"} 1",
            "tokendist_dependency_duration_seconds_count{api=\"compute.disks.get\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }

    #[test]
    fn in_flight_goes_back_down_when_the_request_ends() {
        let metrics = Metrics::new();
        let guard = metrics.in_flight("GetToken");
        assert!(
            metrics
                .render()
                .contains("tokendist_requests_in_flight{rpc=\"GetToken\"} 1")
        );
        drop(guard);
        assert!(
            metrics
                .render()
                .contains("tokendist_requests_in_flight{rpc=\"GetToken\"} 0")
        );
    }
}
