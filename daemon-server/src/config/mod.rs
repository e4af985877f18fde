//! `tokenserver` configuration: the typed `ServerConfig`, its defaults, and `load`, which layers the
//! TOML file, `TOKENSERVER_*` environment variables and command-line flags (see [`tokendist_daemon_kit::layers`]) and
//! validates the result. A bad configuration is a [`ConfigError`]; the binary exits with 78 on it.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
pub use tokendist_daemon_kit::config::{ConfigError, ConfigSources, Origins};
use tokendist_daemon_kit::config::{LoadOptions, load_layered};
use tokendist_daemon_kit::logging::LogFormat;
use tokendist_gcp::config::GcpConfig;

/// Environment variable prefix for every setting (the console's `TOKENDIST_*` are not read; a
/// `TOKENSERVER_*` variable that names no setting is an error).
pub const ENV_PREFIX: &str = "TOKENSERVER_";
/// Environment variable naming the config file (the `--config` flag wins).
pub const CONFIG_ENV: &str = "TOKENSERVER_CONFIG";

/// How clients reach the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Server certificate only.
    Tls,
    /// Clients must present a certificate issued by `client_ca` (default, as the VM has one).
    #[default]
    Mtls,
}

/// TLS material (PEM files). Reloaded on SIGHUP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub mode: TlsMode,
    /// Server certificate chain.
    pub cert: PathBuf,
    /// Server private key.
    pub key: PathBuf,
    /// CA bundle that issues client certificates (required for `mtls`).
    pub client_ca: Option<PathBuf>,
}

/// Key files: who may approve, and the server's own keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Ed25519 public keys (files written by `tokendist keygen`) whose approvals are trusted.
    pub trusted_approvers: Vec<PathBuf>,
    /// Ed25519 private key that signs release receipts; generated on first start when missing.
    pub receipt_key: Option<PathBuf>,
    /// X25519 private key that opens secrets the console encrypted to this server (HPKE).
    pub secrets_key: Option<PathBuf>,
}

/// Which evidence the server enforces beyond what each approval pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforcementConfig {
    /// Check the TCP peer address when an approval pins one (`--validatePeerIP`).
    pub peer_ip: bool,
    /// Check the mTLS client certificate serial when an approval pins one (`--validatePeerSN`).
    pub client_cert_serial: bool,
}

impl Default for EnforcementConfig {
    fn default() -> Self {
        Self {
            peer_ip: true,
            client_cert_serial: true,
        }
    }
}

/// The vTPM attestation steps (`Attest`, `ProveAttestation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TpmConfig {
    /// PEM files with the EK CA certificates (self-signed roots and the intermediates under them). When
    /// set, a client's EK certificate that chains to one of the roots is accepted instead of the
    /// Compute API's shielded identity; unset, only the shielded identity is.
    pub ek_ca_roots: Vec<PathBuf>,
    /// Attestation requests (Attest + ProveAttestation) one instance may make in a burst.
    pub rate_limit_burst: u32,
    /// Sustained attestation requests per minute per instance (the burst refills at this rate).
    pub rate_limit_per_minute: u32,
}

impl Default for TpmConfig {
    fn default() -> Self {
        Self {
            ek_ca_roots: Vec::new(),
            rate_limit_burst: 20,
            rate_limit_per_minute: 60,
        }
    }
}

/// Sessions (DESIGN §4): every release runs in one, and its nonce is in the identity token's audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// `BeginSession` calls one instance may make in a burst (after authentication; beyond that
    /// RESOURCE_EXHAUSTED). Per server process.
    pub rate_limit_burst: u32,
    /// Sustained `BeginSession` calls per minute per instance (the burst refills at this rate).
    pub rate_limit_per_minute: u32,
    /// How often expired sessions are deleted from the store, seconds.
    pub purge_interval_secs: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            rate_limit_burst: 20,
            rate_limit_per_minute: 60,
            purge_interval_secs: 300,
        }
    }
}

/// Admission control ([`crate::admission`]): a server-wide bound on RPCs in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// RPCs served at once (releases, attestation steps, sessions); read at start only.
    pub max_in_progress: usize,
    /// How long a call beyond the bound waits for a place before it is refused RESOURCE_EXHAUSTED
    /// ("server busy"), milliseconds. Reloaded on SIGHUP.
    pub queue_wait_ms: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            max_in_progress: 128,
            queue_wait_ms: 5_000,
        }
    }
}

