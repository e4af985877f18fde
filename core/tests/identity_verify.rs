//! Identity-token verification against tokens we sign with our own RSA keys, and the Google fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::TimeZone as _;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use tokendist_core::checks;
use tokendist_core::identity::{
    ComputeEngineClaims, IdentityError, IdentityExpectations, peek_unverified_kid, verify,
};

fn expect() -> IdentityExpectations {
    IdentityExpectations::new(AUDIENCE)
}

fn verify_at_seed(token: &str) -> Result<tokendist_core::identity::IdentityClaims, IdentityError> {
    verify(token, &jwks(), &expect(), seed_now())
}

#[test]
fn valid_token_passes() {
    let claims = verify_at_seed(&google_token(&seed_payload())).unwrap();
    assert_eq!(claims.compute_engine.instance_id, "8939838129032687278");
    assert_eq!(claims.compute_engine.project_number, 634_665_912_513);
    assert_eq!(
        claims.email.as_deref(),
        Some("tokenclient@tc-4f4f5a70.iam.gserviceaccount.com")
    );
    assert_eq!(claims.compute_engine.license_id.len(), 3);
}

#[test]
fn short_issuer_form_is_accepted() {
    let mut payload = seed_payload();
    payload["iss"] = json!("accounts.google.com");
    assert!(verify_at_seed(&google_token(&payload)).is_ok());
}

#[test]
fn unknown_key_is_a_distinct_signature_error() {
    let token = sign_token(
        &seed_payload(),
        &attacker_key(),
        Algorithm::RS256,
        Some("rotated-kid"),
    );
    let err = verify_at_seed(&token).unwrap_err();
    assert_eq!(
        err,
        IdentityError::UnknownKey {
            kid: "rotated-kid".to_owned()
        }
    );
    assert!(err.is_unknown_key());
    assert_eq!(err.check_name(), checks::IDENTITY_SIGNATURE);
    assert_eq!(
        peek_unverified_kid(&token).unwrap().as_deref(),
        Some("rotated-kid")
    );
}

#[test]
fn forged_signature_under_a_known_kid_fails() {
    let token = sign_token(
        &seed_payload(),
        &attacker_key(),
        Algorithm::RS256,
        Some(TEST_KID),
    );
    let err = verify_at_seed(&token).unwrap_err();
    assert_eq!(
        err,
        IdentityError::BadSignature {
            kid: TEST_KID.to_owned()
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_SIGNATURE);
}

#[test]
fn altered_payload_fails_signature() {
    let token = google_token(&seed_payload());
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut payload = seed_payload();
    payload["google"]["compute_engine"]["instance_id"] = json!("1");
    let forged_payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload.to_string(),
    );
    parts[1] = &forged_payload;
    let err = verify_at_seed(&parts.join(".")).unwrap_err();
    assert!(matches!(err, IdentityError::BadSignature { .. }), "{err:?}");
}

