//! `GcpConfig`: where the Google APIs live (real hosts by default, `gcpsim` in tests and demos), which
//! credentials the clients use, how they retry and how long a request may take.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Google's Compute Engine API host.
pub const DEFAULT_COMPUTE_ENDPOINT: &str = "https://compute.googleapis.com";
/// Google's Cloud Logging API host.
pub const DEFAULT_LOGGING_ENDPOINT: &str = "https://logging.googleapis.com";
/// The JWK set that signs GCE instance identity tokens.
pub const DEFAULT_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The largest accepted [`GcpConfig::jwks_stale_grace_secs`]: seven days.
pub const MAX_JWKS_STALE_GRACE_SECS: u64 = 7 * 24 * 3600;
/// Default [`GcpConfig::jwks_stale_grace_secs`]: one hour past the set's max-age.
pub const DEFAULT_JWKS_STALE_GRACE_SECS: u64 = 3600;
/// The metadata server as seen from inside a GCE VM.
pub const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
/// The environment variable Google's client libraries honour to relocate the metadata server.
pub const METADATA_HOST_ENV: &str = "GCE_METADATA_HOST";

/// Which credentials the Compute and Logging clients present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialsMode {
    /// Application Default Credentials (production).
    #[default]
    Adc,
    /// No credentials at all (`gcpsim`).
    Anonymous,
}

/// How the Compute and Logging clients retry transient failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// Google's default policy (retries a 503 for about 35 s before giving up).
    #[default]
    Default,
    /// Never retry: a failure surfaces at once.
    None,
    /// Retry transient failures, at most this many attempts in total.
    Attempts(u32),
}

/// Configuration of every Google API client in this crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GcpConfig {
    /// Compute Engine API root, e.g. `https://compute.googleapis.com` or `http://127.0.0.1:PORT`.
    pub compute_endpoint: String,
    /// Cloud Logging API root.
    pub logging_endpoint: String,
    /// Full URL of the identity-token JWK set. Must be `https://` unless `jwks_allow_http`.
    pub jwks_url: String,
    /// Accept an `http://` JWKS URL (gcpsim only): anyone on the path could then swap the keys that
    /// decide who a caller is. Off by default; `https://` needs nothing.
    pub jwks_allow_http: bool,
    /// How long past its HTTP max-age the last good JWK set keeps verifying tokens while refreshes
    /// fail, in seconds; after that, identity tokens cannot be verified (UNAVAILABLE) until a refresh
    /// succeeds. Bounded so that a key Google withdrew is not trusted forever. Default one hour.
    pub jwks_stale_grace_secs: u64,
    /// Metadata server `host[:port]` (no scheme), used by the client daemon on the VM.
    pub metadata_host: String,
    pub credentials: CredentialsMode,
    pub retry: RetryMode,
    /// Per-request timeout, in milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for GcpConfig {
    fn default() -> Self {
        Self {
            compute_endpoint: DEFAULT_COMPUTE_ENDPOINT.to_owned(),
            logging_endpoint: DEFAULT_LOGGING_ENDPOINT.to_owned(),
            jwks_url: DEFAULT_JWKS_URL.to_owned(),
            jwks_allow_http: false,
            jwks_stale_grace_secs: DEFAULT_JWKS_STALE_GRACE_SECS,
            metadata_host: DEFAULT_METADATA_HOST.to_owned(),
            credentials: CredentialsMode::Adc,
            retry: RetryMode::Default,
            request_timeout_ms: 10_000,
        }
    }
}

impl GcpConfig {
    /// A configuration pointing every API at one local simulator (`http://ADDR`), anonymous, with
    /// no retries, so that a failure costs milliseconds.
    pub fn for_simulator(
        api_addr: std::net::SocketAddr,
        metadata_addr: Option<std::net::SocketAddr>,
    ) -> Self {
        let root = format!("http://{api_addr}");
        Self {
            compute_endpoint: root.clone(),
            logging_endpoint: root.clone(),
            jwks_url: format!("{root}/oauth2/v3/certs"),
            jwks_allow_http: true,
            jwks_stale_grace_secs: DEFAULT_JWKS_STALE_GRACE_SECS,
            metadata_host: metadata_addr
                .map_or_else(|| DEFAULT_METADATA_HOST.to_owned(), |a| a.to_string()),
            credentials: CredentialsMode::Anonymous,
            retry: RetryMode::None,
            request_timeout_ms: 5_000,
        }
    }

