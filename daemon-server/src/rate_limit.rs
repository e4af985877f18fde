//! Per-instance token buckets for the attestation steps (`Attest`, `ProveAttestation`), which any
//! caller with a valid identity token may use. In memory, per server process (each replica limits on
//! its own); the limits come from the live settings, so SIGHUP changes them for the next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before idle (full) ones are dropped.
const MAX_TRACKED: usize = 10_000;

/// A bucket of `burst` requests refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_minute: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn refilled(self, limit: RateLimit, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        let rate = f64::from(limit.per_minute) / 60.0;
        Bucket {
            tokens: (self.tokens + elapsed * rate).min(f64::from(limit.burst)),
            updated: now,
        }
    }
}

/// Token buckets keyed by instance id.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one request from `key`'s bucket at `now`, or says how long until one is available.
    pub fn take(&self, key: &str, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(key) {
            let burst = f64::from(limit.burst);
            buckets.retain(|_, bucket| bucket.refilled(limit, now).tokens < burst);
        }
        let full = Bucket {
            tokens: f64::from(limit.burst),
            updated: now,
        };
        let bucket = buckets.entry(key.to_string()).or_insert(full);
        *bucket = bucket.refilled(limit, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let rate = f64::from(limit.per_minute.max(1)) / 60.0;
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        burst: 3,
        per_minute: 60,
    };

    #[test]
    fn a_burst_is_allowed_then_refused_until_the_bucket_refills() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take("vm", LIMIT, start).is_ok());
        }
        let wait = limiter.take("vm", LIMIT, start).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            limiter
                .take("vm", LIMIT, start + Duration::from_millis(1_001))
                .is_ok()
        );
        assert!(
            limiter
                .take("vm", LIMIT, start + Duration::from_millis(1_002))
                .is_err()
        );
    }

    #[test]
    fn instances_have_separate_buckets() {
        let limiter = RateLimiter::new();
        let now = Instant::now();
        for _ in 0..3 {
            limiter.take("a", LIMIT, now).unwrap();
        }
        assert!(limiter.take("a", LIMIT, now).is_err());
        assert!(limiter.take("b", LIMIT, now).is_ok());
    }

    #[test]
    fn refill_never_exceeds_the_burst() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        limiter.take("vm", LIMIT, start).unwrap();
        let later = start + Duration::from_secs(3_600);
        for _ in 0..3 {
            assert!(limiter.take("vm", LIMIT, later).is_ok());
        }
        assert!(limiter.take("vm", LIMIT, later).is_err());
    }
}
