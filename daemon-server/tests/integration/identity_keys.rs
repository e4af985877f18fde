//! Issue 8, identity keys, against the real `tokenserver` with gcpsim: a JWK set that lists one `kid`
//! twice (an attacker key first) is refused as a whole, so no token verifies against it; a token
//! living longer than Google's one hour fails `identity.fresh`; the last good JWK set serves only for
//! a bounded grace past its max-age (then verification is UNAVAILABLE); a plain-http JWKS URL without
//! `gcp.jwks_allow_http` is a configuration error (exit 78).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::support::client::{assert_denied, try_begin_session};
use crate::support::server;
use crate::support::world::{World, demo_toml, scenario_from};
use crate::support::{AUDIENCE, GOOD_VM};
use tokendist_sim::{Api, FaultSpec, MintTokenRequest};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_listing_an_attacker_key_first_under_googles_kid_refuses_every_token() {
    let world = World::start().await;
    let genuine = world.good_token();
    // The key set now lists an attacker key first under the current kid; it signs from now on.
    world.sim.handle().add_impostor_key().unwrap();
    let forged = world.good_token();
    assert_ne!(genuine, forged);
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    for token in [&forged, &genuine] {
        let status = try_begin_session(&mut client, token).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(status.message().contains("identity tokens"), "{status:?}");
    }
    assert!(
        server.log_text().contains("more than once"),
        "the refusal names the duplicate kid:\n{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_valid_for_ninety_days_is_refused_by_identity_fresh() {
    let world = World::start().await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let iat = chrono::Utc::now().timestamp();
    let token = world.token_with(MintTokenRequest {
        vm: GOOD_VM.into(),
        audience: AUDIENCE.into(),
        format: Some("full".into()),
        licenses: false,
        iat: Some(iat),
        exp: Some(iat + 90 * 24 * 3600),
    });
    assert_denied(
        try_begin_session(&mut client, &token).await,
        Code::Unauthenticated,
        &["identity.fresh"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_past_its_grace_makes_verification_unavailable_instead_of_trusted_forever() {
    // The JWKS may be cached for 0 s, and the server allows no grace beyond that.
    let scenario = scenario_from(&demo_toml().replacen(
        "jwks_max_age_secs = 21155",
        "jwks_max_age_secs = 0",
        1,
    ));
    let world = World::start_with(scenario).await;
    let config = world.path("grace.toml");
    let text = world
        .config_text(&[&world.keys.alice.public_path], "")
        .replace(
            "jwks_allow_http = true",
            "jwks_allow_http = true\njwks_stale_grace_secs = 0",
        );
    std::fs::write(&config, text).unwrap();
    let server = world.server_with_config("grace", &config).await;
    let mut client = world.client(server.addr).await;
    try_begin_session(&mut client, &world.good_token())
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));

    world
        .sim
        .handle()
        .inject_fault(FaultSpec {
            api: Api::Jwks,
            status: Some(503),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();
    let status = try_begin_session(&mut client, &world.good_token())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    // The caller learns only that the keys are unavailable; the server's log says why.
    assert!(!status.message().contains("grace"), "{status:?}");
    assert!(
        server.log_text().contains("grace is over"),
        "{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_jwks_url_without_the_insecure_flag_exits_78() {
    let world = World::start().await;
    let text = world
        .config_text(&[&world.keys.alice.public_path], "")
        .replace("jwks_allow_http = true\n", "");
    let config = world.path("http.toml");
    std::fs::write(&config, text).unwrap();
    let (status, stderr) = server::launch(world.dir.path(), "http", &config, &[])
        .exit_status(Duration::from_secs(20))
        .await;
    assert_eq!(status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("jwks_allow_http"), "{stderr}");
}
