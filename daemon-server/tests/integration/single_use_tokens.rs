//! Issue 8, "tokens are single use", against the real `tokenserver` with gcpsim: every release runs in
//! a session whose nonce the identity token's audience carries (`<audience>/session/<hex nonce>`), the
//! session is spent by its GetToken, so a captured token is worthless after its one use — on this
//! server, on another replica sharing the store, and for any other session. A plain-audience token
//! only opens sessions; BeginSession is rate-limited per instance after authentication; expired
//! sessions are purged. (Before issue 8, GetToken without a session accepted any plain-audience token
//! issued in the last minute, as often as it was presented.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::{
    Client, assert_denied, begin_session, get_token, try_begin_session, with_token,
};
use crate::support::world::World;
use crate::support::{GOOD_VM, TAMPERED_VM};
use tokendist_proto::v1 as pb;
use tonic::Code;

/// BeginSession as the good VM, and the token its client fetches for that session's audience.
async fn session_and_token(
    world: &World,
    client: &mut Client,
) -> (pb::BeginSessionResponse, String) {
    let session = begin_session(client, &world.good_token()).await;
    let token = world.session_token(GOOD_VM, &session);
    (session, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_release_token_is_refused_when_replayed_in_any_way() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("replay")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    let (session, captured) = session_and_token(&world, &mut client).await;
    let released = get_token(&mut client, &captured, &session.session_id)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    assert_eq!(released.secrets.len(), 2);

    // The same token in the same session: the session is spent.
    let again = get_token(&mut client, &captured, &session.session_id)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(again.message().contains("already used"), "{again:?}");
    // Without a session (the pre-issue-8 hole): not a request GetToken accepts.
    let sessionless = get_token(&mut client, &captured, "").await.unwrap_err();
    assert_eq!(sessionless.code(), Code::InvalidArgument, "{sessionless:?}");
    // In a fresh session of the same VM: the token names the spent session's nonce.
    let (fresh, _) = session_and_token(&world, &mut client).await;
    assert_denied(
        get_token(&mut client, &captured, &fresh.session_id).await,
        Code::Unauthenticated,
        &["identity.claims"],
    );
    // To open a session of its own: a session token is not a plain-audience token.
    assert_denied(
        try_begin_session(&mut client, &captured).await,
        Code::Unauthenticated,
        &["identity.claims"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_minted_for_the_plain_audience_is_refused_after_begin_session() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("plain")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let (session, session_token) = session_and_token(&world, &mut client).await;

    assert_denied(
        get_token(&mut client, &world.good_token(), &session.session_id).await,
        Code::Unauthenticated,
        &["identity.claims"],
    );
    let attest = client
        .attest(with_token(
            pb::AttestRequest {
                session_id: session.session_id.clone(),
                ..Default::default()
            },
            &world.good_token(),
        ))
        .await;
    assert_denied(attest, Code::Unauthenticated, &["identity.claims"]);
    // Refusing the wrong token did not spend the session: the right token still releases.
    get_token(&mut client, &session_token, &session.session_id)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_session_a_is_refused_for_session_b() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("a-b")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let (_a, token_a) = session_and_token(&world, &mut client).await;
    let (b, token_b) = session_and_token(&world, &mut client).await;

    assert_denied(
        get_token(&mut client, &token_a, &b.session_id).await,
        Code::Unauthenticated,
        &["identity.claims"],
    );
    get_token(&mut client, &token_b, &b.session_id)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
}

/// A denied GetToken spends its session too: a token captured while the VM was pending is worthless
/// once Alice approves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_captured_from_a_denied_attempt_is_refused_after_approval() {
    let world = World::start().await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let (session, captured) = session_and_token(&world, &mut client).await;
    assert_denied(
        get_token(&mut client, &captured, &session.session_id).await,
        Code::PermissionDenied,
        &["approval.state"],
    );

    approve(&world, GOOD_VM, &sample_secrets("approved-later")).await;
    let replay = get_token(&mut client, &captured, &session.session_id)
        .await
        .unwrap_err();
    assert_eq!(replay.code(), Code::FailedPrecondition, "{replay:?}");
    // The VM itself, with a new session, gets its secrets.
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_used_on_one_replica_is_refused_by_another_sharing_the_store() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("replicas")).await;
    let first = world.server("first").await;
    let second = world.server("second").await;
    let mut on_first = world.client(first.addr).await;
    let mut on_second = world.client(second.addr).await;

    let (session, captured) = session_and_token(&world, &mut on_first).await;
    get_token(&mut on_first, &captured, &session.session_id)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", first.log_text()));
    let replay = get_token(&mut on_second, &captured, &session.session_id)
        .await
        .unwrap_err();
    assert_eq!(
        replay.code(),
        Code::FailedPrecondition,
        "{replay:?}\n{}",
        second.log_text()
    );
    let sessionless = get_token(&mut on_second, &captured, "").await.unwrap_err();
    assert_eq!(sessionless.code(), Code::InvalidArgument, "{sessionless:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_session_is_rate_limited_per_instance_after_authentication() {
    let world = World::start().await;
    let config = world.path("limited.toml");
    std::fs::write(
        &config,
        world.config_text(
            &[&world.keys.alice.public_path],
            "[sessions]\nrate_limit_burst = 2\nrate_limit_per_minute = 1\n",
        ),
    )
    .unwrap();
    let server = world.server_with_config("limited", &config).await;
    let mut client = world.client(server.addr).await;

    // Unauthenticated calls do not reach (or drain) the instance's bucket.
    for _ in 0..5 {
        let status = try_begin_session(&mut client, "not-a-jwt")
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    for _ in 0..2 {
        try_begin_session(&mut client, &world.good_token())
            .await
            .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    }
    let limited = try_begin_session(&mut client, &world.good_token())
        .await
        .unwrap_err();
    assert_eq!(limited.code(), Code::ResourceExhausted, "{limited:?}");
    assert!(limited.message().contains("sessions"), "{limited:?}");
    // Another instance has its own bucket.
    try_begin_session(&mut client, &world.token(TAMPERED_VM))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_purged_from_the_store() {
    let world = World::start().await;
    let config = world.path("purge.toml");
    let text = world
        .config_text(
            &[&world.keys.alice.public_path],
            "[sessions]\npurge_interval_secs = 1\n",
        )
        .replace("session_ttl_secs = 120", "session_ttl_secs = 1");
    std::fs::write(&config, text).unwrap();
    let server = world.server_with_config("purge", &config).await;
    let mut client = world.client(server.addr).await;
    let (session, token) = session_and_token(&world, &mut client).await;
    assert!(
        world
            .store
            .get_session(&session.session_id)
            .await
            .unwrap()
            .is_some()
    );

    // The session expires after 1 s and the purge runs every second: bounded wait for it to go.
    let deadline = Instant::now() + Duration::from_secs(20);
    while world
        .store
        .get_session(&session.session_id)
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            Instant::now() < deadline,
            "the expired session was not purged\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = get_token(&mut client, &token, &session.session_id)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("unknown session"), "{status:?}");
}
