//! Running `tokenserver`: opens the store, loads keys and TLS, binds the listeners, tells systemd
//! READY only once the port accepts and the store answers, serves `/metrics`, `/healthz` and
//! `/readyz` on `metrics_listen` ([`crate::readiness`]), sends WATCHDOG while the store stays
//! reachable, purges expired sessions periodically, reloads TLS material, keys and settings on SIGHUP, and drains in-flight requests on
//! SIGTERM/SIGINT before exiting.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use tokendist_daemon_kit::config::Problems;
use tokendist_daemon_kit::health;
use tokendist_daemon_kit::notify::Notifier;
use tokendist_gcp::{CallObserver, EvidenceCollector};
use tokendist_proto::v1::token_service_server::TokenServiceServer;
use tokendist_store::StoreOptions;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{ConfigSources, ServerConfig};
use crate::grpc_limits;
use crate::key_files::MissingReceiptKey;
use crate::material::{self, Material};
use crate::metrics::Metrics;
use crate::readiness::ServerObserved;
use crate::service::TokenServiceImpl;
use crate::state::ServerState;
use crate::tls::{self, TlsReloader};

/// Why the server stopped or never started. `is_config` errors exit 78.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("configuration: {0}")]
    Config(String),
    /// Every problem found in the files and URLs the configuration names.
    #[error("{0}")]
    Material(Problems),
    #[error("{0}")]
    Runtime(String),
}

impl RunError {
    pub fn is_config(&self) -> bool {
        matches!(self, RunError::Config(_) | RunError::Material(_))
    }
}

/// How the store is opened in this environment (`FIRESTORE_EMULATOR_HOST`).
pub fn store_options(env: &BTreeMap<String, String>) -> StoreOptions {
    StoreOptions {
        firestore_emulator_host: env.get("FIRESTORE_EMULATOR_HOST").cloned(),
        ..StoreOptions::default()
    }
}

