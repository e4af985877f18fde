//! `tokenclient` configuration: the typed [`ClientConfig`], its defaults, and [`ClientConfig::load`],
//! which layers the TOML file, `GCE_METADATA_HOST`, `TOKENDIST_*` environment variables and
//! command-line flags (see [`layers`]) and validates the result. A bad configuration is a
//! [`ConfigError`]; the binary exits with 78 on it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokendist_daemon_kit::layers;
use toml::{Table, Value};

/// Environment variable prefix for every setting.
pub const ENV_PREFIX: &str = "TOKENDIST_";
/// Environment variable naming the config file (the `--config` flag wins).
pub const CONFIG_ENV: &str = "TOKENDIST_CONFIG";
/// Where the config file is looked for when neither `--config` nor `TOKENDIST_CONFIG` names one
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
            tcti: crate::tpm::DEFAULT_TCTI.to_string(),
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
        }
    }
}

/// A configuration that cannot be used. The message names the setting, where it came from, and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid setting {key} (from {origin}): {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
    #[error("{0}")]
    Missing(String),
}

/// The raw inputs of a configuration: where the file is, the environment, and the flags given.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    /// Flag overrides as a TOML table (only flags the user gave).
    pub flags: Table,
    /// Which flag set which key path, for error messages: (`--flag`, `key.path`).
    pub flag_keys: Vec<(String, String)>,
    /// Look for [`DEFAULT_CONFIG_PATH`] when no file is named (off in tests).
    pub use_default_path: bool,
}

impl ClientConfig {
    /// Layers file < `GCE_METADATA_HOST` < `TOKENDIST_*` < flags, then validates.
    pub fn load(sources: &ConfigSources) -> Result<ClientConfig, ConfigError> {
        let file = sources
            .file
            .clone()
            .or_else(|| sources.env.get(CONFIG_ENV).map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from(DEFAULT_CONFIG_PATH);
                (sources.use_default_path && default.is_file()).then_some(default)
            });
        let mut table = match &file {
            Some(path) => read_table(path)?,
            None => Table::new(),
        };
        if let Some(host) = sources
            .env
            .get(tokendist_gcp::config::METADATA_HOST_ENV)
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            table.insert("metadata_host".into(), Value::String(host.to_string()));
        }
        layers::merge(&mut table, layers::env_layer(&sources.env, ENV_PREFIX));
        layers::merge(&mut table, sources.flags.clone());
        let config: ClientConfig = serde_path_to_error::deserialize(Value::Table(table)).map_err(
            |e: serde_path_to_error::Error<toml::de::Error>| {
                let path = e.path().to_string();
                let message = e.inner().message().to_string();
                let key = if path == "." {
                    key_from_message(&message)
                } else {
                    path
                };
                let origin = describe_origin(&key, sources, file.as_deref());
                ConfigError::Invalid {
                    key,
                    origin,
                    message,
                }
            },
        )?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.address.trim().is_empty() {
            return Err(ConfigError::Missing(
                "no token server address: set `address` in the config file, TOKENDIST_ADDRESS, or --address \
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
                "no audience: set `audience` in the config file, TOKENDIST_AUDIENCE, or --audience/--tsAudience \
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

fn read_table(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<Table>().map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// serde's messages name the field (`unknown field `foo``, `missing field `x``); pull it out.
fn key_from_message(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .unwrap_or("configuration")
        .to_string()
}

fn describe_origin(key: &str, sources: &ConfigSources, file: Option<&Path>) -> String {
    match layers::origin_of(key, &sources.env, ENV_PREFIX, &sources.flag_keys) {
        layers::Origin::Flag(flag) => format!("flag {flag}"),
        layers::Origin::Env(name) => format!("environment variable {name}"),
        layers::Origin::File => match file {
            Some(path) => format!("config file {}", path.display()),
            None => "defaults".to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
