//! `tokenserver` command line. Every flag overrides one configuration key (file < env < flags); the
//! original Go server's flag names are accepted as aliases (`--grpcport`, `--tsAudience`, `--useMTLS`,
//! `--tlsCert`, `--tlsKey`, `--tlsCertChain`, `--validatePeerIP`, `--validatePeerSN`,
//! `--jwtIssuedAtJitter`, `--firestoreProjectId`, `--firestoreCollectionName`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::config::ConfigSources;
use tokendist_daemon_kit::config::{CheckConfigFlag, FlagOverrides};
use tokendist_daemon_kit::probe::ProbeArgs;

/// Alice's token server: releases secrets to approved GCE VMs after checking their Google identity
/// token, live VM state, audit log and vTPM attestation.
#[derive(Debug, Parser)]
#[command(
    name = "tokenserver",
    version,
    about,
    long_about = "Alice's token server: releases secrets to approved Google Compute Engine VMs, and to nothing else.\n\n\
Settings come from a TOML file (--config or TOKENSERVER_CONFIG), overridden by TOKENSERVER_* environment \
variables (TOKENSERVER_TLS__CERT sets tls.cert; one that names no setting is an error; the console's \
TOKENDIST_* are ignored), overridden by the flags below. See dist/tokenserver.toml for every setting \
with its default. Check a configuration with --check-config (or --check-config=full).\n\n\
Health: `/healthz` and `/readyz` on metrics_listen; `tokenserver probe` asks /readyz.\n\
Exit codes: 0 clean shutdown, 1 runtime failure, 78 bad configuration (systemd will not restart).\n\
Signals: SIGTERM/SIGINT drain and stop, SIGHUP reloads TLS material, keys and settings."
)]
pub struct Cli {
    /// Another command than serving (without one, `tokenserver` serves).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub check_config: CheckConfigFlag,

    /// gRPC listen address [default: 0.0.0.0:50051].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Listen address as the original server took it (`:50051` or `host:port`).
    #[arg(long = "grpcport", value_name = "[HOST]:PORT", hide_short_help = true)]
    pub grpcport: Option<String>,

    /// Audience the VMs' identity tokens must carry.
    #[arg(long, alias = "tsAudience", value_name = "URL")]
    pub audience: Option<String>,

    /// Store URL: sqlite:///path/tokendist.db or firestore://PROJECT/DATABASE?collection_prefix=P.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,

    /// Firestore project of the store (original flag; builds a firestore:// store URL).
    #[arg(
        long = "firestoreProjectId",
        value_name = "PROJECT",
        hide_short_help = true
    )]
    pub firestore_project: Option<String>,

    /// Firestore collection prefix (original flag; used with --firestoreProjectId).
    #[arg(
        long = "firestoreCollectionName",
        value_name = "NAME",
        hide_short_help = true
    )]
    pub firestore_collection: Option<String>,

    /// Prometheus metrics listen address (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log line format: auto (text; journald priorities when stderr is the journal), text or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["auto", "text", "json"])]
    pub log_format: Option<String>,

    /// Server certificate chain (PEM).
    #[arg(long, alias = "tlsCert", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// Server private key (PEM).
    #[arg(long, alias = "tlsKey", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// CA bundle issuing client certificates (PEM); used with mTLS.
    #[arg(long, alias = "tlsCertChain", value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Require client certificates (mTLS). This is the default.
    #[arg(long, alias = "useMTLS", conflicts_with = "tls_only")]
    pub mtls: bool,

    /// Server-authenticated TLS only; clients present no certificate.
    #[arg(long)]
    pub tls_only: bool,

    /// Check the caller's address when an approval pins one [default: true].
    #[arg(long, alias = "validatePeerIP", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub validate_peer_ip: Option<bool>,

    /// Check the client certificate serial when an approval pins one [default: true].
    #[arg(long, alias = "validatePeerSN", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub validate_peer_sn: Option<bool>,

    /// Maximum age of an identity token in seconds [default: 60].
    #[arg(long, alias = "jwtIssuedAtJitter", value_name = "SECS")]
    pub token_max_age: Option<u64>,

    /// Ed25519 public key file of a trusted approver (repeatable).
    #[arg(long = "trusted-approver", value_name = "FILE")]
    pub trusted_approvers: Vec<PathBuf>,

    /// Ed25519 key that signs release receipts (created when missing).
    #[arg(long, value_name = "FILE")]
    pub receipt_key: Option<PathBuf>,

    /// X25519 key that opens secrets encrypted to this server (created by `tokendist keygen --server`).
    #[arg(long, value_name = "FILE")]
    pub secrets_key: Option<PathBuf>,

    /// Compute Engine API root (e.g. http://127.0.0.1:PORT for gcpsim).
    #[arg(long, value_name = "URL")]
    pub compute_endpoint: Option<String>,

    /// Cloud Logging API root.
    #[arg(long, value_name = "URL")]
    pub logging_endpoint: Option<String>,

    /// Google's identity-token JWK set URL.
    #[arg(long, value_name = "URL")]
    pub jwks_url: Option<String>,

    /// Call the Google APIs without credentials (only for gcpsim).
    #[arg(long)]
    pub gcp_anonymous: bool,

    /// Accept a plain http:// JWKS URL (only for gcpsim: anyone on the path could swap the keys).
    #[arg(long)]
    pub jwks_allow_http: bool,
}

