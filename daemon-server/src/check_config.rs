//! `tokenserver --check-config[=basic|full]`: loads everything the start loads, through the same
//! functions ([`crate::material`]), and throws it away. `full` also opens the store (an SQLite file
//! that does not exist yet only needs a writable directory) and reaches the Google endpoints: the
//! JWK set must be fetched and parse; the Compute and Logging roots must answer HTTP (any status).
//! Every failure is reported; the summary says what was checked.

use std::time::SystemTime;

use tokendist_daemon_kit::config::{CheckDepth, Origins, Problems};
use tokendist_daemon_kit::error_text::error_chain;
use tokendist_store::{StoreLocation, StoreOptions};

use crate::config::{ConfigSources, ServerConfig, TlsMode};
use crate::key_files::MissingReceiptKey;
use crate::material::{self, GoogleClients};

/// Checks the configuration to `depth`; `Ok` carries the summary lines to print.
pub async fn run(
    config: &ServerConfig,
    sources: &ConfigSources,
    store_options: &StoreOptions,
    depth: CheckDepth,
) -> Result<Vec<String>, Problems> {
    let origins = ServerConfig::origins(sources);
    let missing = MissingReceiptKey::CheckCreatable;
    let loaded = material::load(config, &origins, missing, SystemTime::now());
    let google = material::google_clients(config, &origins).await;
    let mut problems = Problems::default();
    let mut summary = vec![format!(
        "configuration OK: listening on {}, store {}",
        config.listen, config.store
    )];
    for result in [
        loaded.map(|_| ()),
        google.as_ref().map(|_| ()).map_err(Clone::clone),
    ] {
        if let Err(mut found) = result {
            problems.0.append(&mut found.0);
        }
    }
    summary.push(files_checked(config));
    if depth == CheckDepth::Full {
        check_store(config, &origins, store_options, &mut problems, &mut summary).await;
        if let Ok(google) = &google {
            check_google(config, google, &origins, &mut problems, &mut summary).await;
        }
    }
    problems.or_value(Some(summary))
}

fn files_checked(config: &ServerConfig) -> String {
    let client_ca = match config.tls.mode {
        TlsMode::Mtls => ", client CA",
        TlsMode::Tls => "",
    };
    let secrets = match config.keys.secrets_key {
        Some(_) => ", secrets key",
        None => "",
    };
    format!(
        "checked: TLS certificate chain and key{client_ca}, {} trusted approver key(s), receipt key{secrets}, \
         {} EK CA file(s), policy settings, store URL, Google API clients",
        config.keys.trusted_approvers.len(),
        config.tpm.ek_ca_roots.len()
    )
}

async fn check_store(
    config: &ServerConfig,
    origins: &Origins,
    store_options: &StoreOptions,
    problems: &mut Problems,
    summary: &mut Vec<String>,
) {
    let sqlite_to_create = match StoreLocation::parse(&config.store) {
        Ok(StoreLocation::Sqlite { path }) if !path.exists() => Some(path),
        Ok(_) => None,
        Err(_) => return, // already reported by the basic check
    };
    if let Some(path) = sqlite_to_create {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        let writable = tokendist_daemon_kit::writable::check_dir_writable(dir);
        if problems.note("store", origins, writable).is_some() {
            summary.push(format!(
                "checked: store {} does not exist yet; its directory accepts it",
                path.display()
            ));
        }
        return;
    }
    let opened = match tokendist_store::open(&config.store, store_options).await {
        Ok(store) => store.ping().await,
        Err(error) => Err(error),
    };
    if problems.note("store", origins, opened).is_some() {
        summary.push("checked: store opens and answers".to_string());
    }
}

async fn check_google(
    config: &ServerConfig,
    google: &GoogleClients,
    origins: &Origins,
    problems: &mut Problems,
    summary: &mut Vec<String>,
) {
    let keys = google.jwks.key_set(chrono::Utc::now()).await;
    if let Some(keys) = problems.note("gcp.jwks_url", origins, keys) {
        summary.push(format!(
            "checked: JWK set {} ({} keys)",
            google.jwks.url(),
            keys.keys.len()
        ));
    }
    let http = reqwest::Client::builder()
        .timeout(config.gcp.request_timeout())
        .build();
    let Some(http) = problems.note("gcp", origins, http) else {
        return;
    };
    for (setting, url) in [
        ("gcp.compute_endpoint", &config.gcp.compute_endpoint),
        ("gcp.logging_endpoint", &config.gcp.logging_endpoint),
    ] {
        let answer = http.get(url.as_str()).send().await;
        let answer =
            answer.map_err(|error| format!("{url} is not reachable: {}", error_chain(&error)));
        if let Some(response) = problems.note(setting, origins, answer) {
            summary.push(format!(
                "checked: {url} answers (HTTP {})",
                response.status().as_u16()
            ));
        }
    }
}
