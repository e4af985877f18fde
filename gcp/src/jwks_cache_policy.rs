//! How long a fetched JWK set may be served: HTTP caching headers (`Cache-Control: max-age` minus
//! `Age`, `no-cache`/`no-store`, else `Expires` relative to `Date`), at most [`MAX_LIFETIME`]. Pure
//! functions over header text.

use chrono::{DateTime, Duration, Utc};

/// The longest a fetched set is served without refetching, whatever its headers say (Google's say
/// about six hours): a larger `max-age` or `Expires` is cut to this, so adding it to a time never
/// overflows and a set that a misconfigured response declares fresh for years is still refetched.
pub const MAX_LIFETIME: Duration = Duration::days(1);

/// The caching headers of one response, as text.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheHeaders<'a> {
    pub cache_control: Option<&'a str>,
    pub age: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub date: Option<&'a str>,
}

/// How long the response stays fresh. `None`: the headers say nothing usable (the caller applies its
/// default). `Some(0)`: must not be reused without refetching.
pub fn freshness_lifetime(headers: CacheHeaders<'_>) -> Option<Duration> {
    if let Some(cache_control) = headers.cache_control {
        let directives: Vec<String> = cache_control
            .split(',')
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        if directives
            .iter()
            .any(|d| d == "no-store" || d == "no-cache")
        {
            return Some(Duration::zero());
        }
        if let Some(max_age) = directives
            .iter()
            .filter_map(|d| d.strip_prefix("max-age="))
            .find_map(|v| v.trim_matches('"').parse::<i64>().ok())
        {
            let age = headers
                .age
                .and_then(|a| a.trim().parse::<i64>().ok())
                .unwrap_or(0)
                .max(0);
            let seconds = max_age
                .saturating_sub(age)
                .clamp(0, MAX_LIFETIME.num_seconds());
            return Some(Duration::try_seconds(seconds).unwrap_or(MAX_LIFETIME));
        }
    }
    let expires = parse_http_date(headers.expires?);
    let Some(expires) = expires else {
        // An invalid Expires (e.g. "0") means "already expired" (RFC 9111 §5.3).
        return Some(Duration::zero());
    };
    let date = headers.date.and_then(parse_http_date)?;
    Some((expires - date).clamp(Duration::zero(), MAX_LIFETIME))
}

fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 2023 capture of Google's JWKS response headers (fixture google-oauth2-v3-certs-response-headers.txt).
    #[test]
    fn google_capture_2023_is_fresh_for_max_age_minus_age() {
        let lifetime = freshness_lifetime(CacheHeaders {
            cache_control: Some("public, max-age=21155, must-revalidate, no-transform"),
            age: Some("12"),
            expires: Some("Thu, 09 Nov 2023 09:30:42 GMT"),
            date: Some("Thu, 09 Nov 2023 03:38:07 GMT"),
        });
        assert_eq!(lifetime, Some(Duration::seconds(21155 - 12)));
    }

    #[test]
    fn expires_minus_date_applies_without_max_age() {
        let lifetime = freshness_lifetime(CacheHeaders {
            cache_control: Some("public"),
            age: None,
            expires: Some("Thu, 23 Jun 2016 23:48:39 GMT"),
            date: Some("Thu, 23 Jun 2016 16:54:06 GMT"),
        });
        assert_eq!(lifetime, Some(Duration::seconds(6 * 3600 + 54 * 60 + 33)));
    }

    #[test]
    fn no_cache_and_no_store_mean_zero_lifetime() {
        for cc in ["no-cache", "private, no-store"] {
            let headers = CacheHeaders {
                cache_control: Some(cc),
                ..Default::default()
            };
            assert_eq!(freshness_lifetime(headers), Some(Duration::zero()), "{cc}");
        }
    }

    #[test]
    fn age_above_max_age_means_stale() {
        let headers = CacheHeaders {
            cache_control: Some("max-age=10"),
            age: Some("99"),
            ..Default::default()
        };
        assert_eq!(freshness_lifetime(headers), Some(Duration::zero()));
    }

    #[test]
    fn invalid_expires_means_already_expired_and_no_headers_means_unknown() {
        let invalid = CacheHeaders {
            expires: Some("0"),
            ..Default::default()
        };
        assert_eq!(freshness_lifetime(invalid), Some(Duration::zero()));
        assert_eq!(freshness_lifetime(CacheHeaders::default()), None);
    }

    /// fuzz/artifacts/jwks_cache_headers: `max-age=9999999999999,` (about 317,000 years) made
    /// `JwksCache` panic adding the lifetime to the fetch time (`DateTime + TimeDelta` overflowed);
    /// larger ones panicked in `Duration::seconds`, `i64::MIN` in `max_age - age`.
    #[test]
    fn fuzz_regression_a_huge_max_age_is_capped_not_a_panic() {
        let now = DateTime::<Utc>::MAX_UTC - Duration::days(365 * 1000);
        for (cache_control, age) in [
            ("max-age=9999999999999,", None),
            ("max-age=9223372036854775807", None),
            ("max-age=-9223372036854775808", Some("1")),
            ("max-age=9223372036854775807", Some("-9223372036854775808")),
        ] {
            let lifetime = freshness_lifetime(CacheHeaders {
                cache_control: Some(cache_control),
                age,
                ..Default::default()
            })
            .unwrap();
            assert!(
                lifetime >= Duration::zero() && lifetime <= MAX_LIFETIME,
                "{cache_control}: {lifetime:?}"
            );
            assert!(now.checked_add_signed(lifetime).is_some());
        }
        let far_expires = freshness_lifetime(CacheHeaders {
            expires: Some("Fri, 31 Dec 9999 23:59:59 GMT"),
            date: Some("Thu, 01 Jan 1970 00:00:00 GMT"),
            ..Default::default()
        });
        assert_eq!(far_expires, Some(MAX_LIFETIME));
    }
}
