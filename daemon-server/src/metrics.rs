//! Prometheus metrics of the token server, served on their own listener (`metrics_listen`):
//! requests by RPC and gRPC code, decisions by outcome, failed checks by name, request latency, and
//! dependency errors by API.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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

/// All metrics, cheap to clone (the families are reference-counted).
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    failed_checks: Family<CheckLabels, Counter>,
    latency: Family<RpcLabels, Histogram>,
    dependency_errors: Family<ApiLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tokendist");
        let requests = Family::<RequestLabels, Counter>::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        let failed_checks = Family::<CheckLabels, Counter>::default();
        let latency = Family::<RpcLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        let dependency_errors = Family::<ApiLabels, Counter>::default();
        registry.register(
            "requests",
            "gRPC requests by method and status code",
            requests.clone(),
        );
        registry.register(
            "decisions",
            "Release decisions by outcome",
            decisions.clone(),
        );
        registry.register(
            "failed_checks",
            "Failed policy checks by name",
            failed_checks.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "gRPC request latency",
            latency.clone(),
        );
        registry.register(
            "dependency_errors",
            "Errors from Google APIs and the store by API",
            dependency_errors.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            decisions,
            failed_checks,
            latency,
            dependency_errors,
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

    pub fn observe_decision(&self, allowed: bool, failed: &[&str]) {
        let decision = if allowed { "released" } else { "denied" };
        self.decisions
            .get_or_create(&DecisionLabels {
                decision: decision.to_string(),
            })
            .inc();
        for check in failed {
            self.failed_checks
                .get_or_create(&CheckLabels {
                    check: (*check).to_string(),
                })
                .inc();
        }
    }

    pub fn observe_dependency_error(&self, api: &str) {
        self.dependency_errors
            .get_or_create(&ApiLabels {
                api: api.to_string(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Serves `GET /metrics` until the listener task is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let body = self.render();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        body,
                    )
                }
            }),
        );
        axum::serve(listener, app).await
    }

    /// Binds the metrics listener.
    pub async fn bind(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
        tokio::net::TcpListener::bind(address).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_and_failed_checks_are_counted_by_name() {
        let metrics = Metrics::new();
        metrics.observe_decision(false, &["instance.user_data", "auditlog.clean"]);
        metrics.observe_decision(true, &[]);
        metrics.observe_request("GetToken", tonic::Code::Ok, Duration::from_millis(3));
        let text = metrics.render();
        assert!(
            text.contains("tokendist_decisions_total{decision=\"denied\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tokendist_failed_checks_total{check=\"auditlog.clean\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tokendist_requests_total{rpc=\"GetToken\",code=\"Ok\"} 1"),
            "{text}"
        );
    }
}