#[test]
fn alg_none_is_rejected() {
    let token = raw_token(
        &json!({"alg": "none", "kid": TEST_KID, "typ": "JWT"}),
        &seed_payload(),
        "",
    );
    let err = verify_at_seed(&token).unwrap_err();
    assert_eq!(
        err,
        IdentityError::UnsupportedAlgorithm {
            alg: "none".to_owned()
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_SIGNATURE);
}

#[test]
fn hs256_with_the_public_key_as_secret_is_rejected() {
    let key = EncodingKey::from_secret(&google_public_pem());
    let token = sign_token(&seed_payload(), &key, Algorithm::HS256, Some(TEST_KID));
    let err = verify_at_seed(&token).unwrap_err();
    assert_eq!(
        err,
        IdentityError::UnsupportedAlgorithm {
            alg: "HS256".to_owned()
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_SIGNATURE);
}

#[test]
fn other_rsa_algorithms_are_rejected() {
    let token = sign_token(
        &seed_payload(),
        &google_key(),
        Algorithm::PS256,
        Some(TEST_KID),
    );
    let err = verify_at_seed(&token).unwrap_err();
    assert_eq!(
        err,
        IdentityError::UnsupportedAlgorithm {
            alg: "PS256".to_owned()
        }
    );
}

#[test]
fn missing_kid_is_rejected() {
    let token = sign_token(&seed_payload(), &google_key(), Algorithm::RS256, None);
    assert_eq!(
        verify_at_seed(&token).unwrap_err(),
        IdentityError::MissingKeyId
    );
}

#[test]
fn wrong_aud_fails_claims() {
    let mut payload = seed_payload();
    payload["aud"] = json!("https://someone-else");
    let err = verify_at_seed(&google_token(&payload)).unwrap_err();
    assert_eq!(
        err,
        IdentityError::WrongAudience {
            actual: "https://someone-else".to_owned(),
            expected: AUDIENCE.to_owned()
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_CLAIMS);
}

#[test]
fn wrong_iss_fails_claims() {
    let mut payload = seed_payload();
    payload["iss"] = json!("https://evil.example");
    let err = verify_at_seed(&google_token(&payload)).unwrap_err();
    assert_eq!(
        err,
        IdentityError::WrongIssuer {
            iss: "https://evil.example".to_owned()
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_CLAIMS);
}

#[test]
fn expired_token_fails_claims() {
    let payload = seed_payload();
    let exp = payload["exp"].as_i64().unwrap();
    let now = chrono::Utc.timestamp_opt(exp + 60, 0).unwrap();
    let err = verify(&google_token(&payload), &jwks(), &expect(), now).unwrap_err();
    assert_eq!(err, IdentityError::Expired { exp, now: exp + 60 });
    assert_eq!(err.check_name(), checks::IDENTITY_CLAIMS);
}

#[test]
fn nbf_in_the_future_fails_claims() {
    let mut payload = seed_payload();
    payload["nbf"] = json!(SEED_IAT + 600);
    let err = verify_at_seed(&google_token(&payload)).unwrap_err();
    assert!(matches!(err, IdentityError::NotYetValid { .. }), "{err:?}");
    assert_eq!(err.check_name(), checks::IDENTITY_CLAIMS);
}

#[test]
fn iat_too_old_fails_fresh() {
    let now = chrono::Utc.timestamp_opt(SEED_IAT + 61, 0).unwrap();
    let err = verify(&google_token(&seed_payload()), &jwks(), &expect(), now).unwrap_err();
    assert_eq!(
        err,
        IdentityError::IssuedTooLongAgo {
            iat: SEED_IAT,
            age_secs: 61,
            window_secs: 60
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_FRESH);
}

#[test]
fn iat_window_is_configurable() {
    let now = chrono::Utc.timestamp_opt(SEED_IAT + 61, 0).unwrap();
    let mut wide = expect();
    wide.iat_window_secs = 120;
    assert!(verify(&google_token(&seed_payload()), &jwks(), &wide, now).is_ok());
}

#[test]
fn iat_in_the_future_fails_fresh() {
    let now = chrono::Utc.timestamp_opt(SEED_IAT - 30, 0).unwrap();
    let err = verify(&google_token(&seed_payload()), &jwks(), &expect(), now).unwrap_err();
    assert_eq!(
        err,
        IdentityError::IssuedInFuture {
            iat: SEED_IAT,
            ahead_secs: 30,
            skew_secs: 5
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_FRESH);
}

#[test]
fn token_issued_before_the_challenge_fails_fresh() {
    let challenge = chrono::Utc.timestamp_opt(SEED_IAT + 8, 0).unwrap();
    let expectations = expect().with_challenge(challenge);
    let err = verify(
        &google_token(&seed_payload()),
        &jwks(),
        &expectations,
        seed_now(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        IdentityError::IssuedBeforeChallenge {
            iat: SEED_IAT,
            challenge: SEED_IAT + 8
        }
    );
    assert_eq!(err.check_name(), checks::IDENTITY_FRESH);
    let before = expect().with_challenge(chrono::Utc.timestamp_opt(SEED_IAT - 1, 0).unwrap());
    assert!(verify(&google_token(&seed_payload()), &jwks(), &before, seed_now()).is_ok());
}

#[test]
fn missing_gce_claims_fail_claims() {
    let mut payload = seed_payload();
    payload.as_object_mut().unwrap().remove("google");
    let err = verify_at_seed(&google_token(&payload)).unwrap_err();
    assert!(
        matches!(err, IdentityError::MissingComputeEngineClaims(_)),
        "{err:?}"
    );
    assert_eq!(err.check_name(), checks::IDENTITY_CLAIMS);

    let mut payload = seed_payload();
    payload["google"]["compute_engine"]
        .as_object_mut()
        .unwrap()
        .remove("zone");
    let err = verify_at_seed(&google_token(&payload)).unwrap_err();
    assert!(
        matches!(err, IdentityError::MissingComputeEngineClaims(ref m) if m.contains("zone")),
        "{err:?}"
    );
}

#[test]
fn malformed_tokens_are_errors_not_panics() {
    for token in [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        "e30.e30.",
        &"x".repeat(20_000),
    ] {
        let err = verify_at_seed(token).unwrap_err();
        assert_eq!(
            err.check_name(),
            checks::IDENTITY_SIGNATURE,
            "{token:.20}: {err:?}"
        );
    }
    let not_object = raw_token(&json!(["RS256"]), &seed_payload(), "");
    assert!(matches!(
        verify_at_seed(&not_object).unwrap_err(),
        IdentityError::Malformed(_)
    ));
}

#[test]
fn claims_of_wrong_type_are_malformed() {
    let mut payload = seed_payload();
    payload["exp"] = json!("tomorrow");
    let err = verify_at_seed(&google_token(&payload)).unwrap_err();
    assert!(
        matches!(err, IdentityError::Malformed(ref m) if m.contains("exp")),
        "{err:?}"
    );
}

#[test]
fn errors_serialize_and_never_contain_the_token() {
    let token = google_token(&seed_payload());
    let now = chrono::Utc.timestamp_opt(SEED_IAT + 3600 * 2, 0).unwrap();
    let err = verify(&token, &jwks(), &expect(), now).unwrap_err();
    let json = serde_json::to_string(&err).unwrap();
    let back: IdentityError = serde_json::from_str(&json).unwrap();
    assert_eq!(back, err);
    let signature = token.rsplit('.').next().unwrap();
    assert!(!json.contains(signature) && !err.to_string().contains(signature));
    let malformed = IdentityError::Malformed("x".to_owned());
    let back: IdentityError =
        serde_json::from_str(&serde_json::to_string(&malformed).unwrap()).unwrap();
    assert_eq!(back, malformed);
}

#[test]
fn fixture_claims_parse() {
    for name in [
        "identity-token-gce-cos-full-licenses-decoded.json",
        "identity-token-gce-cos-full-seed-tokenclient-assembled.json",
        "identity-token-gce-confidential-sev-seed-decoded.json",
    ] {
        let v = fixture_json(name);
        let gce: ComputeEngineClaims =
            serde_json::from_value(v["payload"]["google"]["compute_engine"].clone()).unwrap();
        assert!(!gce.instance_id.is_empty(), "{name}");
        assert_eq!(v["header"]["alg"], "RS256", "{name}");
    }
    let sev = fixture_json("identity-token-gce-confidential-sev-seed-decoded.json");
    let gce: ComputeEngineClaims =
        serde_json::from_value(sev["payload"]["google"]["compute_engine"].clone()).unwrap();
    assert_eq!(gce.instance_confidentiality, Some(1));
}

#[test]
fn real_google_token_is_checked_against_the_real_jwks_kid() {
    // The captured 2019 token's kid is not in the captured JWKS: a distinct, refreshable error.
    let token = fixture("identity-token-gce-cos-full-licenses.jwt");
    let err = verify(token.trim(), &jwks(), &expect(), seed_now()).unwrap_err();
    assert_eq!(
        err,
        IdentityError::UnknownKey {
            kid: "9cef5340642b157fa8a4f0d874fe7900362d82db".to_owned()
        }
    );
}