/// What `tokenserver` does instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Ask a running tokenserver whether it is ready (GET /readyz on its metrics_listen) and print
    /// its answer. Exit 0 ready, 1 not ready, 69 nothing answers, 78 no metrics_listen configured.
    Probe(ProbeArgs),
}

/// Normalises the original's `--grpcport` (`:50051`) into a socket address string.
fn listen_from_grpcport(value: &str) -> String {
    if value.starts_with(':') {
        format!("0.0.0.0{value}")
    } else {
        value.to_string()
    }
}

impl Cli {
    /// The flags the user gave, as configuration overrides.
    pub fn sources(&self, env: std::collections::BTreeMap<String, String>) -> ConfigSources {
        let mut o = FlagOverrides::default();
        let grpcport = self.grpcport.as_deref().map(listen_from_grpcport);
        o.given("--grpcport", "listen", grpcport.as_ref());
        o.given(
            "--listen",
            "listen",
            self.listen.map(|a| a.to_string()).as_ref(),
        );
        let firestore = self.firestore_project.as_ref().map(|project| {
            let prefix = self.firestore_collection.clone().unwrap_or_default();
            format!("firestore://{project}/(default)?collection_prefix={prefix}")
        });
        o.given("--firestoreProjectId", "store", firestore.as_ref());
        o.given("--audience", "audience", self.audience.as_ref());
        o.given("--store", "store", self.store.as_ref());
        let metrics = self.metrics_listen.map(|a| a.to_string());
        o.given("--metrics-listen", "metrics_listen", metrics.as_ref());
        o.given("--log-format", "log_format", self.log_format.as_ref());
        o.given("--tls-cert", "tls.cert", self.tls_cert.as_ref());
        o.given("--tls-key", "tls.key", self.tls_key.as_ref());
        o.given("--client-ca", "tls.client_ca", self.client_ca.as_ref());
        o.given("--mtls", "tls.mode", self.mtls.then_some("mtls"));
        o.given("--tls-only", "tls.mode", self.tls_only.then_some("tls"));
        o.given(
            "--validate-peer-ip",
            "enforce.peer_ip",
            self.validate_peer_ip,
        );
        let serial = self.validate_peer_sn;
        o.given("--validate-peer-sn", "enforce.client_cert_serial", serial);
        o.given("--token-max-age", "token_max_age_secs", self.token_max_age);
        let approvers =
            (!self.trusted_approvers.is_empty()).then_some(self.trusted_approvers.as_slice());
        o.given("--trusted-approver", "keys.trusted_approvers", approvers);
        o.given(
            "--receipt-key",
            "keys.receipt_key",
            self.receipt_key.as_ref(),
        );
        o.given(
            "--secrets-key",
            "keys.secrets_key",
            self.secrets_key.as_ref(),
        );
        let compute = self.compute_endpoint.as_ref();
        o.given("--compute-endpoint", "gcp.compute_endpoint", compute);
        let logging = self.logging_endpoint.as_ref();
        o.given("--logging-endpoint", "gcp.logging_endpoint", logging);
        o.given("--jwks-url", "gcp.jwks_url", self.jwks_url.as_ref());
        let anonymous = self.gcp_anonymous.then_some("anonymous");
        o.given("--gcp-anonymous", "gcp.credentials", anonymous);
        o.given(
            "--jwks-allow-http",
            "gcp.jwks_allow_http",
            self.jwks_allow_http.then_some(true),
        );
        o.into_sources(self.config.clone(), env, false)
    }
}
