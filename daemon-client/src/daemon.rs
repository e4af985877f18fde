//! Running `tokenclient`: set-up (TLS material, metadata server, TPM check, secrets directory, local
//! socket, the metrics listener's `/metrics`, `/healthz` and `/readyz`), READY, then one attempt at a time — never overlapping — with capped exponential backoff
//! until the secrets are delivered; optional re-attestation that removes the secrets when the server
//! refuses or the TPM no longer unseals them; WATCHDOG while the loop runs; STOPPING on
//! SIGTERM/SIGINT, removing the secret files unless told to keep them. The TPM is opened for each
//! attempt and closed after it, so the client holds no TPM connection while it waits.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokendist_core::terminal_text::printable_line;

use tokendist_daemon_kit::exit;
use tokendist_daemon_kit::health::Observed;
use tokendist_daemon_kit::notify::Notifier;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::attempt::{self, AttemptContext, AttemptError, Disposition, Release};
use crate::backoff::Backoff;
use crate::config::{ClientConfig, ConfigSources};
use crate::deliver::Shelf;
use crate::deliver::files::SecretDir;
use crate::deliver::socket::{self, AllowedUids};
use crate::health::ClientHealth;
use crate::identity::TokenSource;
use crate::transport::ServerEndpoint;
use tokendist_tpm::{AkInfo, TpmConfig, TpmError, TpmHandle};

/// The environment variable the `--exec` workload finds its secrets directory in.
pub const SECRETS_DIR_ENV: &str = "TOKENCLIENT_SECRETS_DIR";

/// Why the daemon stopped with a failure; [`RunError::exit_code`] is what the process returns.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("bad configuration: {0}")]
    Config(String),
    /// Every problem found in the files and directories the configuration names.
    #[error("bad configuration: {0}")]
    Files(tokendist_daemon_kit::config::Problems),
    #[error("{0}")]
    NoTpm(String),
    #[error("{message}")]
    Fatal { code: i32, message: String },
    #[error("gave up after {attempts} attempts; last error: {last}")]
    GaveUp { attempts: u32, last: String },
    #[error("{0}")]
    Runtime(String),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Config(_) | RunError::Files(_) => exit::BAD_CONFIG,
            RunError::NoTpm(_) => exit::UNAVAILABLE,
            RunError::Fatal { code, .. } => *code,
            RunError::GaveUp { .. } | RunError::Runtime(_) => exit::FAILURE,
        }
    }
}

/// Signals and the service manager: the loop's waits go through here so that a SIGTERM interrupts
/// them and the watchdog is fed only while the loop is alive.
struct Lifecycle {
    notifier: Notifier,
    terminate: Signal,
    interrupt: Signal,
    hangup: Signal,
    /// A SIGHUP arrived; the loop reloads the configuration before its next attempt.
    reload_requested: bool,
}

impl Lifecycle {
    /// Runs `work` to completion, or returns `None` when a stop signal arrives first.
    async fn drive<F: Future>(&mut self, work: F) -> Option<F::Output> {
        let watchdog = self.notifier.watchdog_interval();
        let mut ticker = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
        tokio::pin!(work);
        loop {
            tokio::select! {
                output = &mut work => return Some(output),
                _ = self.terminate.recv() => return None,
                _ = self.interrupt.recv() => return None,
                _ = self.hangup.recv() => self.reload_requested = true,
                _ = ticker.tick() => {
                    if watchdog.is_some() {
                        self.notifier.watchdog();
                    }
                }
            }
        }
    }
}

/// Everything the loop holds.
struct Client {
    config: ClientConfig,
    sources: ConfigSources,
    endpoint: ServerEndpoint,
    tokens: TokenSource,
    /// The TPM to open for each attempt (None: --no-tpm).
    tpm: Option<TpmConfig>,
    dir: SecretDir,
    shelf: Shelf,
    instance_id: Option<String>,
    ak: Option<AkInfo>,
    /// What `/readyz` and `/metrics` report.
    health: ClientHealth,
    workload: Option<tokio::process::Child>,
}

