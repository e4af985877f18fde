//! The last review of each unapproved VM (and, in a second cache, the last verdict on each revoked
//! approval), kept for [`REVIEW_STANDS_FOR`]: such a client retries every few seconds, and each
//! review is a full evidence collection against Google (whose Compute and Logging quotas are per
//! project), so its retries within that time reuse the review instead. The review is only what the
//! pending record and the denial show; it never allows anything (an approval is decided on live
//! evidence, and the console re-reads it). Bounded: when full, the oldest review goes first. Each
//! replica keeps its own.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokendist_core::verdict::CheckResult;

/// How long one review of an unapproved VM stands.
pub const REVIEW_STANDS_FOR: chrono::Duration = chrono::Duration::seconds(60);

/// At most this many VMs' reviews are kept.
pub const MAX_REVIEWS: usize = 10_000;

/// One VM's review and when it was made.
type Review = (DateTime<Utc>, Vec<CheckResult>);

#[derive(Debug, Default)]
pub struct ReviewCache {
    reviews: Mutex<HashMap<String, Review>>,
}

impl ReviewCache {
    /// The review of `instance_id` made less than [`REVIEW_STANDS_FOR`] before `now`, if any.
    pub fn recent(&self, instance_id: &str, now: DateTime<Utc>) -> Option<Vec<CheckResult>> {
        let reviews = self.reviews.lock().unwrap_or_else(PoisonError::into_inner);
        reviews
            .get(instance_id)
            .filter(|(at, _)| now - *at < REVIEW_STANDS_FOR && *at <= now)
            .map(|(_, checks)| checks.clone())
    }

    /// Keeps `checks` as the review of `instance_id` made at `now`; expired reviews are dropped
    /// first, then (still full) the oldest.
    pub fn keep(&self, instance_id: &str, now: DateTime<Utc>, checks: Vec<CheckResult>) {
        let mut reviews = self.reviews.lock().unwrap_or_else(PoisonError::into_inner);
        if reviews.len() >= MAX_REVIEWS && !reviews.contains_key(instance_id) {
            reviews.retain(|_, (at, _)| now - *at < REVIEW_STANDS_FOR);
            if reviews.len() >= MAX_REVIEWS {
                let oldest = reviews
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(id, _)| id.clone());
                if let Some(oldest) = oldest {
                    reviews.remove(&oldest);
                }
            }
        }
        reviews.insert(instance_id.to_owned(), (now, checks));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn a_review_stands_for_a_minute_then_is_made_again() {
        let cache = ReviewCache::default();
        let review = vec![CheckResult::fail("auditlog.clean", "setMetadata")];
        assert_eq!(cache.recent("1", at(0)), None);
        cache.keep("1", at(0), review.clone());
        assert_eq!(cache.recent("1", at(59)), Some(review));
        assert_eq!(cache.recent("1", at(60)), None);
        assert_eq!(cache.recent("2", at(1)), None);
        // A clock that went back does not make an old review fresh.
        assert_eq!(cache.recent("1", at(-5)), None);
    }

    #[test]
    fn a_full_cache_drops_the_oldest_review() {
        let cache = ReviewCache::default();
        for i in 0..MAX_REVIEWS {
            cache.keep(&i.to_string(), at(i64::from(i != 0)), Vec::new());
        }
        cache.keep("new", at(50), Vec::new());
        let kept = cache.reviews.lock().unwrap().len();
        assert_eq!(kept, MAX_REVIEWS);
        assert!(cache.recent("new", at(50)).is_some());
        // "0" was kept at second 0, the oldest: it went first.
        assert!(cache.recent("0", at(50)).is_none());
        assert!(cache.recent("1", at(50)).is_some());
    }
}
