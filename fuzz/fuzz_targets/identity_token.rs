//! Fuzzes identity-token verification (`core::identity`): the header, kid lookup and signature
//! path of `verify` and `peek_unverified_kid` on the input as a compact JWS, and the payload
//! (claims) checks on its second part. Input starting with `{` is a payload's JSON, so the claims
//! checks are reached without base64. Never panics; claims that pass survive a serde round trip,
//! and a token that verifies has exactly the claims its payload checks give.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone as _, Utc};
use jsonwebtoken::jwk::JwkSet;
use libfuzzer_sys::fuzz_target;
use tokendist_core::identity::verify::fuzzing::unsigned_payload_claims;
use tokendist_core::identity::{IdentityClaims, IdentityExpectations, peek_unverified_kid, verify};

/// core/tests/data/rsa-google-test-key-1.pub.pem under kid `fuzz-kid-1` (the seeds are signed
/// with its private half).
const JWKS: &str = r#"{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"fuzz-kid-1","n":"l0F9mRqhTl78QJXegmbFOnnEj0zQObQNMCG8HytO-Z3cZ5nh-rOLC-PtO4etbNEau7ny2MTTcD08sh4Bul7230Pc1zmv35Lnsiw157gjW2hTNz-EQm5ownIayvi1Kws-HN8wflVcrQ3GCs9-9MHUxt-k2f_lm9kictXsBLwGZ1ogGt0kArRumxIjwalUICcTPAGxlKrB7uB3c6-inhORu27adefywbRkBEzkcuopgrsHMeAAAFmSTwSKKlqY1a6usG1_nUXQ-Zlf4VwrY5HhzgNfU6gnLb1LpZod9a8Js-MueQ2SR4d4q_AQdX8y5jbY7j4IC1ITbRM5L-ALXoyJfQ","e":"AQAB"}]}"#;

fn now() -> DateTime<Utc> {
    // Ten seconds after the seeds' iat.
    Utc.timestamp_opt(1_767_225_610, 0).unwrap()
}

fn check_claims(claims: &IdentityClaims) {
    let json = serde_json::to_vec(claims).unwrap();
    let back: IdentityClaims = serde_json::from_slice(&json).unwrap();
    assert_eq!(&back, claims);
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let expected = IdentityExpectations::new("https://tokenserver")
        .with_challenge(Utc.timestamp_opt(1_767_225_590, 0).unwrap());
    if text.starts_with('{') {
        let payload = URL_SAFE_NO_PAD.encode(text);
        if let Ok(claims) = unsigned_payload_claims(&payload, &expected, now()) {
            check_claims(&claims);
        }
        return;
    }
    let jwks: JwkSet = serde_json::from_str(JWKS).unwrap();
    let _ = peek_unverified_kid(text);
    let verified = verify(text, &jwks, &expected, now());
    if let Some(payload) = text.split('.').nth(1) {
        let unsigned = unsigned_payload_claims(payload, &expected, now());
        if let Ok(claims) = &unsigned {
            check_claims(claims);
        }
        if let Ok(claims) = &verified {
            assert_eq!(unsigned.as_ref().ok(), Some(claims));
        }
    }
});
