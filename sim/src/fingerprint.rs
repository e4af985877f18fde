//! Fingerprints and opaque ids as GCE makes them: canonical base64 of random bytes, random decimal ids.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;

/// A fresh fingerprint: canonical (padded, standard alphabet) base64 of 8 random bytes, e.g. `hEX9pbBc7uo=`.
pub fn new_fingerprint() -> String {
    let bytes: [u8; 8] = rand::rng().random();
    STANDARD.encode(bytes)
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
    fn fingerprint_is_canonical_base64_of_eight_bytes() {
        let fp = new_fingerprint();
        let decoded = STANDARD.decode(&fp).unwrap();
        assert_eq!(decoded.len(), 8);
        assert_eq!(STANDARD.encode(decoded), fp);
        assert_ne!(new_fingerprint(), fp);
    }
}
