//! `JwksCache`: Google's identity-token signing keys (`/oauth2/v3/certs`), cached as the HTTP caching
//! headers allow, refreshed on an unknown `kid` at most once per interval, and kept (with a warning)
//! when a refresh fails — for a bounded grace past the set's max-age (`gcp.jwks_stale_grace_secs`),
//! after which tokens cannot be verified ([`JwksError::Stale`], UNAVAILABLE) until a refresh succeeds.
//! A fetched set that lists a key id twice is refused as a whole (the last good set stays), and the
//! URL must be `https://` unless `gcp.jwks_allow_http`. Time is an argument (`now`), so tests move
//! the clock instead of sleeping.

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
    /// The JWKS settings are not acceptable (plain http without the explicit flag, not a URL, or a
    /// grace above the limit).
    #[error("{0}")]
    Url(String),
    /// The last good set is past its max-age plus the grace, and refreshing it fails.
    #[error(
        "the JWK set from {url} expired at {fresh_until} and its {grace_secs} s grace is over; refreshing it fails ({reason}); identity tokens cannot be verified until the key set is reachable again"
    )]
    Stale {
        url: String,
        fresh_until: DateTime<Utc>,
        grace_secs: i64,
        reason: String,
    },
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
    /// Why the last attempt failed (`None` when it succeeded or none was made).
    last_failure: Option<String>,
    fetch_attempts: u64,
}

/// A shared cache of one JWK set URL. Clone the `Arc` around it, not the cache.
#[derive(Debug)]
pub struct JwksCache {
    http: reqwest::Client,
    url: String,
    options: JwksCacheOptions,
    /// How long past `fresh_until` the last good set may still serve while refreshes fail.
    stale_grace: Duration,
    state: Mutex<CacheState>,
}

impl JwksCache {
    /// A cache of `config.jwks_url` with the default options (30 s between refreshes).
    pub fn new(config: &GcpConfig) -> Result<Self, JwksError> {
        Self::with_options(config, JwksCacheOptions::default())
    }

    /// A cache with explicit options.
    pub fn with_options(config: &GcpConfig, options: JwksCacheOptions) -> Result<Self, JwksError> {
        config.checked_jwks_url().map_err(JwksError::Url)?;
        let stale_grace = config.checked_jwks_stale_grace().map_err(JwksError::Url)?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout())
            .build()
            .map_err(|e| JwksError::Client {
                url: config.jwks_url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            url: config.jwks_url.trim().to_owned(),
            options,
            stale_grace,
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
    /// serving the last good set until its max-age plus the grace has passed.
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
        if recently && let Some(keys) = self.last_good(&state, now) {
            tracing::debug!(
                kid,
                "unknown key id, but the key set was refreshed recently; not refreshing"
            );
            return Ok(keys);
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
        let recently = state
            .last_attempt
            .is_some_and(|t| now - t < self.options.min_refresh_interval);
        if recently {
            // At most one fetch per interval, whatever the reason: serve the last good set while it
            // is within its grace; after a recent failure, fail without hammering the endpoint.
            if let Some(keys) = self.last_good(state, now) {
                return Ok(keys);
            }
            if let (Some(_), Some(reason)) = (&state.keys, &state.last_failure) {
                return Err(self.unavailable(state, reason));
            }
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
                state.last_failure = None;
                Ok(keys)
            }
            Err(reason) => {
                state.last_failure = Some(reason.clone());
                match self.last_good(state, now) {
                    Some(keys) => {
                        tracing::warn!(url = %self.url, %reason, why, "JWK set refresh failed; serving the last good set within its grace");
                        Ok(keys)
                    }
                    None => {
                        let error = self.unavailable(state, &reason);
                        tracing::error!(url = %self.url, %error, why, "JWK set refresh failed and no usable set is left");
                        Err(error)
                    }
                }
            }
        }
    }

    /// The last good set while `now` is before its max-age plus the grace.
    fn last_good(&self, state: &CacheState, now: DateTime<Utc>) -> Option<Arc<JwkSet>> {
        let until = state.fresh_until?.checked_add_signed(self.stale_grace)?;
        (now < until).then(|| state.keys.clone()).flatten()
    }

    /// Why no set can be served: never fetched, or the last good one is past its grace.
    fn unavailable(&self, state: &CacheState, reason: &str) -> JwksError {
        match (&state.keys, state.fresh_until) {
            (Some(_), Some(fresh_until)) => JwksError::Stale {
                url: self.url.clone(),
                fresh_until,
                grace_secs: self.stale_grace.num_seconds(),
                reason: reason.to_owned(),
            },
            _ => self.never_fetched(reason),
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
        if let Some(kid) = identity::verify::duplicate_kid(&keys) {
            // Which of two keys under one kid verifies would be the publisher's (or an attacker's)
            // choice: the whole set is refused and the last good one stays in force.
            return Err(format!(
                "the JWK set lists key id {kid:?} more than once; the whole set is refused"
            ));
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
