//! Fuzzes the caching headers of the JWKS response (`gcp::jwks_cache_policy::freshness_lifetime`:
//! `Cache-Control` directives and `max-age`, `Age`, `Expires` and `Date` as HTTP dates, reached
//! through `tokendist_gcp::fuzzing`), then what `JwksCache` does with the lifetime (adds it to the
//! fetch time). Input: the four header values, one a line (a missing line is an absent header).
//! Never panics; a lifetime is never negative.
#![no_main]

use chrono::{TimeZone as _, Utc};
use libfuzzer_sys::fuzz_target;
use tokendist_gcp::fuzzing::{CacheHeaders, freshness_lifetime};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let headers = CacheHeaders {
        cache_control: lines.next(),
        age: lines.next(),
        expires: lines.next(),
        date: lines.next(),
    };
    if let Some(lifetime) = freshness_lifetime(headers) {
        assert!(lifetime >= chrono::Duration::zero(), "{lifetime:?}");
        let now = Utc.timestamp_opt(1_767_225_600, 0).unwrap();
        let _ = now + lifetime;
    }
});
