//! Everything `tokenserver` loads from the files and URLs its configuration names: the key files,
//! the TLS material (dates, chain, key against certificate, client CA), the EK CA roots, the store
//! URL and the Google API clients. One function each, shared by the start, the SIGHUP reload and
//! `--check-config`, so that a check cannot pass where the start would fail. Every failure is
//! collected (not just the first) and names its setting and where that setting came from.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use tokendist_daemon_kit::config::{Origins, Problems};
use tokendist_daemon_kit::pem_files;
use tokendist_gcp::{ComputeClient, JwksCache, LoggingClient};

use crate::config::{ServerConfig, TlsMode};
use crate::key_files::{self, KeyMaterial, MissingReceiptKey};
use crate::state::LiveSettings;

/// The loaded material the server runs with.
#[derive(Debug)]
pub struct Material {
    pub live: LiveSettings,
    pub tls: Arc<rustls::ServerConfig>,
}

/// The Google API clients the server calls.
#[derive(Debug)]
pub struct GoogleClients {
    pub jwks: JwksCache,
    pub compute: ComputeClient,
    pub logging: LoggingClient,
}

/// Where the receipt key goes when `keys.receipt_key` is unset: next to the SQLite file when there
/// is one, else the current directory.
pub fn default_state_dir(config: &ServerConfig) -> PathBuf {
    config
        .store
        .strip_prefix("sqlite://")
        .map(Path::new)
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Reads and checks every file the configuration names, as of `now`. `missing_receipt_key` says
/// whether a missing receipt key is created (start) or only checked to be creatable (check).
pub fn load(
    config: &ServerConfig,
    origins: &Origins,
    missing_receipt_key: MissingReceiptKey,
    now: SystemTime,
) -> Result<Material, Problems> {
    let mut problems = Problems::default();
    let keys = load_keys(config, origins, missing_receipt_key, &mut problems);
    let ek_ca = load_ek_ca(config, origins, &mut problems);
    let tls = load_tls(config, origins, now, &mut problems);
    problems.note(
        "store",
        origins,
        tokendist_store::StoreLocation::parse(&config.store),
    );
    let live = match (keys, ek_ca) {
        (Some(keys), Some(ek_ca)) => problems.note(
            "policy",
            origins,
            LiveSettings::from_config(config, keys, ek_ca),
        ),
        _ => None,
    };
    let material = live.zip(tls).map(|(live, tls)| Material { live, tls });
    problems.or_value(material)
}

fn load_keys(
    config: &ServerConfig,
    origins: &Origins,
    missing_receipt_key: MissingReceiptKey,
    problems: &mut Problems,
) -> Option<KeyMaterial> {
    let mut trusted_approvers = Vec::new();
    for (index, path) in config.keys.trusted_approvers.iter().enumerate() {
        let setting = format!("keys.trusted_approvers[{index}]");
        if let Some(key) = problems.note(&setting, origins, key_files::trusted_approver(path)) {
            trusted_approvers.push(key);
        }
    }
    let receipt_path = key_files::receipt_key_path(&config.keys, &default_state_dir(config));
    let receipt_key = problems.note(
        "keys.receipt_key",
        origins,
        key_files::receipt_key(&receipt_path, missing_receipt_key),
    );
    let secrets_key = match &config.keys.secrets_key {
        Some(path) => problems
            .note("keys.secrets_key", origins, key_files::secrets_key(path))
            .map(Some),
        None => Some(None),
    };
    let complete = trusted_approvers.len() == config.keys.trusted_approvers.len();
    match (receipt_key, secrets_key) {
        (Some(receipt_key), Some(secrets_key)) if complete => Some(KeyMaterial {
            trusted_approvers,
            receipt_key,
            secrets_key,
        }),
        _ => None,
    }
}

fn load_ek_ca(
    config: &ServerConfig,
    origins: &Origins,
    problems: &mut Problems,
) -> Option<Vec<Vec<u8>>> {
    let mut certificates = Vec::new();
    let mut complete = true;
    for (index, path) in config.tpm.ek_ca_roots.iter().enumerate() {
        let setting = format!("tpm.ek_ca_roots[{index}]");
        match problems.note(
            &setting,
            origins,
            crate::ek_certificate::load_ek_ca(std::slice::from_ref(path)),
        ) {
            Some(mut found) => certificates.append(&mut found),
            None => complete = false,
        }
    }
    complete.then_some(certificates)
}

fn load_tls(
    config: &ServerConfig,
    origins: &Origins,
    now: SystemTime,
    problems: &mut Problems,
) -> Option<Arc<rustls::ServerConfig>> {
    let tls = &config.tls;
    let chain = problems.note("tls.cert", origins, pem_files::read_certificates(&tls.cert));
    if let Some(chain) = &chain {
        for problem in pem_files::certificate_problems(&tls.cert, chain, now, true) {
            problems.add("tls.cert", origins, problem);
        }
    }
    let key = problems.note("tls.key", origins, pem_files::read_private_key(&tls.key));
    let key_matches = match (&chain, &key) {
        (Some(chain), Some(key)) => problems
            .note(
                "tls.key",
                origins,
                pem_files::check_key_matches(&tls.cert, chain, &tls.key, key),
            )
            .is_some(),
        _ => false,
    };
    let client_roots = match (tls.mode, &tls.client_ca) {
        (TlsMode::Mtls, Some(path)) => {
            let roots = problems.note("tls.client_ca", origins, pem_files::read_certificates(path));
            if let Some(roots) = &roots {
                for problem in pem_files::certificate_problems(path, roots, now, false) {
                    problems.add("tls.client_ca", origins, problem);
                }
            }
            Some(roots?)
        }
        _ => None,
    };
    if !key_matches {
        return None;
    }
    let built = crate::tls::build(tls.mode, chain?, key?, client_roots);
    let setting = match &built {
        Err(crate::tls::TlsBuildError::ClientCa(_)) => "tls.client_ca",
        _ => "tls.key",
    };
    problems.note(setting, origins, built)
}

/// Builds the Google API clients (JWKS cache, Compute, Logging) the configuration asks for; no
/// request is sent.
pub async fn google_clients(
    config: &ServerConfig,
    origins: &Origins,
) -> Result<GoogleClients, Problems> {
    let mut problems = Problems::default();
    let jwks = problems.note("gcp.jwks_url", origins, JwksCache::new(&config.gcp));
    let compute = problems.note(
        "gcp.compute_endpoint",
        origins,
        ComputeClient::new(&config.gcp).await,
    );
    let logging = problems.note(
        "gcp.logging_endpoint",
        origins,
        LoggingClient::new(&config.gcp).await,
    );
    let clients = match (jwks, compute, logging) {
        (Some(jwks), Some(compute), Some(logging)) => Some(GoogleClients {
            jwks,
            compute,
            logging,
        }),
        _ => None,
    };
    problems.or_value(clients)
}
