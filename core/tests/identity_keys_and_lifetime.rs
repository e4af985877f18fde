//! Issue 8, identity keys: a JWK set that lists a key id twice is refused for that kid whichever key
//! signed (an attacker key listed first must not win), and a token living longer than Google's one
//! hour fails `identity.fresh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};
use tokendist_core::checks;
use tokendist_core::identity::verify::{MAX_TOKEN_LIFETIME_SECS, duplicate_kid};
use tokendist_core::identity::{IdentityError, IdentityExpectations, verify};

fn attacker_jwk_under(kid: &str, key: &EncodingKey) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    jwk
}

#[test]
fn an_attacker_key_listed_first_under_googles_kid_is_refused_as_ambiguous() {
    let mut set = jwks();
    set.keys
        .insert(0, attacker_jwk_under(TEST_KID, &attacker_key()));
    assert_eq!(duplicate_kid(&set), Some(TEST_KID));
    let forged = sign_token(
        &seed_payload(),
        &attacker_key(),
        Algorithm::RS256,
        Some(TEST_KID),
    );
    let expect = IdentityExpectations::new(AUDIENCE);
    let err = verify(&forged, &set, &expect, seed_now()).unwrap_err();
    assert_eq!(
        err,
        IdentityError::AmbiguousKey {
            kid: TEST_KID.to_owned()
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_SIGNATURE);
    // Google's own token under the same kid is refused too: the set cannot say which key is Google's.
    let genuine = google_token(&seed_payload());
    assert!(matches!(
        verify(&genuine, &set, &expect, seed_now()),
        Err(IdentityError::AmbiguousKey { .. })
    ));
    assert_eq!(duplicate_kid(&jwks()), None);
}

#[test]
fn a_token_living_longer_than_one_hour_fails_fresh() {
    let mut payload = seed_payload();
    let iat = payload["iat"].as_i64().unwrap();
    payload["exp"] = serde_json::json!(iat + 90 * 24 * 3600);
    let err = verify(
        &google_token(&payload),
        &jwks(),
        &IdentityExpectations::new(AUDIENCE),
        seed_now(),
    )
    .unwrap_err();
    assert!(
        matches!(err, IdentityError::LifetimeTooLong { lifetime_secs, .. } if lifetime_secs == 90 * 24 * 3600),
        "{err:?}"
    );
    assert_eq!(err.check_name(), checks::IDENTITY_FRESH);

    let mut one_hour_and_a_second = seed_payload();
    one_hour_and_a_second["exp"] = serde_json::json!(iat + MAX_TOKEN_LIFETIME_SECS + 1);
    assert!(matches!(
        verify(
            &google_token(&one_hour_and_a_second),
            &jwks(),
            &IdentityExpectations::new(AUDIENCE),
            seed_now()
        ),
        Err(IdentityError::LifetimeTooLong { .. })
    ));
    let mut exactly_one_hour = seed_payload();
    exactly_one_hour["exp"] = serde_json::json!(iat + MAX_TOKEN_LIFETIME_SECS);
    verify(
        &google_token(&exactly_one_hour),
        &jwks(),
        &IdentityExpectations::new(AUDIENCE),
        seed_now(),
    )
    .unwrap();
}
