//! Fuzzes JWK set documents as `gcp::jwks` reads them from Google (`serde_json` into
//! `jsonwebtoken::jwk::JwkSet`, then `identity::verify::duplicate_kid`), and `identity::verify` of a
//! fixed, validly signed token against the fuzzed set (kid lookup, key algorithm and use, RSA
//! components). Never panics; a set that verifies the token holds exactly one key under its kid,
//! and that key is the one that signed it.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone as _, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use libfuzzer_sys::fuzz_target;
use tokendist_core::identity::verify::duplicate_kid;
use tokendist_core::identity::{IdentityExpectations, verify};

/// Signed with core/tests/data/rsa-google-test-key-1.pem, kid `fuzz-kid-1`.
const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enota2lkLTEiLCJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL3Rva2Vuc2VydmVyIiwiYXpwIjoiMTE3Nzg4MzI1NDQyNDA1MzY0MTAxIiwiZW1haWwiOiJ0b2tlbmNsaWVudEBmdXp6LXByb2plY3QuaWFtLmdzZXJ2aWNlYWNjb3VudC5jb20iLCJlbWFpbF92ZXJpZmllZCI6dHJ1ZSwiZXhwIjoxNzY3MjI5MjAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6Imh0dHBzOi8vYWNjb3VudHMuZ29vZ2xlLmNvbSIsInN1YiI6IjExNzc4ODMyNTQ0MjQwNTM2NDEwMSIsImdvb2dsZSI6eyJjb21wdXRlX2VuZ2luZSI6eyJpbnN0YW5jZV9jcmVhdGlvbl90aW1lc3RhbXAiOjE3NjcyMjUwMDAsImluc3RhbmNlX2lkIjoiMTIzNDU2Nzg5MDEyMzQ1Njc4OSIsImluc3RhbmNlX25hbWUiOiJmdXp6LXZtIiwicHJvamVjdF9pZCI6ImZ1enotcHJvamVjdCIsInByb2plY3RfbnVtYmVyIjoxMjM0NTY3ODkwMTIsInpvbmUiOiJldXJvcGUtd2VzdDEtYiIsImluc3RhbmNlX2NvbmZpZGVudGlhbGl0eSI6MSwibGljZW5zZV9pZCI6WyIxMDAxMDEwIiwiMTY2NzM5NzEyMjMzNjU4NzY2Il19fX0.lTD_wTcCJKmPr9lEmSPh2WZJYm3i5af5iRdvIQG6HqVOLFIwAMCHrG5AXvLKV7Yv54_quzJYBJ6axJLKV_Yajc7ksrfMwJ-CKXb66pPWR_t_PJkv7B6ZLJCHf2ME_SKNwGKJMfxv6-kNHoBN28sOOgU1DLjhwsQKs7a4ETlbu5bDOoFg_5HnyaSSCMm6rDgGm-rB4-gRc07KlgsV9oNYmRZ63nhUuj-V_-zWro2o36o03KK16Igkri1Arb9RYW04r_c-It-LFfMSJ974gn2naOeMwTey87tAORZwr2v7mnvpdkvP51r4BAfyaU0Tc3OhZ4mWnz4XZjekf80JG7RTLw";
/// That key's modulus (base64url).
const MODULUS: &str = "l0F9mRqhTl78QJXegmbFOnnEj0zQObQNMCG8HytO-Z3cZ5nh-rOLC-PtO4etbNEau7ny2MTTcD08sh4Bul7230Pc1zmv35Lnsiw157gjW2hTNz-EQm5ownIayvi1Kws-HN8wflVcrQ3GCs9-9MHUxt-k2f_lm9kictXsBLwGZ1ogGt0kArRumxIjwalUICcTPAGxlKrB7uB3c6-inhORu27adefywbRkBEzkcuopgrsHMeAAAFmSTwSKKlqY1a6usG1_nUXQ-Zlf4VwrY5HhzgNfU6gnLb1LpZod9a8Js-MueQ2SR4d4q_AQdX8y5jbY7j4IC1ITbRM5L-ALXoyJfQ";

fuzz_target!(|data: &[u8]| {
    let Ok(keys) = serde_json::from_slice::<JwkSet>(data) else {
        return;
    };
    let duplicate = duplicate_kid(&keys).map(str::to_owned);
    let now = Utc.timestamp_opt(1_767_225_610, 0).unwrap();
    let verified = verify(
        TOKEN,
        &keys,
        &IdentityExpectations::new("https://tokenserver"),
        now,
    );
    if verified.is_ok() {
        assert_ne!(duplicate.as_deref(), Some("fuzz-kid-1"));
        let mut matching = keys
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some("fuzz-kid-1"));
        let key = matching.next().unwrap();
        assert!(matching.next().is_none());
        let AlgorithmParameters::RSA(rsa) = &key.algorithm else {
            panic!("a non-RSA key verified an RS256 token");
        };
        let modulus = |n: &str| {
            let bytes = URL_SAFE_NO_PAD.decode(n).unwrap();
            bytes
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect::<Vec<u8>>()
        };
        assert_eq!(modulus(&rsa.n), modulus(MODULUS));
    }
});
