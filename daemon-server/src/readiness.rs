//! What `/readyz` of `tokenserver` answers, and what its metrics listener serves: the store answers a
//! ping, and each Google API it depends on (Compute, Cloud Logging, the JWK set) is reachable — a TCP
//! connection to the API's host opens. That proves the network path, not credentials or quota (those
//! show as `tokendist_dependency_errors_total`). The answer is cached for [`CACHE_FOR`], so that
//! load balancers probing every second cannot hammer the store or Google. Also refreshes the
//! pending-VM gauge from the store periodically.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokendist_daemon_kit::health::{Observed, Readiness, ReadinessFuture};
use tokendist_gcp::config::GcpConfig;
use tokendist_store::Store;
use tokio::sync::Mutex;

use crate::metrics::Metrics;

/// How long one readiness answer is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(3);
/// How long each component may take to answer before it counts as unreachable.
const COMPONENT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the pending-VM gauge is read from the store.
const PENDING_REFRESH: Duration = Duration::from_secs(30);

/// A Google API the server depends on, and where it is.
#[derive(Debug, Clone)]
struct Dependency {
    name: &'static str,
    url: String,
}

/// The server's metrics and readiness, as its metrics listener shows them.
#[derive(Debug)]
pub struct ServerObserved {
    metrics: Metrics,
    store: Arc<dyn Store>,
    google: Vec<Dependency>,
    cached: Mutex<Option<(Instant, Readiness)>>,
}

impl ServerObserved {
    pub fn new(metrics: Metrics, store: Arc<dyn Store>, gcp: &GcpConfig) -> Self {
        let google = [
            ("compute", &gcp.compute_endpoint),
            ("logging", &gcp.logging_endpoint),
            ("jwks", &gcp.jwks_url),
        ]
        .into_iter()
        .map(|(name, url)| Dependency {
            name,
            url: url.clone(),
        })
        .collect();
        Self {
            metrics,
            store,
            google,
            cached: Mutex::new(None),
        }
    }

    async fn check(&self) -> Readiness {
        let store = async {
            let started = Instant::now();
            let result = tokio::time::timeout(COMPONENT_TIMEOUT, self.store.ping()).await;
            self.metrics
                .observe_dependency_latency("store", started.elapsed());
            match result {
                Ok(Ok(())) => None,
                Ok(Err(error)) => {
                    self.metrics.observe_dependency_error("store");
                    Some(format!("store: not reachable: {error}"))
                }
                Err(_) => Some(format!(
                    "store: no answer within {}s",
                    COMPONENT_TIMEOUT.as_secs()
                )),
            }
        };
        let google = futures::future::join_all(self.google.iter().map(reachable));
        let (store, google) = tokio::join!(store, google);
        Readiness {
            problems: store
                .into_iter()
                .chain(google.into_iter().flatten())
                .collect(),
        }
    }
}

impl Observed for ServerObserved {
    fn metrics(&self) -> String {
        self.metrics.render()
    }

    fn readiness(&self) -> ReadinessFuture<'_> {
        Box::pin(async move {
            // Held across the check: concurrent probes wait for one answer instead of each asking.
            let mut cached = self.cached.lock().await;
            if let Some((at, readiness)) = cached.as_ref()
                && at.elapsed() < CACHE_FOR
            {
                return readiness.clone();
            }
            let readiness = self.check().await;
            if !readiness.is_ready() {
                tracing::warn!(problems = %readiness.problems.join("; "), "not ready");
            }
            *cached = Some((Instant::now(), readiness.clone()));
            readiness
        })
    }
}

/// `None` when a TCP connection to the dependency's host opens in time, else the line saying why not.
async fn reachable(dependency: &Dependency) -> Option<String> {
    let Dependency { name, url } = dependency;
    let Some(address) = host_and_port(url) else {
        return Some(format!("{name}: {url} names no host"));
    };
    match tokio::time::timeout(COMPONENT_TIMEOUT, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => None,
        Ok(Err(error)) => Some(format!("{name}: {address} not reachable: {error}")),
        Err(_) => Some(format!(
            "{name}: {address} did not accept a connection within {}s",
            COMPONENT_TIMEOUT.as_secs()
        )),
    }
}

/// `host:port` of an http(s) URL, the port defaulting to the scheme's.
fn host_and_port(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let port = parsed.port_or_known_default()?;
    match parsed.host()? {
        url::Host::Ipv6(ip) => Some(format!("[{ip}]:{port}")),
        host => Some(format!("{host}:{port}")),
    }
}

/// Reads the number of pending VMs from the store now and every 30 s into the metrics.
pub fn spawn_pending_refresher(store: Arc<dyn Store>, metrics: Metrics) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PENDING_REFRESH);
        loop {
            ticker.tick().await;
            let started = Instant::now();
            let result = store.list_pending().await;
            metrics.observe_dependency_latency("store", started.elapsed());
            match result {
                Ok(pending) => {
                    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
                    metrics.set_pending_vms(pending.len(), now);
                }
                Err(error) => {
                    metrics.observe_dependency_error("store");
                    tracing::warn!(%error, "could not count the pending VMs");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_addresses_default_to_the_scheme_port() {
        assert_eq!(
            host_and_port("https://compute.googleapis.com").as_deref(),
            Some("compute.googleapis.com:443")
        );
        assert_eq!(
            host_and_port("http://127.0.0.1:8085/jwks").as_deref(),
            Some("127.0.0.1:8085")
        );
        assert_eq!(
            host_and_port("http://[::1]:9/x").as_deref(),
            Some("[::1]:9")
        );
        assert_eq!(host_and_port("not a url"), None);
    }
}
