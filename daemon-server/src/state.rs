//! What every request handler shares: the store, the Google clients, metrics, the per-instance rate
//! limiters (sessions, attestation steps), the admission bound, and the reloadable part (policy settings, keys, EK CAs, limits), which SIGHUP swaps
//! atomically for new requests.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokendist_core::settings::Settings;
use tokendist_gcp::{ComputeClient, EvidenceCollector, JwksCache};
use tokendist_store::Store;

use crate::admission::Admission;
use crate::approval_cache::ApprovalCache;
use crate::config::{AdmissionConfig, EnforcementConfig, ServerConfig};
use crate::key_files::KeyMaterial;
use crate::metrics::Metrics;
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::review_cache::ReviewCache;

/// Settings and keys in force; replaced as a whole on reload.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub policy: Settings,
    pub keys: KeyMaterial,
    pub enforce: EnforcementConfig,
    pub session_ttl: Duration,
    pub evidence_timeout: Duration,
    pub default_pcrs: Vec<u32>,
    /// EK CA certificates (DER) from `tpm.ek_ca_roots`; empty: EK certificates are not accepted.
    pub ek_ca: Vec<Vec<u8>>,
    /// Per-instance limit on the attestation steps.
    pub attestation_rate: RateLimit,
    /// Per-instance limit on `BeginSession`.
    pub session_rate: RateLimit,
    /// How old the audit watch's state may be for a release; `None`: the watch is off.
    pub watch_max_age: Option<chrono::Duration>,
    /// How long a call waits for a place under the admission bound.
    pub admission_wait: Duration,
}

impl LiveSettings {
    /// Combines the configuration with the loaded keys into the policy the checks use.
    pub fn from_config(
        config: &ServerConfig,
        keys: KeyMaterial,
        ek_ca: Vec<Vec<u8>>,
    ) -> Result<Self, tokendist_core::settings::SettingsError> {
        let mut policy = config.policy.clone();
        policy.audience = config.audience.clone();
        policy.iat_window_secs = config.token_max_age_secs;
        policy.trusted_approver_keys = keys.trusted_approvers.clone();
        policy.validate()?;
        Ok(Self {
            policy,
            keys,
            enforce: config.enforce.clone(),
            session_ttl: Duration::from_secs(config.session_ttl_secs),
            evidence_timeout: Duration::from_millis(config.evidence_timeout_ms),
            default_pcrs: config.default_pcrs.clone(),
            ek_ca,
            attestation_rate: RateLimit {
                burst: config.tpm.rate_limit_burst,
                per_minute: config.tpm.rate_limit_per_minute,
            },
            session_rate: RateLimit {
                burst: config.sessions.rate_limit_burst,
                per_minute: config.sessions.rate_limit_per_minute,
            },
            watch_max_age: config.watch.enabled.then(|| {
                chrono::Duration::seconds(i64::try_from(config.watch.max_age_secs).unwrap_or(60))
            }),
            admission_wait: Duration::from_millis(config.admission.queue_wait_ms),
        })
    }
}

/// Shared by all handlers; cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub store: Arc<dyn Store>,
    pub jwks: Arc<JwksCache>,
    pub collector: EvidenceCollector,
    /// For live lookups outside evidence collection (the shielded identity at `Attest`).
    pub compute: ComputeClient,
    pub metrics: Metrics,
    pub attestation_limiter: Arc<RateLimiter>,
    /// `BeginSession` buckets, separate from the attestation steps'.
    pub session_limiter: Arc<RateLimiter>,
    /// The last review of each unapproved VM (its retries within a minute reuse it).
    pub unapproved_reviews: Arc<ReviewCache>,
    /// The last verdict on each revoked approval (keyed by instance and revision), reused by its
    /// client's retries for a minute: a revoked VM does not spend Google's quota on every retry.
    pub revoked_verdicts: Arc<ReviewCache>,
    /// Signature results and opened secrets per approval record (see [`ApprovalCache`]).
    pub approvals: Arc<ApprovalCache>,
    /// The bound on RPCs in progress.
    pub admission: Arc<Admission>,
    live: Arc<RwLock<Arc<LiveSettings>>>,
}

impl ServerState {
    pub fn new(
        store: Arc<dyn Store>,
        jwks: Arc<JwksCache>,
        collector: EvidenceCollector,
        compute: ComputeClient,
        metrics: Metrics,
        live: LiveSettings,
    ) -> Self {
        Self {
            store,
            jwks,
            collector,
            compute,
            metrics,
            attestation_limiter: Arc::new(RateLimiter::new()),
            session_limiter: Arc::new(RateLimiter::new()),
            unapproved_reviews: Arc::new(ReviewCache::default()),
            revoked_verdicts: Arc::new(ReviewCache::default()),
            approvals: Arc::new(ApprovalCache::default()),
            admission: Arc::new(Admission::new(AdmissionConfig::default().max_in_progress)),
            live: Arc::new(RwLock::new(Arc::new(live))),
        }
    }

    /// Bounds RPCs in progress at `max_in_progress` (fixed for the process's life).
    pub fn with_admission(mut self, max_in_progress: usize) -> Self {
        self.admission = Arc::new(Admission::new(max_in_progress));
        self
    }

    /// The settings in force for one request (a snapshot: a reload does not change it mid-request).
    pub fn live(&self) -> Arc<LiveSettings> {
        match self.live.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Installs new settings for subsequent requests.
    pub fn replace_live(&self, live: LiveSettings) {
        let fresh = Arc::new(live);
        match self.live.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    /// The decision clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