/// Runs until SIGTERM/SIGINT. `sources` are kept to reload the configuration on SIGHUP.
pub async fn run(
    config: ServerConfig,
    sources: ConfigSources,
    env: BTreeMap<String, String>,
) -> Result<(), RunError> {
    let notifier = Notifier::from_env(&env);
    let origins = ServerConfig::origins(&sources);
    let Material { live, tls } = material::load(
        &config,
        &origins,
        MissingReceiptKey::Create,
        SystemTime::now(),
    )
    .map_err(RunError::Material)?;
    let google = material::google_clients(&config, &origins)
        .await
        .map_err(RunError::Material)?;
    let store = tokendist_store::open(&config.store, &store_options(&env))
        .await
        .map_err(|e| match e {
            tokendist_store::StoreError::Config(_) => RunError::Config(e.to_string()),
            other => RunError::Runtime(format!("cannot open the store {}: {other}", config.store)),
        })?;
    store
        .ping()
        .await
        .map_err(|e| RunError::Runtime(format!("store {} is not reachable: {e}", config.store)))?;

    let metrics = Metrics::new();
    let observer: Arc<dyn CallObserver> = Arc::new(metrics.clone());
    let compute = google.compute.with_observer(Arc::clone(&observer));
    let logging = google.logging.with_observer(observer);
    let state = ServerState::new(
        Arc::clone(&store),
        Arc::new(google.jwks),
        EvidenceCollector::new(compute.clone(), logging),
        compute,
        metrics.clone(),
        live,
    )
    .with_admission(config.admission.max_in_progress);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| RunError::Runtime(format!("cannot listen on {}: {e}", config.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| RunError::Runtime(e.to_string()))?;
    if let Some(address) = config.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            RunError::Runtime(format!("cannot listen for metrics on {address}: {e}"))
        })?;
        let observed = ServerObserved::new(metrics.clone(), Arc::clone(&store), &config.gcp);
        tokio::spawn(health::serve(metrics_listener, Arc::new(observed)));
    }
    crate::readiness::spawn_pending_refresher(Arc::clone(&store), metrics.clone());
    let reloader = TlsReloader::new(tls);
    let incoming = tls::incoming(listener, reloader.clone());

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<TokenServiceServer<TokenServiceImpl>>()
        .await;

    spawn_reloader(sources, reloader, state.clone(), notifier.clone());
    spawn_watchdog(notifier.clone(), Arc::clone(&store));
    if config.watch.enabled {
        let target = config
            .watch
            .pubsub_target(std::env::var("PUBSUB_EMULATOR_HOST").ok().as_deref());
        let auth = match &target {
            crate::watch::PubsubTarget::Endpoint(_) => {
                tokendist_gcp::RequestAuth::from_config(&config.gcp)
                    .map_err(|e| RunError::Runtime(format!("audit watch: {e}")))?
            }
            _ => tokendist_gcp::RequestAuth::anonymous(),
        };
        tracing::info!(pubsub = ?target, anonymous = auth.is_anonymous(), "audit watch on");
        let pubsub = crate::watch::pubsub_client(target, auth);
        crate::watch::spawn(state.clone(), config.watch.clone(), pubsub);
    }
    crate::sessions::spawn_purger(
        Arc::clone(&store),
        std::time::Duration::from_secs(config.sessions.purge_interval_secs),
    );

    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| RunError::Runtime(e.to_string()))?;
    let shutdown_notifier = notifier.clone();
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| RunError::Runtime(e.to_string()))?;
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutting down: draining in-flight requests");
        shutdown_notifier.stopping();
    };

    tracing::info!(address = %bound, store = %config.store, tls = ?config.tls.mode, "tokenserver listening");
    notifier.ready(&format!("serving on {bound}"));
    tonic::transport::Server::builder()
        // Above hyper's 16 KiB default, so that an oversized bearer token reaches `authenticate`
        // (UNAUTHENTICATED) and larger metadata `grpc_limits` (RESOURCE_EXHAUSTED), instead of an
        // HTTP 431 that clients see as UNKNOWN.
        .http2_max_header_list_size(grpc_limits::HARD_MAX_HEADER_LIST_BYTES)
        .layer(grpc_limits::GrpcLimitsLayer)
        .add_service(health_service)
        .add_service(TokenServiceServer::new(TokenServiceImpl::new(state)))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| RunError::Runtime(format!("gRPC server failed: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGHUP: re-read the configuration; swap TLS material and live settings. A bad new configuration is
/// logged and the old one stays in force. (Listen addresses and the store need a restart.)
fn spawn_reloader(
    sources: ConfigSources,
    reloader: TlsReloader,
    state: ServerState,
    notifier: Notifier,
) {
    // Registered before READY is sent (not inside the task), so that a SIGHUP right after READY is
    // a reload and not the default action, which kills the process.
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload disabled");
        return;
    };
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            notifier.reloading();
            let outcome = ServerConfig::load(&sources)
                .map_err(|e| e.to_string())
                .and_then(|config| {
                    let origins = ServerConfig::origins(&sources);
                    let missing = MissingReceiptKey::Create;
                    let fresh = material::load(&config, &origins, missing, SystemTime::now())
                        .map_err(|e| e.to_string())?;
                    reloader.replace(fresh.tls);
                    state.replace_live(fresh.live);
                    Ok(())
                });
            match outcome {
                Ok(()) => {
                    tracing::info!("reloaded TLS material, keys and settings");
                    notifier.ready("serving (reloaded)");
                }
                Err(error) => {
                    tracing::error!(%error, "reload failed; the previous configuration stays in force");
                    // systemd expects READY=1 after RELOADING=1; the status line says the reload failed.
                    notifier.ready(&format!(
                        "serving with the previous configuration; reload failed: {error}"
                    ));
                }
            }
        }
    });
}

/// WATCHDOG=1 at half the configured interval, only while the store answers.
fn spawn_watchdog(notifier: Notifier, store: Arc<dyn tokendist_store::Store>) {
    let Some(interval) = notifier.watchdog_interval() else {
        return;
    };
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            match store.ping().await {
                Ok(()) => notifier.watchdog(),
                Err(error) => {
                    tracing::warn!(%error, "store unreachable; withholding the watchdog ping")
                }
            }
        }
    });
}
