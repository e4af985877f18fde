//! The metadata client and the JWKS cache against gcpsim (in-process): identity tokens fetched from a
//! VM's metadata server verify against the sim's JWKS; key rotation, JWKS outages and metadata
//! failures behave as specified. Time is passed explicitly, so no test sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use chrono::{Duration, Utc};
use tokendist_core::identity::{IdentityError, IdentityExpectations};
use tokendist_gcp::jwks::{JwksCacheOptions, TokenVerifyError};
use tokendist_gcp::{JwksCache, JwksError, MetadataError};
use tokendist_sim::{Api, FaultSpec, MintTokenRequest};
use tokendist_testkit::demo::GOOD_VM as VM;

const AUDIENCE: &str = "https://tokenserver.example";

fn fault(api: Api, status: u16) -> FaultSpec {
    FaultSpec {
        api,
        status: Some(status),
        count: None,
        rate: None,
        latency_ms: None,
    }
}

fn cache(sim: &tokendist_sim::RunningSim) -> JwksCache {
    let options = JwksCacheOptions {
        min_refresh_interval: Duration::seconds(30),
        default_lifetime: Duration::minutes(5),
    };
    JwksCache::with_options(&support::config(sim, None), options).unwrap()
}

#[tokio::test]
async fn metadata_identity_token_for_an_audience_verifies_against_the_sim_jwks() {
    let scenario = support::demo_scenario();
    let spec = scenario.vm(VM).unwrap().clone();
    let sim = support::start(scenario).await;
    let metadata = support::metadata(&sim, VM);
    let token = metadata.identity_token(AUDIENCE, true).await.unwrap();
    let claims = cache(&sim)
        .verify_identity_token(
            token.as_str(),
            &IdentityExpectations::new(AUDIENCE),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(claims.aud, AUDIENCE);
    assert_eq!(claims.email.as_deref(), Some(spec.service_account.as_str()));
    assert_eq!(claims.compute_engine.instance_id, spec.id.to_string());
    assert_eq!(claims.compute_engine.instance_name, spec.name);
    assert_eq!(claims.compute_engine.project_id, spec.project);
    assert_eq!(claims.compute_engine.zone, spec.zone);
}

#[tokio::test]
async fn metadata_server_reports_the_vms_id_name_zone_and_project() {
    let scenario = support::demo_scenario();
    let spec = scenario.vm(VM).unwrap().clone();
    let sim = support::start(scenario).await;
    let metadata = support::metadata(&sim, VM);
    assert_eq!(metadata.instance_id().await.unwrap(), spec.id.to_string());
    assert_eq!(metadata.instance_name().await.unwrap(), spec.name);
    assert_eq!(metadata.zone().await.unwrap(), spec.zone);
    assert_eq!(metadata.project_id().await.unwrap(), spec.project);
}

#[tokio::test]
async fn token_for_another_audience_fails_identity_claims() {
    let sim = support::start(support::demo_scenario()).await;
    let token = support::metadata(&sim, VM)
        .identity_token("https://someone-else", false)
        .await
        .unwrap();
    let err = cache(&sim)
        .verify_identity_token(
            token.as_str(),
            &IdentityExpectations::new(AUDIENCE),
            Utc::now(),
        )
        .await
        .unwrap_err();
    match err {
        TokenVerifyError::Identity(e @ IdentityError::WrongAudience { .. }) => {
            assert_eq!(e.check_name(), "identity.claims")
        }
        other => panic!("expected WrongAudience, got {other:?}"),
    }
}

#[tokio::test]
async fn key_rotation_drops_the_old_kid_and_fetches_the_new_kid_once() {
    let sim = support::start(support::demo_scenario()).await;
    let metadata = support::metadata(&sim, VM);
    let cache = cache(&sim);
    let expect = IdentityExpectations::new(AUDIENCE);
    let t0 = Utc::now();
    let old_token = metadata.identity_token(AUDIENCE, false).await.unwrap();
    cache
        .verify_identity_token(old_token.as_str(), &expect, t0)
        .await
        .unwrap();
    assert_eq!(cache.fetch_attempts().await, 1);

    let rotation = sim.handle().rotate_keys(true).unwrap();
    assert_eq!(
        rotation.published_kids,
        std::slice::from_ref(&rotation.current_kid)
    );
    let new_token = metadata.identity_token(AUDIENCE, false).await.unwrap();

    // The new kid is unknown to the cached set: exactly one refresh picks it up.
    cache
        .verify_identity_token(new_token.as_str(), &expect, t0 + Duration::seconds(31))
        .await
        .unwrap();
    assert_eq!(cache.fetch_attempts().await, 2);
    cache
        .verify_identity_token(new_token.as_str(), &expect, t0 + Duration::seconds(32))
        .await
        .unwrap();
    assert_eq!(
        cache.fetch_attempts().await,
        2,
        "a known kid is served from the cache"
    );

    // The old kid is gone; within the refresh interval it does not trigger another fetch.
    let err = cache
        .verify_identity_token(old_token.as_str(), &expect, t0 + Duration::seconds(33))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TokenVerifyError::Identity(IdentityError::UnknownKey { .. })
        ),
        "{err:?}"
    );
    assert_eq!(cache.fetch_attempts().await, 2);
}

