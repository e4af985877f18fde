//! Applies a [`GcpConfig`] to the builder of any Google Cloud client library (Compute, Logging):
//! endpoint, credentials, retry policy (with a short backoff when attempts are limited) and per-attempt timeout, in one
//! place.

use google_cloud_auth::credentials::Credentials;
use std::time::Duration;

use google_cloud_gax::client_builder::ClientBuilder;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, NeverRetry, RetryPolicyExt};

use crate::config::{CredentialsMode, GcpConfig, RetryMode};

/// Configures `builder` for `endpoint` as `config` says.
pub(crate) fn configure<F>(
    builder: ClientBuilder<F, Credentials>,
    endpoint: &str,
    config: &GcpConfig,
) -> ClientBuilder<F, Credentials> {
    let mut builder = builder
        .with_endpoint(endpoint.trim_end_matches('/'))
        .with_attempt_timeout(config.request_timeout());
    if config.credentials == CredentialsMode::Anonymous {
        builder = builder
            .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build());
    }
    match config.retry {
        RetryMode::Default => builder,
        RetryMode::None => builder.with_retry_policy(NeverRetry),
        RetryMode::Attempts(0 | 1) => builder.with_retry_policy(NeverRetry),
        RetryMode::Attempts(n) => builder
            .with_retry_policy(Aip194Strict.with_attempt_limit(n))
            .with_backoff_policy(
                ExponentialBackoffBuilder::new()
                    .with_initial_delay(Duration::from_millis(50))
                    .with_maximum_delay(Duration::from_secs(2))
                    .clamp(),
            ),
    }
}