/// Set-up, READY, the loop, and clean-up. Returns when stopped by a signal (Ok) or on a fatal error.
/// `sources` are kept so that SIGHUP can re-read the configuration.
pub async fn run(
    config: ClientConfig,
    sources: ConfigSources,
    env: BTreeMap<String, String>,
) -> Result<(), RunError> {
    let notifier = Notifier::from_env(&env);
    let origins = ClientConfig::origins(&sources);
    let problems =
        crate::check_config::check_files(&config, &origins, std::time::SystemTime::now());
    if !problems.is_empty() {
        return Err(RunError::Files(problems));
    }
    let endpoint = ServerEndpoint::new(&config).map_err(|e| RunError::Config(e.to_string()))?;
    let tokens = TokenSource::new(&config.metadata_host, &config.audience)
        .map_err(|e| RunError::Config(e.to_string()))?;
    let tpm = if config.tpm.enabled {
        // Checked once at start (exit 69 when missing), then opened per attempt.
        let handle = connect_tpm(&config.tpm.tcti).await?;
        drop(handle);
        Some(TpmConfig::new(config.tpm.tcti.as_str()))
    } else {
        tracing::warn!(
            "running without a TPM: only approvals with require_tpm = false can release secrets"
        );
        None
    };
    let dir =
        SecretDir::prepare(&config.delivery.dir).map_err(|e| RunError::Runtime(e.to_string()))?;
    let shelf = Shelf::default();
    let socket_task = start_socket(&config, &dir, &shelf)?;
    let health = ClientHealth::new();
    let health_task = start_health(&config, &health).await?;
    let terminate =
        signal(SignalKind::terminate()).map_err(|e| RunError::Runtime(e.to_string()))?;
    let interrupt =
        signal(SignalKind::interrupt()).map_err(|e| RunError::Runtime(e.to_string()))?;
    let hangup = signal(SignalKind::hangup()).map_err(|e| RunError::Runtime(e.to_string()))?;
    let mut lifecycle = Lifecycle {
        notifier,
        terminate,
        interrupt,
        hangup,
        reload_requested: false,
    };
    let mut client = Client {
        config,
        sources,
        endpoint,
        tokens,
        tpm,
        dir,
        shelf,
        instance_id: None,
        ak: None,
        health,
        workload: None,
    };
    tracing::info!(
        server = %client.config.address,
        tpm = client.tpm.as_ref().map(|t| t.tcti.as_str()).unwrap_or("off"),
        secrets_dir = %client.config.delivery.dir.display(),
        "tokenclient running"
    );
    lifecycle.notifier.ready(&format!(
        "waiting for the token server at {}",
        client.config.address
    ));
    let result = client.main_loop(&mut lifecycle).await;
    lifecycle.notifier.stopping();
    tracing::info!("stopping");
    client.shutdown();
    for task in [socket_task, health_task].into_iter().flatten() {
        task.abort();
    }
    if !client.config.delivery.socket.as_os_str().is_empty() {
        let _ = std::fs::remove_file(&client.config.delivery.socket);
    }
    result
}

async fn connect_tpm(tcti: &str) -> Result<TpmHandle, RunError> {
    match TpmHandle::connect(TpmConfig::new(tcti)).await {
        Ok(handle) => {
            tracing::info!(tcti, vendor = handle.vendor(), "TPM connected");
            Ok(handle)
        }
        Err(error @ TpmError::InvalidTcti { .. }) => Err(RunError::Config(error.to_string())),
        Err(error) => Err(RunError::NoTpm(format!(
            "{error} (or run with --no-tpm when the approval does not require a TPM)"
        ))),
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `metrics_listen`, when it is set.
async fn start_health(
    config: &ClientConfig,
    health: &ClientHealth,
) -> Result<Option<tokio::task::JoinHandle<()>>, RunError> {
    let Some(address) = config.metrics_listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| RunError::Runtime(format!("cannot listen for metrics on {address}: {e}")))?;
    let observed: Arc<dyn Observed> = Arc::new(health.clone());
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = tokendist_daemon_kit::health::serve(listener, observed).await {
            tracing::warn!(%error, "the metrics listener stopped");
        }
    })))
}

fn start_socket(
    config: &ClientConfig,
    dir: &SecretDir,
    shelf: &Shelf,
) -> Result<Option<tokio::task::JoinHandle<()>>, RunError> {
    let path = &config.delivery.socket;
    if path.as_os_str().is_empty() {
        return Ok(None);
    }
    let own = socket::own_uid(dir.path())
        .map_err(|e| RunError::Runtime(format!("cannot write in {}: {e}", dir.path().display())))?;
    let allowed = AllowedUids::new(&config.delivery.allowed_uids, own);
    let listener =
        socket::bind(path, &allowed, own).map_err(|e| RunError::Runtime(e.to_string()))?;
    tracing::info!(socket = %path.display(), "serving secrets on the local socket");
    Ok(Some(tokio::spawn(socket::serve(
        listener,
        shelf.clone(),
        allowed,
    ))))
}

