//! What the subcommands share, built from the global options: the store, Alice's policy settings
//! and the Google API clients. Failures here are configuration errors (exit 78).

use std::path::Path;
use std::sync::Arc;

use tokendist_core::settings::Settings;
use tokendist_gcp::{
    ComputeClient, CredentialsMode, EvidenceCollector, GcpConfig, LoggingClient, RetryMode,
};
use tokendist_store::{Store, StoreError};

use crate::cli::GlobalOptions;
use crate::error::ConsoleError;
use crate::files::read_text;

/// Opens the store named by `--store`.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, ConsoleError> {
    tokendist_store::open_from_env(url).await.map_err(|e| match e {
        StoreError::Config(message) => ConsoleError::Config(format!(
            "store URL {url:?}: {message}; use sqlite:///path/tokendist.db or firestore://PROJECT/DATABASE"
        )),
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

/// The Google API configuration the global options describe.
pub fn gcp_config(global: &GlobalOptions) -> GcpConfig {
    let mut config = GcpConfig::default();
    if let Some(endpoint) = &global.compute_endpoint {
        config.compute_endpoint = endpoint.clone();
    }
    if let Some(endpoint) = &global.logging_endpoint {
        config.logging_endpoint = endpoint.clone();
    }
    if global.gcp_anonymous {
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