#[tokio::test]
async fn unknown_kids_do_not_refetch_more_than_once_per_interval() {
    let sim = support::start(support::demo_scenario()).await;
    let metadata = support::metadata(&sim, VM);
    let cache = cache(&sim);
    let t0 = Utc::now();
    cache.key_set(t0).await.unwrap();
    sim.handle().rotate_keys(true).unwrap();
    let token = metadata.identity_token(AUDIENCE, false).await.unwrap();
    // Only 10 s after the first fetch: the unknown kid is not fetched yet.
    let err = cache
        .verify_identity_token(
            token.as_str(),
            &IdentityExpectations::new(AUDIENCE),
            t0 + Duration::seconds(10),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TokenVerifyError::Identity(IdentityError::UnknownKey { .. })
        ),
        "{err:?}"
    );
    assert_eq!(cache.fetch_attempts().await, 1);
}

#[tokio::test]
async fn jwks_endpoint_down_serves_the_last_good_set() {
    let sim = support::start(support::demo_scenario()).await;
    let cache = cache(&sim);
    let t0 = Utc::now();
    cache.key_set(t0).await.unwrap();
    sim.handle().inject_fault(fault(Api::Jwks, 503)).unwrap();
    // Past the sim's Cache-Control max-age (21155 s): the cache must refetch, the fetch fails.
    let later = t0 + Duration::seconds(21_200);
    let token = sim
        .handle()
        .mint_identity_token(&MintTokenRequest {
            vm: VM.to_owned(),
            audience: AUDIENCE.to_owned(),
            format: None,
            licenses: false,
            iat: Some(later.timestamp()),
            exp: Some(later.timestamp() + 3600),
        })
        .unwrap();
    let claims = cache
        .verify_identity_token(&token, &IdentityExpectations::new(AUDIENCE), later)
        .await
        .unwrap();
    assert_eq!(claims.compute_engine.instance_name, VM);
    assert_eq!(
        cache.fetch_attempts().await,
        2,
        "the refresh was attempted and failed"
    );
}

#[tokio::test]
async fn jwks_never_fetched_is_keys_unavailable() {
    let sim = support::start(support::demo_scenario()).await;
    sim.handle().inject_fault(fault(Api::Jwks, 503)).unwrap();
    let token = support::metadata(&sim, VM)
        .identity_token(AUDIENCE, false)
        .await
        .unwrap();
    let err = cache(&sim)
        .verify_identity_token(
            token.as_str(),
            &IdentityExpectations::new(AUDIENCE),
            Utc::now(),
        )
        .await
        .unwrap_err();
    match err {
        TokenVerifyError::KeysUnavailable(JwksError::NeverFetched { reason, .. }) => {
            assert!(reason.contains("503"), "{reason}")
        }
        other => panic!("expected KeysUnavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn metadata_server_errors_are_classified() {
    let sim = support::start(support::demo_scenario()).await;
    let metadata = support::metadata(&sim, VM);
    sim.handle()
        .inject_fault(fault(Api::Metadata, 403))
        .unwrap();
    assert!(matches!(
        metadata.instance_id().await.unwrap_err(),
        MetadataError::Forbidden { .. }
    ));
    sim.handle()
        .inject_fault(fault(Api::Metadata, 503))
        .unwrap();
    assert!(matches!(
        metadata.identity_token(AUDIENCE, false).await.unwrap_err(),
        MetadataError::Status { status: 503, .. }
    ));
    sim.handle().clear_faults(None);
    assert_eq!(metadata.instance_name().await.unwrap(), VM);
}

#[tokio::test]
async fn unreachable_metadata_server_is_a_clear_error() {
    let closed = tokendist_testkit::closed_port();
    let config = tokendist_gcp::GcpConfig {
        metadata_host: closed.addr().to_string(),
        ..Default::default()
    };
    let err = tokendist_gcp::MetadataClient::new(&config)
        .unwrap()
        .instance_id()
        .await
        .unwrap_err();
    assert!(matches!(err, MetadataError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("GCE_METADATA_HOST"));
}
