//! `tokenclient` command line. Every flag overrides one configuration key (file < env < flags); the
//! original Go client's flag names are accepted as aliases (`--address`, `--servername`,
//! `--tsAudience`, `--useMTLS`, `--tlsClientCert`, `--tlsClientKey`, `--tlsCertChain`, `--useTPM`,
//! `--maxLoop`, `--pollWaitSeconds`).

use std::path::PathBuf;

use clap::Parser;

use crate::config::ConfigSources;
use tokendist_daemon_kit::config::{CheckConfigFlag, FlagOverrides};
use tokendist_daemon_kit::probe::ProbeArgs;

/// Bob's VM daemon: proves the VM's identity and state to the token server, receives the secrets
/// Alice approved, and hands them to the workload.
#[derive(Debug, Parser)]
#[command(
    name = "tokenclient",
    version,
    about,
    long_about = "Bob's VM daemon: proves this VM (Google identity token, vTPM attestation) to the token server, \
receives the secrets Alice approved and hands them to the workload as files and on a local socket.\n\n\
Settings come from a TOML file (--config, TOKENCLIENT_CONFIG, or /etc/tokendist/tokenclient.toml when it \
exists), overridden by TOKENCLIENT_* environment variables (TOKENCLIENT_TLS__CA sets tls.ca; one that names \
no setting is an error), overridden by the flags below. GCE_METADATA_HOST relocates the metadata server. See dist/tokenclient.toml.\n\n\
Exit codes: 0 clean shutdown, 1 gave up (--max-attempts) or runtime failure, 69 no TPM, \
76 the server rejected a request as malformed (version mismatch), 78 bad configuration or a server \
certificate that does not verify (systemd will not restart).\n\
Health: /healthz and /readyz on metrics_listen; `tokenclient status` asks /readyz.\n\
Signals: SIGTERM/SIGINT stop (secret files removed unless --keep-secrets-on-exit); SIGHUP re-reads the \
configuration (server address, TLS material, audience, timings; delivery and TPM settings need a restart)."
)]
pub struct Cli {
    /// Another command than running (without one, `tokenclient` runs).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub check_config: CheckConfigFlag,

    /// Print this TPM's endorsement key as PEM (what Compute's shielded identity publishes as `ekPub`)
    /// and exit; compare it with `gcloud compute instances get-shielded-identity VM`. Needs only --tcti.
    #[arg(long)]
    pub print_ek: bool,

    /// Token server host:port.
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,

    /// Name the server certificate must carry (SNI) [default: the host of --address].
    #[arg(long, alias = "servername", value_name = "NAME")]
    pub server_name: Option<String>,

    /// Audience of the identity tokens (the token server's).
    #[arg(long, alias = "tsAudience", value_name = "URL")]
    pub audience: Option<String>,

    /// CA certificate (PEM) that issued the server certificate.
    #[arg(long, alias = "tlsCertChain", value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// Present a client certificate (mTLS).
    #[arg(long, alias = "useMTLS", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub mtls: Option<bool>,

    /// Client certificate (PEM) for mTLS.
    #[arg(long, alias = "tlsClientCert", value_name = "FILE")]
    pub tls_client_cert: Option<PathBuf>,

    /// Client private key (PEM) for mTLS.
    #[arg(long, alias = "tlsClientKey", value_name = "FILE")]
    pub tls_client_key: Option<PathBuf>,

    /// Use the TPM (attestation, TPM-sealed secrets) [default: true].
    #[arg(long, alias = "useTPM", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", conflicts_with = "no_tpm")]
    pub tpm: Option<bool>,

    /// Do not use a TPM: only approvals with require_tpm = false can release secrets.
    #[arg(long)]
    pub no_tpm: bool,

    /// TPM TCTI [default: device:/dev/tpmrm0].
    #[arg(long, value_name = "TCTI")]
    pub tcti: Option<String>,

    /// Give up after this many attempts (0 = never).
    #[arg(long, alias = "maxLoop", value_name = "N")]
    pub max_attempts: Option<u32>,

    /// Longest wait between attempts, milliseconds [default: 10000].
    #[arg(long, value_name = "MS")]
    pub poll_interval_ms: Option<u64>,

    /// Longest wait between attempts, seconds (the original's flag).
    #[arg(long = "pollWaitSeconds", value_name = "SECS", hide_short_help = true)]
    pub poll_wait_seconds: Option<u64>,

