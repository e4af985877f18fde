//! [`Context`]: what every operation needs — the store, Alice's policy settings, the Google API
//! clients (built on first use, so store-only operations need no Google credentials) and the token
//! server's receipt key — opened once from plain values ([`ContextOptions`]) and cheap to clone, so a
//! background task can own one.

use std::path::PathBuf;
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use tokendist_core::settings::Settings;
use tokendist_gcp::{EvidenceCollector, GcpConfig};
use tokendist_store::Store;
use tokio::sync::OnceCell;

use crate::context::{collector, google_config, load_settings, open_store, trust_keys};
use crate::error::ConsoleError;
use crate::signing_keys::load_receipt_public;

/// Everything [`Context::open`] needs, as plain values (the CLI fills it from its global options,
/// the console from the same options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextOptions {
    /// `sqlite:///path/tokendist.db` or `firestore://PROJECT/DATABASE?collection_prefix=P`.
    pub store_url: String,
    /// Create a missing SQLite file (otherwise a missing file is an error, never an empty store).
    pub create: bool,
    /// Compute Engine API root (None: Google's).
    pub compute_endpoint: Option<String>,
    /// Cloud Logging API root (None: Google's).
    pub logging_endpoint: Option<String>,
    /// Call Google without credentials (gcpsim).
    pub gcp_anonymous: bool,
    /// The policy settings TOML (None: defaults).
    pub settings_path: Option<PathBuf>,
    /// The token server's receipt public key (verifies attestation records).
    pub receipt_key_path: Option<PathBuf>,
    /// Extra trusted approver public keys (added to the settings' `trusted_approver_keys`).
    pub trust_key_files: Vec<PathBuf>,
}

/// The opened store, settings, Google clients and receipt key. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub receipt_key: Option<VerifyingKey>,
    gcp: GcpConfig,
    collector: Arc<OnceCell<EvidenceCollector>>,
}

impl Context {
    /// Reads the settings, trusted keys and receipt key, then opens the store. Google clients are
    /// built by the first operation that calls Google.
    pub async fn open(options: &ContextOptions) -> Result<Context, ConsoleError> {
        let mut settings = load_settings(options.settings_path.as_deref())?;
        trust_keys(&mut settings, &options.trust_key_files)?;
        let receipt_key = load_receipt_public(options.receipt_key_path.as_deref())?;
        let store = open_store(&options.store_url, options.create).await?;
        Ok(Context::from_parts(
            store,
            settings,
            receipt_key,
            google_config(options),
        ))
    }

    /// A context from already opened parts (tests, and callers that hold a store).
    pub fn from_parts(
        store: Arc<dyn Store>,
        settings: Settings,
        receipt_key: Option<VerifyingKey>,
        gcp: GcpConfig,
    ) -> Context {
        Context {
            store,
            settings: Arc::new(settings),
            receipt_key,
            gcp,
            collector: Arc::new(OnceCell::new()),
        }
    }

    /// The Google evidence collector, built on first use.
    pub async fn collector(&self) -> Result<&EvidenceCollector, ConsoleError> {
        self.collector
            .get_or_try_init(|| collector(&self.gcp))
            .await
    }
}
