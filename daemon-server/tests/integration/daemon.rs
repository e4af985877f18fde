//! The `tokenserver` daemon's lifecycle with the real binary (sd_notify READY only once the port
//! accepts, STOPPING and exit 0 on SIGTERM, exit 78 naming the bad setting, SIGHUP reloading the
//! trusted approvers) and its answers to malformed requests (precise codes, still serving after).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::time::Duration;

use crate::support::approvals::{approve, propose, sample_secrets, seal_secrets, store_signed};
use crate::support::client::{assert_denied, begin_session, get_token, with_token};
use crate::support::keys::Approver;
use crate::support::server;
use crate::support::world::World;
use crate::support::{GOOD_VM, GOOD_VM_ID};
use tokendist_proto::v1 as pb;
use tonic::Code;

const NOTICE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_arrives_only_once_the_port_accepts_connections() {
    let world = World::start().await;
    let server = world.server("server").await;
    // Connect immediately after READY, no retries: the port must already accept.
    let stream = std::net::TcpStream::connect(server.addr).unwrap();
    drop(stream);
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.state"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_sends_stopping_and_exits_zero() {
    let world = World::start().await;
    let mut server = world.server("server").await;
    server.signal("TERM");
    let notice = server.next_notification(NOTICE).await;
    assert_eq!(notice.as_deref(), Some("STOPPING=1"));
    let status = server.wait_exit(NOTICE).await;
    assert_eq!(status.code(), Some(0), "{}", server.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_config_exits_78_naming_the_setting() {
    let world = World::start().await;
    let text = world
        .config_text(&[&world.keys.alice.public_path], "")
        .replace(
            "token_max_age_secs = 60",
            "token_max_age_secs = \"one minute\"",
        );
    let config = world.path("bad.toml");
    std::fs::write(&config, text).unwrap();
    let (status, stderr) = server::launch(world.dir.path(), "bad", &config, &[])
        .exit_status(NOTICE)
        .await;
    assert_eq!(status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("token_max_age_secs"), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_trusted_approver_file_exits_78_naming_the_file() {
    let world = World::start().await;
    let missing = world.path("nobody.pub.pem");
    let config = world.path("missing.toml");
    std::fs::write(&config, world.config_text(&[&missing], "")).unwrap();
    let (status, stderr) = server::launch(world.dir.path(), "missing", &config, &[])
        .exit_status(NOTICE)
        .await;
    assert_eq!(status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("nobody.pub.pem"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_with_a_newly_trusted_approver_accepts_its_approvals_without_a_restart() {
    let world = World::start().await;
    let bob = Approver::create(world.dir.path(), "bob-approver");
    let mut approval = propose(&world, GOOD_VM).await;
    approval.secrets = seal_secrets(&world, GOOD_VM_ID, &sample_secrets("sighup"));
    store_signed(&world, approval, &bob.key).await;
    let config = world.write_config("server");
    let server = world.server_with_config("server", &config).await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.signature"],
    );

    let text = world.config_text(&[&world.keys.alice.public_path, &bob.public_path], "");
    std::fs::write(&config, text).unwrap();
    let pid_before = server.pid();
    server.signal("HUP");
    assert_eq!(
        server.next_notification(NOTICE).await.as_deref(),
        Some("RELOADING=1")
    );
    let ready = server.next_notification(NOTICE).await.unwrap();
    assert!(ready.starts_with("READY=1"), "{ready}");
    assert_eq!(server.pid(), pid_before);
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
}

/// A good release afterwards proves the server kept serving.
async fn still_serves(world: &World, client: &mut support::client::Client) {
    let response = world.release(client, GOOD_VM).await.unwrap();
    assert_eq!(response.secrets.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bearer_tokens_are_unauthenticated_and_the_server_keeps_serving() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("malformed")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    let session = begin_session(&mut client, &world.good_token()).await;
    for token in [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",
        "e30.e30.e30",
    ] {
        let status = get_token(&mut client, token, &session.session_id)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{token}: {status:?}");
        let checks = support::client::failed_checks(&status);
        assert_eq!(checks.len(), 1, "{token}: {status:?}");
        assert!(checks[0].starts_with("identity."), "{token}: {status:?}");
    }

    let no_token = client
        .get_token(tonic::Request::new(pb::TokenRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(no_token.code(), Code::Unauthenticated);
    assert_eq!(
        support::client::failed_checks(&no_token),
        vec!["identity.token_missing".to_string()]
    );

    let oversized = "A".repeat(17 * 1024);
    let status = get_token(&mut client, &oversized, "").await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    // The caller learns the check's name, not the reason (which is logged).
    assert!(
        status.message().contains("identity.") && !status.message().contains("too long"),
        "{status:?}"
    );
    // Far beyond any header limit: refused at the HTTP/2 layer. hyper may answer with a stream
    // reset or close that connection (it varies run to run), so a new connection shows the server
    // kept serving.
    let huge = "A".repeat(256 * 1024);
    let status = get_token(&mut client, &huge, "").await.unwrap_err();
    assert_ne!(status.code(), Code::Ok);

    let mut fresh = world.client(server.addr).await;
    still_serves(&world, &mut fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_unknown_session_ids_get_precise_codes_and_the_server_keeps_serving() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("session")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    for garbage in ["../../etc/passwd", "xyz", "'; DROP TABLE sessions; --"] {
        let status = get_token(&mut client, &world.good_token(), garbage)
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{garbage}: {status:?}"
        );
    }
    let unknown = "0123456789abcdef0123456789abcdef";
    let status = get_token(&mut client, &world.good_token(), unknown)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let not_bearer = {
        let mut request = tonic::Request::new(pb::TokenRequest::default());
        request.metadata_mut().insert(
            "authorization",
            "Basic YWxpY2U6aHVudGVyMg==".parse().unwrap(),
        );
        client.get_token(request).await.unwrap_err()
    };
    assert_eq!(not_bearer.code(), Code::Unauthenticated);
    assert_eq!(
        support::client::failed_checks(&not_bearer),
        vec!["identity.token_not_bearer".to_string()]
    );

    let attest = client
        .attest(with_token(
            pb::AttestRequest::default(),
            &world.good_token(),
        ))
        .await
        .unwrap_err();
    // An Attest without a session id names what is missing.
    assert_eq!(attest.code(), Code::InvalidArgument);
    assert!(attest.message().contains("session_id"), "{attest:?}");

    still_serves(&world, &mut client).await;
}
