//! How long a fetched JWK set may be served: HTTP caching headers (`Cache-Control: max-age` minus
//! `Age`, `no-cache`/`no-store`, else `Expires` relative to `Date`). Pure functions over header text.

use chrono::{DateTime, Duration, Utc};

/// The caching headers of one response, as text.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CacheHeaders<'a> {
    pub cache_control: Option<&'a str>,
    pub age: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub date: Option<&'a str>,
}

/// How long the response stays fresh. `None`: the headers say nothing usable (the caller applies its
/// default). `Some(0)`: must not be reused without refetching.
pub(crate) fn freshness_lifetime(headers: CacheHeaders<'_>) -> Option<Duration> {
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
            return Some(Duration::seconds((max_age - age).max(0)));
        }
    }
    let expires = parse_http_date(headers.expires?);
    let Some(expires) = expires else {
        // An invalid Expires (e.g. "0") means "already expired" (RFC 9111 §5.3).
        return Some(Duration::zero());
    };
    let date = headers.date.and_then(parse_http_date)?;
    Some((expires - date).max(Duration::zero()))
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
}
