//! `JwksCache`: Google's identity-token signing keys (`/oauth2/v3/certs`), cached as the HTTP caching
//! headers allow, refreshed on an unknown `kid` at most once per interval, and kept (with a warning)
//! when a refresh fails. Time is an argument (`now`), so tests move the clock instead of sleeping.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::JwkSet;
use tokendist_core::identity::{self, IdentityClaims, IdentityError, IdentityExpectations};
use tokio::sync::Mutex;

use crate::config::GcpConfig;
use crate::jwks_cache_policy::{CacheHeaders, freshness_lifetime};

/// Tuning of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksCacheOptions {
    /// At most one refresh per this interval (unknown kids and failed refreshes are rate-limited).
    pub min_refresh_interval: Duration,
    /// Lifetime of a set whose response carried no caching headers.
    pub default_lifetime: Duration,
}

impl Default for JwksCacheOptions {
    fn default() -> Self {
        Self {
            min_refresh_interval: Duration::seconds(30),
            default_lifetime: Duration::minutes(5),
        }
    }
}

/// Why no key set is available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// The cache never obtained a set: identity tokens cannot be verified at all.
    #[error(
        "no JWK set available from {url}: {reason}; check that the JWKS URL is reachable and serves Google's key set"
    )]
    NeverFetched { url: String, reason: String },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client for {url}: {reason}")]
    Client { url: String, reason: String },
}

/// Why an identity token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenVerifyError {
    /// The token itself failed verification (the `identity.*` check it fails: `check_name()`).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// No key set to verify against: a dependency is down (gRPC `UNAVAILABLE`), not a forged token.
    #[error(transparent)]
    KeysUnavailable(#[from] JwksError),
}

#[derive(Debug, Default)]
struct CacheState {
    keys: Option<Arc<JwkSet>>,
    fresh_until: Option<DateTime<Utc>>,
    last_attempt: Option<DateTime<Utc>>,
    fetch_attempts: u64,
}

/// A shared cache of one JWK set URL. Clone the `Arc` around it, not the cache.
#[derive(Debug)]
pub struct JwksCache {
    http: reqwest::Client,
    url: String,
    options: JwksCacheOptions,
    state: Mutex<CacheState>,
}

impl JwksCache {
    /// A cache of `config.jwks_url` with the default options (30 s between refreshes).
    pub fn new(config: &GcpConfig) -> Result<Self, JwksError> {
        Self::with_options(config, JwksCacheOptions::default())
    }

    /// A cache with explicit options.
    pub fn with_options(config: &GcpConfig, options: JwksCacheOptions) -> Result<Self, JwksError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout())
            .build()
            .map_err(|e| JwksError::Client {
                url: config.jwks_url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            url: config.jwks_url.clone(),
            options,
            state: Mutex::new(CacheState::default()),
        })
    }

    /// The JWKS URL this cache serves.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many times the cache has requested the JWKS URL (successful or not), for metrics and tests.
    pub async fn fetch_attempts(&self) -> u64 {
        self.state.lock().await.fetch_attempts
    }

    /// The current key set: the cached one while fresh, otherwise refetched. A failed refetch keeps
    /// serving the last good set.
    pub async fn key_set(&self, now: DateTime<Utc>) -> Result<Arc<JwkSet>, JwksError> {
        let mut state = self.state.lock().await;
        if let (Some(keys), Some(until)) = (&state.keys, state.fresh_until)
            && now < until
        {
            return Ok(keys.clone());
        }
        self.refresh_locked(&mut state, now, "cached set expired")
            .await
    }

    /// The key set that should contain `kid`: when the current set lacks it, refreshes once (unless a
    /// refresh happened within `min_refresh_interval`). The returned set may still lack `kid`.
    pub async fn key_set_for_kid(
        &self,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<JwkSet>, JwksError> {
        let keys = self.key_set(now).await?;
        if keys.find(kid).is_some() {
            return Ok(keys);
        }
        let mut state = self.state.lock().await;
        if let Some(current) = &state.keys
            && current.find(kid).is_some()
        {
            return Ok(current.clone());
        }
        let recently = state
            .last_attempt
            .is_some_and(|t| now - t < self.options.min_refresh_interval);
        if recently {
            tracing::debug!(
                kid,
                "unknown key id, but the key set was refreshed recently; not refreshing"
            );
            return state
                .keys
                .clone()
                .ok_or_else(|| self.never_fetched("no set yet"));
        }
        self.refresh_locked(&mut state, now, "unknown key id").await
    }

    /// Verifies an identity token: looks up its `kid` (refreshing on an unknown kid, rate-limited),
    /// then `tokendist_core::identity::verify` at `now`.
    pub async fn verify_identity_token(
        &self,
        token: &str,
        expectations: &IdentityExpectations,
        now: DateTime<Utc>,
    ) -> Result<IdentityClaims, TokenVerifyError> {
        let kid = identity::peek_unverified_kid(token)?;
        let keys = match kid.as_deref() {
            Some(kid) => self.key_set_for_kid(kid, now).await?,
            None => self.key_set(now).await?,
        };
        Ok(identity::verify(token, &keys, expectations, now)?)
    }

    async fn refresh_locked(
        &self,
        state: &mut CacheState,
        now: DateTime<Utc>,
        why: &str,
    ) -> Result<Arc<JwkSet>, JwksError> {
        if let Some(keys) = &state.keys
            && state
                .last_attempt
                .is_some_and(|t| now - t < self.options.min_refresh_interval)
        {
            // At most one fetch per interval, whatever the reason: serve the last good set.
            return Ok(keys.clone());
        }
        state.last_attempt = Some(now);
        state.fetch_attempts += 1;
        match self.fetch().await {
            Ok((keys, lifetime)) => {
                let keys = Arc::new(keys);
                let lifetime = lifetime.unwrap_or(self.options.default_lifetime);
                tracing::info!(url = %self.url, keys = keys.keys.len(), lifetime_secs = lifetime.num_seconds(), why, "fetched JWK set");
                state.keys = Some(keys.clone());
                state.fresh_until = Some(now + lifetime);
                Ok(keys)
            }
            Err(reason) => match &state.keys {
                Some(keys) => {
                    tracing::warn!(url = %self.url, %reason, why, "JWK set refresh failed; serving the last good set");
                    Ok(keys.clone())
                }
                None => Err(self.never_fetched(&reason)),
            },
        }
    }

    async fn fetch(&self) -> Result<(JwkSet, Option<Duration>), String> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (cache_control, age, expires, date) = (
            header("cache-control"),
            header("age"),
            header("expires"),
            header("date"),
        );
        let lifetime = freshness_lifetime(CacheHeaders {
            cache_control: cache_control.as_deref(),
            age: age.as_deref(),
            expires: expires.as_deref(),
            date: date.as_deref(),
        });
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("reading the body failed: {e}"))?;
        let keys: JwkSet =
            serde_json::from_slice(&body).map_err(|e| format!("the body is not a JWK set: {e}"))?;
        if keys.keys.is_empty() {
            return Err("the JWK set has no keys".to_owned());
        }
        Ok((keys, lifetime))
    }

    fn never_fetched(&self, reason: &str) -> JwksError {
        JwksError::NeverFetched {
            url: self.url.clone(),
            reason: reason.to_owned(),
        }
    }
}
