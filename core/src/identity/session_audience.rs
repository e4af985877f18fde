//! The audience of a session's identity tokens (DESIGN §4, single-use tokens): after `BeginSession`
//! the client asks the metadata server for `<server audience>/session/<nonce as lower-case hex>`, and
//! the server accepts only that exact string for the session's later steps (`Attest`,
//! `ProveAttestation`, `GetToken`). A token for the plain audience opens sessions and does nothing
//! else, so a copy of any token is worth at most the one session step it was minted for.
//!
//! The format is a URL path under the server's audience (trailing `/` of the audience dropped), so it
//! stays a plain ASCII string the GCE metadata server accepts as `audience=` (URL-encoded by the
//! client like any audience).

/// The path segment between the server's audience and the session nonce.
pub const SESSION_AUDIENCE_SEGMENT: &str = "/session/";

/// `<audience>/session/<hex nonce>`.
pub fn session_audience(audience: &str, nonce: &[u8]) -> String {
    format!(
        "{}{SESSION_AUDIENCE_SEGMENT}{}",
        audience.trim_end_matches('/'),
        hex::encode(nonce)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_appended_as_lower_case_hex_under_session() {
        assert_eq!(
            session_audience("https://tokens.example.com", &[0xab, 0x01]),
            "https://tokens.example.com/session/ab01"
        );
        assert_eq!(
            session_audience("https://tokens.example.com/", &[0xff]),
            "https://tokens.example.com/session/ff"
        );
    }

    #[test]
    fn different_nonces_give_different_audiences() {
        assert_ne!(
            session_audience("https://a", &[1; 32]),
            session_audience("https://a", &[2; 32])
        );
    }
}