    /// Metadata server host[:port] [default: metadata.google.internal, or GCE_METADATA_HOST].
    #[arg(long, value_name = "HOST")]
    pub metadata_host: Option<String>,

    /// Directory receiving the secret files [default: /run/tokenclient/secrets].
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,

    /// Unix socket serving GET /v1/secrets/NAME ("" disables) [default: /run/tokenclient/secrets.sock].
    #[arg(long, value_name = "PATH", value_parser = path_or_empty)]
    pub socket: Option<PathBuf>,

    /// Uid allowed to read secrets from the socket (repeatable) [default: the daemon's own uid].
    #[arg(long = "allow-uid", value_name = "UID")]
    pub allow_uids: Vec<u32>,

    /// Leave the secret files in place on exit.
    #[arg(long)]
    pub keep_secrets_on_exit: bool,

    /// Run CMD (/bin/sh -c) after the first delivery, with TOKENCLIENT_SECRETS_DIR set.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,

    /// Serve /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9465) [default: off].
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// Log line format: auto (text; journald priorities when stderr is the journal), text or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["auto", "text", "json"])]
    pub log_format: Option<String>,

    /// Re-attest this often after delivery (30s, 15m, 2h; a bare number is minutes; 0 = off); the
    /// secrets are removed when the server refuses.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub reattest_interval: Option<u64>,
}

/// What `tokenclient` does instead of running.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Ask a running tokenclient whether it is ready (GET /readyz on its metrics_listen: secrets
    /// delivered and current) and print its answer, or why not. Exit 0 ready, 1 not ready, 69 nothing
    /// answers, 78 no metrics_listen configured.
    Status(ProbeArgs),
}

/// A path where the empty string is a value (it means "off"); clap's own path parser refuses it.
fn path_or_empty(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

/// Parses `30s`, `15m`, `2h` or a bare number of minutes into seconds.
pub fn parse_interval(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "m"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 15m or 2h"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("{text:?}: unit must be s, m or h")),
    };
    value
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too long"))
}

impl Cli {
    /// The flags the user gave, as configuration overrides.
    pub fn sources(&self, env: std::collections::BTreeMap<String, String>) -> ConfigSources {
        let mut o = FlagOverrides::default();
        o.given("--address", "address", self.address.as_ref());
        o.given("--server-name", "server_name", self.server_name.as_ref());
        o.given("--audience", "audience", self.audience.as_ref());
        o.given("--tls-ca", "tls.ca", self.tls_ca.as_ref());
        o.given("--mtls", "tls.mtls", self.mtls);
        o.given(
            "--tls-client-cert",
            "tls.client_cert",
            self.tls_client_cert.as_ref(),
        );
        o.given(
            "--tls-client-key",
            "tls.client_key",
            self.tls_client_key.as_ref(),
        );
        o.given("--tpm", "tpm.enabled", self.tpm);
        o.given("--no-tpm", "tpm.enabled", self.no_tpm.then_some(false));
        o.given("--tcti", "tpm.tcti", self.tcti.as_ref());
        o.given("--max-attempts", "max_attempts", self.max_attempts);
        let poll_ms = self.poll_wait_seconds.map(|secs| secs.saturating_mul(1000));
        o.given("--pollWaitSeconds", "poll_interval_ms", poll_ms);
        o.given(
            "--poll-interval-ms",
            "poll_interval_ms",
            self.poll_interval_ms,
        );
        o.given(
            "--metadata-host",
            "metadata_host",
            self.metadata_host.as_ref(),
        );
        o.given("--secrets-dir", "delivery.dir", self.secrets_dir.as_ref());
        o.given("--socket", "delivery.socket", self.socket.as_ref());
        let uids = (!self.allow_uids.is_empty()).then_some(self.allow_uids.as_slice());
        o.given("--allow-uid", "delivery.allowed_uids", uids);
        let keep = self.keep_secrets_on_exit.then_some(true);
        o.given("--keep-secrets-on-exit", "delivery.keep_on_exit", keep);
        o.given("--exec", "delivery.exec", self.exec.as_ref());
        o.given(
            "--reattest-interval",
            "reattest_interval_secs",
            self.reattest_interval,
        );
        let metrics = self.metrics_listen.map(|a| a.to_string());
        o.given("--metrics-listen", "metrics_listen", metrics.as_ref());
        o.given("--log-format", "log_format", self.log_format.as_ref());
        o.into_sources(self.config.clone(), env, true)
    }
}
