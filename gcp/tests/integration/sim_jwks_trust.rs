//! Issue 8, identity keys, against gcpsim: a JWK set with a duplicate `kid` (an attacker key listed
//! first under Google's kid) is refused as a whole and the last good set stays; the last good set
//! serves only for a bounded grace past its max-age; a plain-http JWKS URL needs the explicit flag.
//! Time is passed explicitly, so no test sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use chrono::{DateTime, Duration, Utc};
use tokendist_core::identity::{IdentityError, IdentityExpectations};
use tokendist_gcp::jwks::TokenVerifyError;
use tokendist_gcp::{GcpConfig, JwksCache, JwksError};
use tokendist_sim::{Api, FaultSpec, MintTokenRequest, RunningSim};
use tokendist_testkit::demo::GOOD_VM as VM;

const AUDIENCE: &str = "https://tokenserver.example";
/// gcpsim's default `Cache-Control: max-age`.
const SIM_MAX_AGE: i64 = 21_155;

fn token_at(sim: &RunningSim, at: DateTime<Utc>) -> String {
    sim.handle()
        .mint_identity_token(&MintTokenRequest {
            vm: VM.to_owned(),
            audience: AUDIENCE.to_owned(),
            format: None,
            licenses: false,
            iat: Some(at.timestamp()),
            exp: Some(at.timestamp() + 3600),
        })
        .unwrap()
}

async fn verify(
    cache: &JwksCache,
    token: &str,
    at: DateTime<Utc>,
) -> Result<tokendist_core::identity::IdentityClaims, TokenVerifyError> {
    cache
        .verify_identity_token(token, &IdentityExpectations::new(AUDIENCE), at)
        .await
}

#[tokio::test]
async fn a_first_fetch_with_a_duplicate_kid_is_refused_and_the_impostors_token_is_not_accepted() {
    let sim = support::start(support::demo_scenario()).await;
    sim.handle().add_impostor_key().unwrap();
    let now = Utc::now();
    let forged = token_at(&sim, now);
    let cache = JwksCache::new(&support::config(&sim, None)).unwrap();
    match verify(&cache, &forged, now).await {
        Err(TokenVerifyError::KeysUnavailable(JwksError::NeverFetched { reason, .. })) => {
            assert!(reason.contains("more than once"), "{reason}")
        }
        other => panic!("expected the duplicate-kid set to be refused, got {other:?}"),
    }
    // Once the publisher drops the impostor, tokens verify again.
    sim.handle().rotate_keys(true).unwrap();
    verify(&cache, &token_at(&sim, now), now).await.unwrap();
}

#[tokio::test]
async fn a_refresh_bringing_a_duplicate_kid_keeps_the_last_good_set() {
    let sim = support::start(support::demo_scenario()).await;
    let cache = JwksCache::new(&support::config(&sim, None)).unwrap();
    let t0 = Utc::now();
    let later = t0 + Duration::seconds(SIM_MAX_AGE + 60);
    let genuine = token_at(&sim, later);
    verify(&cache, &token_at(&sim, t0), t0).await.unwrap();

    sim.handle().add_impostor_key().unwrap();
    let forged = token_at(&sim, later);
    // The set expired: the refresh fetches the duplicate set, refuses it, keeps the good one.
    let err = verify(&cache, &forged, later).await.unwrap_err();
    assert!(
        matches!(
            err,
            TokenVerifyError::Identity(IdentityError::BadSignature { .. })
        ),
        "{err:?}"
    );
    assert_eq!(cache.fetch_attempts().await, 2);
    verify(&cache, &genuine, later).await.unwrap();
}

#[tokio::test]
async fn the_last_good_set_serves_within_its_grace_and_not_after() {
    let sim = support::start(support::demo_scenario()).await;
    let config = GcpConfig {
        jwks_stale_grace_secs: 60,
        ..support::config(&sim, None)
    };
    let cache = JwksCache::new(&config).unwrap();
    let t0 = Utc::now();
    verify(&cache, &token_at(&sim, t0), t0).await.unwrap();
    sim.handle()
        .inject_fault(FaultSpec {
            api: Api::Jwks,
            status: Some(503),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();

    let within = t0 + Duration::seconds(SIM_MAX_AGE + 30);
    verify(&cache, &token_at(&sim, within), within)
        .await
        .unwrap();

    let past = t0 + Duration::seconds(SIM_MAX_AGE + 61 + 30);
    match verify(&cache, &token_at(&sim, past), past).await {
        Err(TokenVerifyError::KeysUnavailable(JwksError::Stale {
            grace_secs, reason, ..
        })) => {
            assert_eq!(grace_secs, 60);
            assert!(reason.contains("503"), "{reason}");
        }
        other => panic!("expected a stale key set, got {other:?}"),
    }

    sim.handle().clear_faults(Some(Api::Jwks));
    let recovered = past + Duration::seconds(31);
    verify(&cache, &token_at(&sim, recovered), recovered)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_http_jwks_url_is_refused_without_the_explicit_flag() {
    let sim = support::start(support::demo_scenario()).await;
    let config = GcpConfig {
        jwks_allow_http: false,
        ..support::config(&sim, None)
    };
    match JwksCache::new(&config) {
        Err(JwksError::Url(message)) => assert!(message.contains("jwks_allow_http"), "{message}"),
        other => panic!("expected the http URL to be refused, got {other:?}"),
    }
}