    /// Applies `GCE_METADATA_HOST` from the given environment (pass `std::env::vars().collect()`
    /// from a binary's `main`; tests pass their own map).
    pub fn with_env(mut self, env: &BTreeMap<String, String>) -> Self {
        if let Some(host) = env
            .get(METADATA_HOST_ENV)
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            self.metadata_host = host.to_owned();
        }
        self
    }

    /// The JWKS URL, if its scheme is acceptable: `https://`, or `http://` with `jwks_allow_http`.
    pub fn checked_jwks_url(&self) -> Result<&str, String> {
        let url = self.jwks_url.trim();
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Ok(url);
        }
        if lower.starts_with("http://") {
            if self.jwks_allow_http {
                return Ok(url);
            }
            return Err(format!(
                "gcp.jwks_url {url:?} is plain http: the keys that decide who a caller is would travel \
                 unauthenticated; use https, or set gcp.jwks_allow_http = true (--jwks-allow-http) for a \
                 local simulator"
            ));
        }
        Err(format!("gcp.jwks_url {url:?} is not an https:// URL"))
    }

    /// The JWKS grace, refused above [`MAX_JWKS_STALE_GRACE_SECS`] (a key Google withdrew must not be
    /// trusted for weeks, and a huge value would overflow the cache's clock arithmetic).
    pub fn checked_jwks_stale_grace(&self) -> Result<chrono::Duration, String> {
        let secs = self.jwks_stale_grace_secs;
        if secs > MAX_JWKS_STALE_GRACE_SECS {
            return Err(format!(
                "gcp.jwks_stale_grace_secs = {secs} is above the limit of {MAX_JWKS_STALE_GRACE_SECS} s (7 days)"
            ));
        }
        Ok(chrono::Duration::seconds(
            i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000),
        ))
    }

    /// The per-request timeout as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwks_grace_above_seven_days_is_refused() {
        let mut config = GcpConfig::default();
        assert!(config.checked_jwks_stale_grace().is_ok());
        config.jwks_stale_grace_secs = MAX_JWKS_STALE_GRACE_SECS + 1;
        assert!(config.checked_jwks_stale_grace().is_err());
        config.jwks_stale_grace_secs = u64::MAX;
        assert!(config.checked_jwks_stale_grace().is_err());
    }

    #[test]
    fn defaults_point_at_googles_real_hosts() {
        let config = GcpConfig::default();
        assert_eq!(config.compute_endpoint, "https://compute.googleapis.com");
        assert_eq!(config.logging_endpoint, "https://logging.googleapis.com");
        assert_eq!(
            config.jwks_url,
            "https://www.googleapis.com/oauth2/v3/certs"
        );
        assert_eq!(config.metadata_host, "metadata.google.internal");
        assert_eq!(config.credentials, CredentialsMode::Adc);
        assert_eq!(config.retry, RetryMode::Default);
    }

    #[test]
    fn gce_metadata_host_env_overrides_the_metadata_host() {
        let env = BTreeMap::from([(METADATA_HOST_ENV.to_owned(), "127.0.0.1:8089".to_owned())]);
        let config = GcpConfig::default().with_env(&env);
        assert_eq!(config.metadata_host, "127.0.0.1:8089");
    }

    #[test]
    fn empty_gce_metadata_host_env_keeps_the_default() {
        let env = BTreeMap::from([(METADATA_HOST_ENV.to_owned(), "  ".to_owned())]);
        assert_eq!(
            GcpConfig::default().with_env(&env).metadata_host,
            DEFAULT_METADATA_HOST
        );
    }

    #[test]
    fn config_deserialises_partial_json_with_defaults_and_attempt_limit() {
        let config: GcpConfig = serde_json::from_str(
            r#"{"compute_endpoint":"http://127.0.0.1:1","credentials":"anonymous","retry":{"attempts":2}}"#,
        )
        .unwrap();
        assert_eq!(config.compute_endpoint, "http://127.0.0.1:1");
        assert_eq!(config.logging_endpoint, DEFAULT_LOGGING_ENDPOINT);
        assert_eq!(config.credentials, CredentialsMode::Anonymous);
        assert_eq!(config.retry, RetryMode::Attempts(2));
    }

    #[test]
    fn an_http_jwks_url_needs_the_explicit_flag() {
        let mut config = GcpConfig {
            jwks_url: "http://127.0.0.1:1/oauth2/v3/certs".into(),
            ..GcpConfig::default()
        };
        let refusal = config.checked_jwks_url().unwrap_err();
        assert!(refusal.contains("jwks_allow_http"), "{refusal}");
        config.jwks_allow_http = true;
        assert!(config.checked_jwks_url().is_ok());
        config.jwks_url = "ftp://example.com/certs".into();
        assert!(config.checked_jwks_url().is_err());
        assert!(GcpConfig::default().checked_jwks_url().is_ok());
        let simulator = GcpConfig::for_simulator("127.0.0.1:1".parse().unwrap(), None);
        assert!(simulator.checked_jwks_url().is_ok());
    }

    #[test]
    fn config_rejects_unknown_fields() {
        let err = serde_json::from_str::<GcpConfig>(r#"{"compute_endpont":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