/// Everything `tokenserver` reads at start (and again on SIGHUP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Listen address of `/metrics`, `/healthz` and `/readyz`; unset disables them.
    pub metrics_listen: Option<SocketAddr>,
    /// Log line format (`auto`, `text`, `json`).
    pub log_format: LogFormat,
    /// The audience VMs request their identity tokens for (required).
    pub audience: String,
    /// Store URL: `sqlite:///path/tokendist.db` or `firestore://PROJECT/DATABASE?collection_prefix=P`.
    pub store: String,
    /// Maximum age of an identity token, seconds (`--jwtIssuedAtJitter`).
    pub token_max_age_secs: u64,
    /// How long a session (nonce) stays valid, seconds.
    pub session_ttl_secs: u64,
    /// Session rate limit and purge.
    pub sessions: SessionsConfig,
    /// How long evidence for one decision may take to gather before the request fails UNAVAILABLE.
    pub evidence_timeout_ms: u64,
    /// The bound on RPCs in progress and the wait for a place.
    pub admission: AdmissionConfig,
    pub tls: TlsConfig,
    pub keys: KeysConfig,
    pub enforce: EnforcementConfig,
    /// PCRs asked for in sessions of VMs whose approval pins none (SHA-256 bank).
    pub default_pcrs: Vec<u32>,
    pub tpm: TpmConfig,
    pub gcp: GcpConfig,
    /// The audit watch (Pub/Sub subscription + reconciliation per project).
    pub watch: crate::watch::WatchConfig,
    /// Policy settings shared with the console (approved images, deny-list, trusted digests, ...).
    /// `audience`, `iat_window_secs` and `trusted_approver_keys` are filled from the settings above.
    pub policy: tokendist_core::settings::Settings,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 50051)),
            metrics_listen: None,
            log_format: LogFormat::Auto,
            audience: String::new(),
            store: "sqlite:///var/lib/tokendist/tokendist.db".to_string(),
            token_max_age_secs: 60,
            session_ttl_secs: 120,
            sessions: SessionsConfig::default(),
            evidence_timeout_ms: 15_000,
            admission: AdmissionConfig::default(),
            tls: TlsConfig::default(),
            keys: KeysConfig::default(),
            enforce: EnforcementConfig::default(),
            default_pcrs: vec![0, 4, 7, 8, 9, 14],
            tpm: TpmConfig::default(),
            gcp: GcpConfig::default(),
            watch: crate::watch::WatchConfig::default(),
            policy: tokendist_core::settings::Settings::default(),
        }
    }
}

impl ServerConfig {
    fn load_options() -> LoadOptions<'static> {
        LoadOptions {
            env_prefix: ENV_PREFIX,
            config_env: CONFIG_ENV,
            ..LoadOptions::default()
        }
    }

    /// Layers file < env < flags, then validates.
    pub fn load(sources: &ConfigSources) -> Result<ServerConfig, ConfigError> {
        let config: ServerConfig = load_layered(sources, &Self::load_options())?;
        let config = ServerConfig {
            gcp: config.gcp.clone().with_env(&sources.env),
            ..config
        };
        config.validate()?;
        Ok(config)
    }

    /// Where each setting loaded from `sources` came from, for messages about the files they name.
    pub fn origins(sources: &ConfigSources) -> Origins {
        Origins::new(sources, &Self::load_options())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.admission.max_in_progress == 0 {
            return Err(ConfigError::Missing(
                "admission.max_in_progress must be at least 1 (RPCs the server serves at once)"
                    .into(),
            ));
        }
        if self.watch.enabled {
            self.watch.validate().map_err(ConfigError::Missing)?;
            let endpoint = self.watch.pubsub_endpoint.trim();
            if endpoint.starts_with("http://")
                && self.gcp.credentials != tokendist_gcp::CredentialsMode::Anonymous
            {
                return Err(ConfigError::Missing(format!(
                    "watch.pubsub_endpoint {endpoint:?} is plain HTTP but gcp.credentials sends Google                      credentials: the server's OAuth token would cross the network in clear; use https://,                      or gcp.credentials = \"anonymous\" for an emulator (or PUBSUB_EMULATOR_HOST with an \
                     empty pubsub_endpoint)"
                )));
            }
        }
        if self.audience.trim().is_empty() {
            return Err(ConfigError::Missing(
                "no audience configured: set `audience` in the config file, TOKENSERVER_AUDIENCE, or --audience \
                 (the URL VMs request their identity tokens for, e.g. https://tokenserver.example.com)"
                    .into(),
            ));
        }
        if self.tls.cert.as_os_str().is_empty() || self.tls.key.as_os_str().is_empty() {
            return Err(ConfigError::Missing(
                "no TLS certificate/key configured: set tls.cert and tls.key (--tls-cert/--tls-key)".into(),
            ));
        }
        if self.tls.mode == TlsMode::Mtls && self.tls.client_ca.is_none() {
            return Err(ConfigError::Missing(
                "tls.mode is mtls but tls.client_ca is not set: give the CA that issues client certificates \
                 (--client-ca), or set tls.mode = \"tls\""
                    .into(),
            ));
        }
        if self.keys.trusted_approvers.is_empty() {
            return Err(ConfigError::Missing(
                "no trusted approver keys: set keys.trusted_approvers to the public key files written by \
                 `tokendist keygen` (--trusted-approver)"
                    .into(),
            ));
        }
        if self.tpm.rate_limit_burst == 0 || self.tpm.rate_limit_per_minute == 0 {
            return Err(ConfigError::Invalid {
                key: "tpm.rate_limit_burst/tpm.rate_limit_per_minute".into(),
                origin: "config".into(),
                message: "must be greater than zero (a zero limit would refuse every attestation)"
                    .into(),
            });
        }
        if self.sessions.rate_limit_burst == 0
            || self.sessions.rate_limit_per_minute == 0
            || self.sessions.purge_interval_secs == 0
        {
            return Err(ConfigError::Invalid {
                key: "sessions.rate_limit_burst/sessions.rate_limit_per_minute/sessions.purge_interval_secs"
                    .into(),
                origin: "config".into(),
                message: "must be greater than zero (a zero limit would refuse every session)".into(),
            });
        }
        if let Err(message) = self.gcp.checked_jwks_stale_grace() {
            return Err(ConfigError::Invalid {
                key: "gcp.jwks_stale_grace_secs".into(),
                origin: "config".into(),
                message,
            });
        }
        if let Err(message) = self.gcp.checked_jwks_url() {
            return Err(ConfigError::Invalid {
                key: "gcp.jwks_url".into(),
                origin: "config".into(),
                message,
            });
        }
        if self.token_max_age_secs == 0 || self.session_ttl_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "token_max_age_secs/session_ttl_secs".into(),
                origin: "config".into(),
                message: "must be greater than zero".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
