//! tokendist-gcp: the Google API clients of tokendist.
//!
//! - [`config`]: endpoints, credentials, retries ([`GcpConfig`]).
//! - [`metadata`]: the GCE metadata server, as seen from the VM ([`MetadataClient`]).
//! - [`jwks`]: Google's identity-token signing keys, cached ([`JwksCache`]).
//! - [`compute`]: Compute Engine instances, disks, images, shielded identity ([`ComputeClient`]).
//! - [`logging`]: Cloud Audit Logs for an instance ([`LoggingClient`]).
//! - [`call_observer`]: a hook on every Compute/Logging call (API, latency, failure) for metrics.
//! - [`request_auth`]: credentials for REST calls made without a client library (the watch's Pub/Sub).
//! - [`evidence`]: all of the above for one VM, fetched concurrently ([`EvidenceCollector`]).
//!
//! Only `config` and `metadata` are built without the `apis` feature (on by default): that is
//! tokenclient's build, which must not link the Google API client machinery nor the server's crypto.
//!
//! Every Compute/Logging result is a `tokendist_core::evidence::Fetched`: failures are carried into the
//! checks (which fail closed), classified by [`tokendist_core::evidence::FetchErrorKind`].

#[cfg(feature = "apis")]
pub mod auditlog_decode;
#[cfg(feature = "apis")]
pub mod call_observer;
#[cfg(feature = "apis")]
mod client_options;
#[cfg(feature = "apis")]
pub mod compute;
#[cfg(feature = "apis")]
pub mod compute_mapping;
pub mod config;
#[cfg(feature = "apis")]
pub mod evidence;
#[cfg(feature = "apis")]
mod fetch_error;
#[cfg(feature = "apis")]
pub mod jwks;
#[cfg(feature = "apis")]
mod jwks_cache_policy;
#[cfg(feature = "apis")]
pub mod logging;
pub mod metadata;
mod metadata_http;
#[cfg(feature = "apis")]
pub mod request_auth;
#[cfg(test)]
#[cfg(feature = "apis")]
mod test_fixtures;

/// For the fuzz targets (`fuzz/`): the JWKS response's caching-header parser, which is private.
/// Not an API.
#[cfg(all(feature = "apis", feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::jwks_cache_policy::{CacheHeaders, freshness_lifetime};
}

#[cfg(feature = "apis")]
pub use call_observer::CallObserver;
#[cfg(feature = "apis")]
pub use compute::{ClientBuildError, ComputeClient};
pub use config::{CredentialsMode, GcpConfig, RetryMode};
#[cfg(feature = "apis")]
pub use evidence::{EvidenceCollector, KnownVm, ShieldedIdentityRead, VmEvidence};
#[cfg(feature = "apis")]
pub use jwks::{JwksCache, JwksCacheOptions, JwksError, TokenVerifyError};
#[cfg(feature = "apis")]
pub use logging::LoggingClient;
pub use metadata::{IdentityToken, MetadataClient, MetadataError};
#[cfg(feature = "apis")]
pub use request_auth::{RequestAuth, RequestAuthError};
