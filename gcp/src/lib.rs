//! tokendist-gcp: the Google API clients of tokendist.
//!
//! - [`config`]: endpoints, credentials, retries ([`GcpConfig`]).
//! - [`metadata`]: the GCE metadata server, as seen from the VM ([`MetadataClient`]).
//! - [`jwks`]: Google's identity-token signing keys, cached ([`JwksCache`]).
//! - [`compute`]: Compute Engine instances, disks, images, shielded identity ([`ComputeClient`]).
//! - [`logging`]: Cloud Audit Logs for an instance ([`LoggingClient`]).
//! - [`call_observer`]: a hook on every Compute/Logging call (API, latency, failure) for metrics.
//! - [`evidence`]: all of the above for one VM, fetched concurrently ([`EvidenceCollector`]).
//!
//! Every Compute/Logging result is a `tokendist_core::evidence::Fetched`: failures are carried into the
//! checks (which fail closed), classified by [`tokendist_core::evidence::FetchErrorKind`].

pub mod auditlog_decode;
pub mod call_observer;
mod client_options;
pub mod compute;
pub mod compute_mapping;
pub mod config;
pub mod evidence;
mod fetch_error;
pub mod jwks;
mod jwks_cache_policy;
pub mod logging;
pub mod metadata;
#[cfg(test)]
mod test_fixtures;

pub use call_observer::CallObserver;
pub use compute::{ClientBuildError, ComputeClient};
pub use config::{CredentialsMode, GcpConfig, RetryMode};
pub use evidence::{EvidenceCollector, VmEvidence};
pub use jwks::{JwksCache, JwksCacheOptions, JwksError, TokenVerifyError};
pub use logging::LoggingClient;
pub use metadata::{IdentityToken, MetadataClient, MetadataError};
