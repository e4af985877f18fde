//! Fingerprints and opaque ids as GCE makes them: canonical base64 of random bytes, random decimal ids.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use rand::Rng;

/// A fresh fingerprint: padded URL-safe base64 of 8 random bytes, as GCE serves them (`TDT_czJlqWo=`,
/// `o-P3cNLV6_Q=` in recorded responses); Google's client libraries decode only this alphabet.
pub fn new_fingerprint() -> String {
    let bytes: [u8; 8] = rand::rng().random();
    URL_SAFE.encode(bytes)
}

/// A random 19-digit decimal id (operation ids, disk ids).
pub fn new_numeric_id() -> String {
    let value: u64 =
        rand::rng().random_range(1_000_000_000_000_000_000..10_000_000_000_000_000_000);
    value.to_string()
}

/// A random lowercase alphanumeric string (insertIds, operation name suffixes).
pub fn new_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
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