impl Client {
    /// Longest an attempt may take in total before it is abandoned and retried.
    fn attempt_deadline(&self) -> Duration {
        self.config.rpc_timeout().saturating_mul(6)
    }

    async fn main_loop(&mut self, lifecycle: &mut Lifecycle) -> Result<(), RunError> {
        let mut backoff = Backoff::new(self.config.initial_backoff(), self.config.poll_interval());
        let mut failed_attempts: u32 = 0;
        loop {
            if std::mem::take(&mut lifecycle.reload_requested) {
                self.reload(&lifecycle.notifier);
            }
            let Some(outcome) = lifecycle.drive(self.attempt()).await else {
                return Ok(());
            };
            let wait = match outcome {
                Ok(release) => {
                    backoff.reset();
                    failed_attempts = 0;
                    self.deliver(release, &lifecycle.notifier).await;
                    match self.config.reattest_interval() {
                        Some(interval) => interval,
                        None => {
                            // Delivered and nothing more to do: hold the secrets until stopped.
                            lifecycle.drive(std::future::pending::<()>()).await;
                            return Ok(());
                        }
                    }
                }
                Err(error) => {
                    if let Disposition::Fatal(code) = error.disposition() {
                        tracing::error!(%error, "fatal; not retrying");
                        return Err(RunError::Fatal {
                            code,
                            message: error.to_string(),
                        });
                    }
                    self.report_failure(&error, &lifecycle.notifier);
                    if error.withdraws_secrets() && !self.shelf.is_empty() {
                        self.withdraw(&lifecycle.notifier);
                    }
                    if self.shelf.is_empty() {
                        failed_attempts = failed_attempts.saturating_add(1);
                        if self.config.max_attempts > 0
                            && failed_attempts >= self.config.max_attempts
                        {
                            return Err(RunError::GaveUp {
                                attempts: failed_attempts,
                                last: error.to_string(),
                            });
                        }
                    }
                    let delay = backoff.next_delay(&mut rand::rng());
                    if error.is_rate_limited() {
                        // The server asked us to slow down: wait the full poll interval.
                        self.config.poll_interval().max(delay)
                    } else {
                        delay
                    }
                }
            };
            if lifecycle.drive(tokio::time::sleep(wait)).await.is_none() {
                return Ok(());
            }
        }
    }

    /// SIGHUP: re-reads the configuration and swaps what the next attempts use (server address, TLS
    /// material, audience, metadata host, timings). Delivery paths and the TPM need a restart. A bad
    /// new configuration is logged and the running one stays in force.
    fn reload(&mut self, notifier: &Notifier) {
        notifier.reloading();
        let outcome = ClientConfig::load(&self.sources)
            .map_err(|e| e.to_string())
            .and_then(|config| {
                let endpoint = ServerEndpoint::new(&config).map_err(|e| e.to_string())?;
                let tokens = TokenSource::new(&config.metadata_host, &config.audience)
                    .map_err(|e| e.to_string())?;
                Ok((config, endpoint, tokens))
            });
        match outcome {
            Ok((config, endpoint, tokens)) => {
                if config.delivery != self.config.delivery || config.tpm != self.config.tpm {
                    tracing::warn!(
                        "delivery and TPM settings changed; they take effect after a restart"
                    );
                }
                let delivery = self.config.delivery.clone();
                let tpm = self.config.tpm.clone();
                self.config = ClientConfig {
                    delivery,
                    tpm,
                    ..config
                };
                self.endpoint = endpoint;
                self.tokens = tokens;
                tracing::info!(server = %self.config.address, "reloaded the configuration");
                notifier.ready(&format!("reloaded; token server {}", self.config.address));
            }
            Err(error) => {
                tracing::error!(%error, "reload failed; the running configuration stays in force");
                notifier.ready(&format!(
                    "reload failed, running configuration kept: {error}"
                ));
            }
        }
    }

