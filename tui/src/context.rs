//! Opening what the operations share ([`crate::operations::Context`] is built from these): the
//! store (a missing SQLite file is an error unless creating it was asked for), Alice's policy
//! settings and the Google API clients. Failures here are configuration errors (exit 78).

use std::path::Path;
use std::sync::Arc;

use tokendist_core::keys::ed25519_public_from_pem;
use tokendist_core::settings::{Settings, encode_verifying_key};
use tokendist_gcp::{
    ComputeClient, CredentialsMode, EvidenceCollector, GcpConfig, LoggingClient, RetryMode,
};
use tokendist_store::{Store, StoreError, StoreLocation};

use crate::error::ConsoleError;
use crate::files::read_text;
use crate::operations::ContextOptions;

fn url_error(url: &str, message: &str) -> ConsoleError {
    ConsoleError::Config(format!(
        "store URL {url:?}: {message}; use sqlite:///path/tokendist.db or firestore://PROJECT/DATABASE"
    ))
}

/// Opens the store at `url`. A SQLite URL naming a missing file is [`ConsoleError::StoreMissing`]
/// unless `create`: a typo must not silently become an empty store.
pub async fn open_store(url: &str, create: bool) -> Result<Arc<dyn Store>, ConsoleError> {
    let location = StoreLocation::parse(url).map_err(|e| match e {
        StoreError::Config(message) => url_error(url, &message),
        other => ConsoleError::Store(other),
    })?;
    if let StoreLocation::Sqlite { path } = &location
        && !create
        && !path.exists()
    {
        return Err(ConsoleError::StoreMissing {
            path: path.display().to_string(),
        });
    }
    tokendist_store::open_from_env(url)
        .await
        .map_err(|e| match e {
            StoreError::Config(message) => url_error(url, &message),
            other => ConsoleError::Store(other),
        })
}

/// Reads `--settings` (TOML of `core::Settings`), or the defaults when none is given.
pub fn load_settings(path: Option<&Path>) -> Result<Settings, ConsoleError> {
    let Some(path) = path else {
        return Ok(Settings::default());
    };
    let text =
        read_text(path, "read settings file").map_err(|e| ConsoleError::Config(e.to_string()))?;
    let mut settings: Settings = toml::from_str(&text).map_err(|e| {
        ConsoleError::Config(format!(
            "settings file {} is not valid: {}",
            path.display(),
            e.message()
        ))
    })?;
    load_template(&mut settings, path)?;
    settings
        .validate()
        .map_err(|e| ConsoleError::Config(format!("settings file {}: {e}", path.display())))?;
    Ok(settings)
}

/// Adds the `--trust-key` files to the settings' trusted approver keys.
pub fn trust_keys(
    settings: &mut Settings,
    files: &[std::path::PathBuf],
) -> Result<(), ConsoleError> {
    for path in files {
        let pem = read_text(path, "read trusted key")?;
        let key = ed25519_public_from_pem(&pem)
            .map_err(|e| ConsoleError::bad_input(path, e.to_string()))?;
        settings
            .trusted_approver_keys
            .push(encode_verifying_key(&key));
    }
    Ok(())
}

/// Reads the cloud-config template the settings name (`cloud_config_template.path`, relative to the
/// settings file) into `cloud_config_template.text`; validation of its holes follows.
fn load_template(settings: &mut Settings, settings_path: &Path) -> Result<(), ConsoleError> {
    let Some(template) = settings.cloud_config_template.as_mut() else {
        return Ok(());
    };
    let Some(relative) = template.path.as_deref() else {
        return Ok(());
    };
    if template.text.is_some() {
        return Err(ConsoleError::Config(format!(
            "settings file {}: cloud_config_template has both `path` and `text`; keep one",
            settings_path.display()
        )));
    }
    let file = settings_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(relative);
    let text = read_text(&file, "read the cloud-config template").map_err(|e| {
        ConsoleError::Config(format!("settings file {}: {e}", settings_path.display()))
    })?;
    template.text = Some(text);
    Ok(())
}

/// The Google API configuration the options describe.
pub fn google_config(options: &ContextOptions) -> GcpConfig {
    let mut config = GcpConfig::default();
    if let Some(endpoint) = &options.compute_endpoint {
        config.compute_endpoint = endpoint.clone();
    }
    if let Some(endpoint) = &options.logging_endpoint {
        config.logging_endpoint = endpoint.clone();
    }
    if options.gcp_anonymous {
        config.credentials = CredentialsMode::Anonymous;
    }
    // An operator is waiting: retry a transient failure a little, then report it.
    config.retry = RetryMode::Attempts(3);
    config
}

/// Builds the evidence collector (Compute + Logging clients).
pub async fn collector(config: &GcpConfig) -> Result<EvidenceCollector, ConsoleError> {
    let compute = ComputeClient::new(config)
        .await
        .map_err(|e| ConsoleError::Config(e.to_string()))?;
    let logging = LoggingClient::new(config)
        .await
        .map_err(|e| ConsoleError::Config(e.to_string()))?;
    Ok(EvidenceCollector::new(compute, logging))
}
