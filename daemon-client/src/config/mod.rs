//! `tokenclient` configuration: the typed [`ClientConfig`], its defaults, and [`ClientConfig::load`],
//! which layers the TOML file, `GCE_METADATA_HOST`, `TOKENCLIENT_*` environment variables and
//! command-line flags (see [`layers`]) and validates the result. A bad configuration is a
//! [`ConfigError`]; the binary exits with 78 on it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
pub use tokendist_daemon_kit::config::{ConfigError, ConfigSources, Origins};
use tokendist_daemon_kit::config::{LoadOptions, load_layered};
use tokendist_daemon_kit::logging::LogFormat;
use toml::{Table, Value};

/// Environment variable prefix for every setting (the console's `TOKENDIST_*` are not read; a
/// `TOKENCLIENT_*` variable that names no setting is an error).
pub const ENV_PREFIX: &str = "TOKENCLIENT_";
/// Environment variable naming the config file (the `--config` flag wins).
pub const CONFIG_ENV: &str = "TOKENCLIENT_CONFIG";
/// Where the config file is looked for when neither `--config` nor `TOKENCLIENT_CONFIG` names one
/// (used only when it exists).
pub const DEFAULT_CONFIG_PATH: &str = "/etc/tokendist/tokenclient.toml";
/// Where secrets are written by default (a tmpfs under systemd's `RuntimeDirectory=tokenclient`).
pub const DEFAULT_SECRETS_DIR: &str = "/run/tokenclient/secrets";
/// The local socket serving `GET /v1/secrets/NAME` by default.
pub const DEFAULT_SOCKET: &str = "/run/tokenclient/secrets.sock";

/// TLS towards the token server. The server CA is pinned; the server name is checked (SNI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// CA certificate(s) (PEM) that issued the server's certificate (`--tlsCertChain`).
    pub ca: PathBuf,
    /// Present a client certificate (`--useMTLS`).
    pub mtls: bool,
    /// Client certificate chain (PEM), with `mtls` (`--tlsClientCert`).
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM), with `mtls` (`--tlsClientKey`).
    pub client_key: Option<PathBuf>,
}

/// The VM's TPM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TpmSettings {
    /// Attest with the TPM and open TPM-sealed secrets (`--useTPM`; `--no-tpm` turns it off).
    pub enabled: bool,
    /// libtss2 TCTI: `device:/dev/tpmrm0` on a VM, `swtpm:host=127.0.0.1,port=P` for a software TPM.
    pub tcti: String,
}

impl Default for TpmSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            tcti: tokendist_tpm::DEFAULT_TCTI.to_string(),
        }
    }
}

/// How secrets reach the workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Directory receiving one file per secret (mode 0700; files 0600).
    pub dir: PathBuf,
    /// Unix socket serving `GET /v1/secrets/NAME`; an empty path disables it.
    pub socket: PathBuf,
    /// Uids allowed to read from the socket (checked with SO_PEERCRED). Empty: the daemon's own uid.
    pub allowed_uids: Vec<u32>,
    /// Leave the secret files in place when the daemon stops.
    pub keep_on_exit: bool,
    /// A command run (`/bin/sh -c`) after the first delivery, with `TOKENCLIENT_SECRETS_DIR` set.
    pub exec: Option<String>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from(DEFAULT_SECRETS_DIR),
            socket: PathBuf::from(DEFAULT_SOCKET),
            allowed_uids: Vec::new(),
            keep_on_exit: false,
            exec: None,
        }
    }
}

/// Everything `tokenclient` reads at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Token server `host:port` (`--address`).
    pub address: String,
    /// Name the server certificate must carry; also sent as SNI (`--servername`). Default: the host
    /// part of `address`.
    pub server_name: Option<String>,
    /// Audience of the identity tokens, as the server expects it (`--tsAudience`).
    pub audience: String,
    /// Metadata server `host[:port]`; `GCE_METADATA_HOST` overrides the file.
    pub metadata_host: String,
    /// Upper bound of the wait between attempts, milliseconds (`--pollWaitSeconds` × 1000).
    pub poll_interval_ms: u64,
    /// First wait after a failed attempt, milliseconds; doubles up to `poll_interval_ms`.
    pub initial_backoff_ms: u64,
    /// Attempts before giving up (exit 1); 0 = never give up (`--maxLoop`).
    pub max_attempts: u32,
    /// Deadline of one RPC, milliseconds.
    pub rpc_timeout_ms: u64,
    /// After delivery, attest again this often and remove the secrets when the server refuses;
    /// 0 disables re-attestation.
    pub reattest_interval_secs: u64,
    pub tls: TlsConfig,
    pub tpm: TpmSettings,
    pub delivery: DeliveryConfig,
    /// Listen address of `/metrics`, `/healthz` and `/readyz` (`--metrics-listen`); unset: none.
    pub metrics_listen: Option<SocketAddr>,
    /// Log line format (`auto`, `text`, `json`).
    pub log_format: LogFormat,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            address: String::new(),
            server_name: None,
            audience: String::new(),
            metadata_host: tokendist_gcp::config::DEFAULT_METADATA_HOST.to_string(),
            poll_interval_ms: 10_000,
            initial_backoff_ms: 500,
            max_attempts: 0,
            rpc_timeout_ms: 30_000,
            reattest_interval_secs: 0,
            tls: TlsConfig::default(),
            tpm: TpmSettings::default(),
            delivery: DeliveryConfig::default(),
            metrics_listen: None,
            log_format: LogFormat::Auto,
        }
    }
}