    async fn attempt(&mut self) -> Result<Release, AttemptError> {
        let deadline = self.attempt_deadline();
        match tokio::time::timeout(deadline, self.attempt_inner()).await {
            Ok(result) => result,
            Err(_) => Err(AttemptError::Protocol {
                rpc: "attempt",
                reason: format!("no answer within {deadline:?}; retrying"),
            }),
        }
    }

    async fn attempt_inner(&mut self) -> Result<Release, AttemptError> {
        let tpm = match &self.tpm {
            Some(config) => Some(TpmHandle::connect(config.clone()).await?),
            None => None,
        };
        let context = AttemptContext {
            endpoint: &self.endpoint,
            tokens: &self.tokens,
            tpm: tpm.as_ref(),
        };
        attempt::run(&context, &mut self.ak, &mut self.instance_id).await
    }

    fn report_failure(&self, error: &AttemptError, notifier: &Notifier) {
        // The server's text (check names, status messages) is remote: no control characters.
        let checks = printable_line(&error.failed_checks().join(", ")).into_owned();
        let message = printable_line(&error.to_string()).into_owned();
        let now = chrono::Utc::now();
        if error.is_pending_approval() {
            // Expected until Alice approves: not a fault of this VM.
            tracing::info!(checks = %checks, "pending approval: the token server has not approved this VM yet");
            notifier.status(&format!("pending approval: checks {checks} failed"));
            self.health.pending(&checks, now);
        } else if error.is_refusal() {
            tracing::warn!(checks = %checks, error = %message, "the token server refused this VM");
            // UNAUTHENTICATED carries no check list: its message names the failed identity check.
            let reason = if checks.is_empty() {
                message
            } else {
                format!("checks {checks} failed")
            };
            notifier.status(&format!("denied: {reason}"));
            self.health.refused(&reason, now);
        } else {
            tracing::warn!(error = %message, "attempt failed; retrying");
            self.health.failed(&message, now);
            notifier.status(&format!("retrying: {message}"));
        }
    }

    async fn deliver(&mut self, release: Release, notifier: &Notifier) {
        let previous = self.shelf.names();
        let count = release.secrets.len();
        if let Err(error) = self.dir.write_all(&release.secrets, &previous) {
            tracing::error!(%error, "could not write the secret files");
            notifier.status(&format!("delivery failed: {error}"));
            let message = format!("could not write the secret files: {error}");
            self.health.failed(&message, chrono::Utc::now());
            return;
        }
        let names: Vec<String> = release
            .secrets
            .iter()
            .map(|s| s.name().to_string())
            .collect();
        self.shelf.replace(release.secrets);
        self.health.delivered(count, chrono::Utc::now());
        tracing::info!(
            secrets = %names.join(", "),
            receipt = release.receipt_event_id.as_deref().unwrap_or("none"),
            attested = release.attested,
            "secrets delivered"
        );
        notifier.status(&format!("secrets delivered: {count}"));
        if self.workload.is_none() {
            self.start_workload();
        }
    }

    fn start_workload(&mut self) {
        let Some(command) = &self.config.delivery.exec else {
            return;
        };
        match tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .env(SECRETS_DIR_ENV, self.dir.path())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => {
                tracing::info!(
                    pid = child.id().unwrap_or(0),
                    "started the workload (--exec)"
                );
                self.workload = Some(child);
            }
            Err(error) => tracing::error!(%error, "could not start the workload (--exec)"),
        }
    }

    /// Removes every delivered secret (refused on re-attestation, or PCRs changed).
    fn withdraw(&mut self, notifier: &Notifier) {
        let names = self.shelf.names();
        if let Err(error) = self.dir.remove(&names) {
            tracing::error!(%error, "could not remove the secret files");
        }
        self.shelf.clear();
        self.health.withdrawn(chrono::Utc::now());
        tracing::warn!(secrets = %names.join(", "), "secrets removed: this VM is no longer in its approved state");
        notifier.status(&format!(
            "secrets removed: {} (refused by the token server, or no longer unsealable)",
            names.len()
        ));
    }

    fn shutdown(&mut self) {
        if let Some(mut child) = self.workload.take() {
            let _ = child.start_kill();
        }
        if !self.config.delivery.keep_on_exit {
            let names = self.shelf.names();
            if let Err(error) = self.dir.remove(&names) {
                tracing::error!(%error, "could not remove the secret files on exit");
            }
        }
        self.shelf.clear();
    }
}
