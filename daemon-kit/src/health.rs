//! The HTTP listener of a daemon's `metrics_listen`: `GET /metrics` (Prometheus text),
//! `GET /healthz` (200 `ok` while the process serves) and `GET /readyz` (200 `ready`, or 503 with
//! one line per component that is not). What "ready" means is the daemon's: it implements
//! [`Observed`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

/// Whether a daemon can do its work; each problem is one line naming the component and what is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    pub problems: Vec<String>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.problems.is_empty()
    }

    /// The `/readyz` body: `ready`, or the problems, one per line.
    pub fn body(&self) -> String {
        if self.is_ready() {
            "ready\n".to_string()
        } else {
            let mut body = self.problems.join("\n");
            body.push('\n');
            body
        }
    }
}

/// A future a daemon's readiness check returns.
pub type ReadinessFuture<'a> = Pin<Box<dyn Future<Output = Readiness> + Send + 'a>>;

/// What a daemon shows on its metrics listener.
pub trait Observed: Send + Sync + 'static {
    /// The Prometheus text exposition of its metrics.
    fn metrics(&self) -> String;
    /// Whether it is ready (may be cached by the daemon so that probes cannot hammer dependencies).
    fn readiness(&self) -> ReadinessFuture<'_>;
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    observed: Arc<dyn Observed>,
) -> std::io::Result<()> {
    let metrics = Arc::clone(&observed);
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let body = metrics.metrics();
                async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body) }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let observed = Arc::clone(&observed);
                async move { ready_answer(&observed.readiness().await) }
            }),
        );
    axum::serve(listener, app).await
}

fn ready_answer(readiness: &Readiness) -> impl IntoResponse + use<> {
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, readiness.body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Check, probe};

    struct Fixed(Readiness);

    impl Observed for Fixed {
        fn metrics(&self) -> String {
            "demo_total 0\n".to_string()
        }
        fn readiness(&self) -> ReadinessFuture<'_> {
            let readiness = self.0.clone();
            Box::pin(async move { readiness })
        }
    }

    async fn served(readiness: Readiness) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(serve(listener, Arc::new(Fixed(readiness))));
        address
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn ready_live_and_not_ready_answers() {
        let ready = served(Readiness::default()).await;
        let not_ready = served(Readiness {
            problems: vec!["store: unreachable".into()],
        })
        .await;
        let answers = tokio::task::spawn_blocking(move || {
            (
                probe(&ready, Check::Ready),
                probe(&not_ready, Check::Ready),
                probe(&not_ready, Check::Live),
            )
        })
        .await
        .unwrap();
        assert_eq!(
            (answers.0.exit_code(), answers.0.text().as_str()),
            (0, "ready")
        );
        assert_eq!(
            (answers.1.exit_code(), answers.1.text().as_str()),
            (1, "store: unreachable")
        );
        assert_eq!(
            (answers.2.exit_code(), answers.2.text().as_str()),
            (0, "ok")
        );
    }
}