impl ClientConfig {
    fn load_options(sources: &ConfigSources) -> LoadOptions<'static> {
        let mut before_env = Table::new();
        if let Some(host) = sources
            .env
            .get(tokendist_gcp::config::METADATA_HOST_ENV)
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            before_env.insert("metadata_host".into(), Value::String(host.to_string()));
        }
        LoadOptions {
            env_prefix: ENV_PREFIX,
            config_env: CONFIG_ENV,
            default_path: Some(Path::new(DEFAULT_CONFIG_PATH)),
            before_env,
            // Set by tokenclient for the `delivery.exec` command, not read.
            ignored_env: &[crate::daemon::SECRETS_DIR_ENV],
        }
    }

    /// Layers file < `GCE_METADATA_HOST` < `TOKENCLIENT_*` < flags, then validates.
    pub fn load(sources: &ConfigSources) -> Result<ClientConfig, ConfigError> {
        let config: ClientConfig = load_layered(sources, &Self::load_options(sources))?;
        config.validate()?;
        Ok(config)
    }

    /// Where each setting loaded from `sources` came from, for messages about the files they name.
    pub fn origins(sources: &ConfigSources) -> Origins {
        Origins::new(sources, &Self::load_options(sources))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.address.trim().is_empty() {
            return Err(ConfigError::Missing(
                "no token server address: set `address` in the config file, TOKENCLIENT_ADDRESS, or --address \
                 (host:port of the token server, e.g. tokenserver.alice.example:50051)"
                    .into(),
            ));
        }
        if self.server_host().is_none() {
            return Err(invalid(
                "address",
                format!("{:?} is not host:port", self.address),
            ));
        }
        if self.audience.trim().is_empty() {
            return Err(ConfigError::Missing(
                "no audience: set `audience` in the config file, TOKENCLIENT_AUDIENCE, or --audience/--tsAudience \
                 (the audience the token server expects in identity tokens, e.g. https://tokenserver.alice.example)"
                    .into(),
            ));
        }
        if self.tls.ca.as_os_str().is_empty() {
            return Err(ConfigError::Missing(
                "no server CA: set tls.ca (--tls-ca/--tlsCertChain) to the PEM file of the CA that issued the \
                 token server's certificate"
                    .into(),
            ));
        }
        if self.tls.mtls && (self.tls.client_cert.is_none() || self.tls.client_key.is_none()) {
            return Err(ConfigError::Missing(
                "tls.mtls is on but tls.client_cert or tls.client_key is not set: give both \
                 (--tlsClientCert/--tlsClientKey), or turn mTLS off"
                    .into(),
            ));
        }
        if self.poll_interval_ms == 0 || self.initial_backoff_ms == 0 || self.rpc_timeout_ms == 0 {
            return Err(invalid(
                "poll_interval_ms/initial_backoff_ms/rpc_timeout_ms",
                "must be greater than zero".into(),
            ));
        }
        if self.delivery.dir.as_os_str().is_empty() || !self.delivery.dir.is_absolute() {
            return Err(invalid(
                "delivery.dir",
                format!(
                    "{:?} must be an absolute directory path",
                    self.delivery.dir.display().to_string()
                ),
            ));
        }
        if self.tpm.enabled && self.tpm.tcti.trim().is_empty() {
            return Err(invalid(
                "tpm.tcti",
                "empty; use device:/dev/tpmrm0 or swtpm:host=H,port=P".into(),
            ));
        }
        Ok(())
    }

    /// The host part of `address` (brackets removed from IPv6 literals).
    pub fn server_host(&self) -> Option<String> {
        let address = self.address.trim();
        let (host, port) = address.rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        (!host.is_empty()).then(|| host.to_string())
    }

    /// The name checked in the server certificate (and sent as SNI).
    pub fn effective_server_name(&self) -> String {
        self.server_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.server_host())
            .unwrap_or_default()
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn initial_backoff(&self) -> Duration {
        Duration::from_millis(self.initial_backoff_ms)
    }

    pub fn rpc_timeout(&self) -> Duration {
        Duration::from_millis(self.rpc_timeout_ms)
    }

    /// `None` when re-attestation is off.
    pub fn reattest_interval(&self) -> Option<Duration> {
        (self.reattest_interval_secs > 0).then(|| Duration::from_secs(self.reattest_interval_secs))
    }
}

fn invalid(key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        origin: "the effective configuration".to_string(),
        message,
    }
}

#[cfg(test)]
mod tests;
