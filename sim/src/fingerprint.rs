//! Fingerprints and opaque ids as GCE makes them: canonical base64 of random bytes, random decimal ids,
//! random tokens and operation names.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use chrono::{DateTime, Utc};
use rand::Rng;

/// A fresh fingerprint: padded URL-safe base64 of 8 random bytes, as GCE serves them (`TDT_czJlqWo=`,
/// `o-P3cNLV6_Q=` in recorded responses); Google's client libraries decode only this alphabet.
pub(crate) fn new_fingerprint() -> String {
    let bytes: [u8; 8] = rand::rng().random();
    URL_SAFE.encode(bytes)
}

/// A random 19-digit decimal id (operation ids, disk ids).
pub(crate) fn new_numeric_id() -> String {
    let value: u64 =
        rand::rng().random_range(1_000_000_000_000_000_000..10_000_000_000_000_000_000);
    value.to_string()
}

/// A random lowercase alphanumeric string (insertIds, operation name suffixes).
pub(crate) fn new_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A GCE-style operation name: `operation-<ms>-<13 hex>-<8 hex>-<8 hex>`.
pub(crate) fn operation_name(time: DateTime<Utc>) -> String {
    let hex = |n: usize| -> String {
        new_token(n * 2)
            .bytes()
            .map(|b| format!("{:x}", b % 16))
            .take(n)
            .collect()
    };
    format!(
        "operation-{}-{}-{}-{}",
        time.timestamp_millis(),
        hex(13),
        hex(8),
        hex(8)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_url_safe_base64_of_eight_bytes() {
        // 2,000 draws make a '+' or '/' near certain if the standard alphabet were used.
        for _ in 0..2000 {
            let fp = new_fingerprint();
            assert!(!fp.contains(['+', '/']), "{fp} is not URL-safe");
            let decoded = URL_SAFE.decode(&fp).unwrap();
            assert_eq!(decoded.len(), 8);
            assert_eq!(URL_SAFE.encode(decoded), fp);
        }
        assert_ne!(new_fingerprint(), new_fingerprint());
    }
}
