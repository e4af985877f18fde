//! The real `tokenserver` answers in gRPC's own conventions (issue 11): a request without an
//! `authorization` or with another scheme is UNAUTHENTICATED naming that (not `identity.signature`),
//! with no details; size limits are RESOURCE_EXHAUSTED (a message over tonic's 4 MiB, metadata over
//! 64 KiB), and the server keeps serving after each. A non-Rust client's view of the same answers is
//! in `tests/tests/foreign_client.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::GOOD_VM;
use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::{assert_denied, get_token, with_token};
use crate::support::world::World;
use tokendist_proto::v1 as pb;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_non_bearer_credentials_are_named_as_such() {
    let world = World::start().await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    let missing = client
        .begin_session(tonic::Request::new(pb::BeginSessionRequest::default()))
        .await;
    assert_denied(missing, Code::Unauthenticated, &["identity.token_missing"]);

    for (header, check) in [
        ("Basic YWxpY2U6aHVudGVyMg==", "identity.token_not_bearer"),
        ("eyJhbGciOiJSUzI1NiJ9.e30.sig", "identity.token_not_bearer"),
        ("Bearer ", "identity.token_missing"),
    ] {
        let mut request = tonic::Request::new(pb::BeginSessionRequest::default());
        request
            .metadata_mut()
            .insert("authorization", header.parse().unwrap());
        let status = assert_denied(
            client.begin_session(request).await,
            Code::Unauthenticated,
            &[check],
        );
        assert!(status.details().is_empty(), "{header}: {status:?}");
    }

    // A Bearer token that is not Google's still fails its signature (verified before the session
    // it names is read).
    assert_denied(
        get_token(&mut client, "a.b.c", "0123456789abcdef0123456789abcdef").await,
        Code::Unauthenticated,
        &["identity.signature"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limits_are_resource_exhausted_and_the_server_keeps_serving() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("limits")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    // A 10 MB message: over tonic's 4 MiB decoding limit.
    let oversized = client
        .begin_session(with_token(
            pb::BeginSessionRequest {
                client_version: "x".repeat(10 * 1024 * 1024),
            },
            &world.good_token(),
        ))
        .await
        .unwrap_err();
    assert_eq!(oversized.code(), Code::ResourceExhausted, "{oversized:?}");
    assert!(oversized.details().is_empty(), "{oversized:?}");

    // 70 KB of metadata: over the server's 64 KiB, under HTTP/2's hard limit.
    let mut request = with_token(pb::BeginSessionRequest::default(), &world.good_token());
    request
        .metadata_mut()
        .insert("x-padding", "p".repeat(70 * 1000).parse().unwrap());
    let status = client.begin_session(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("metadata"), "{status:?}");

    // Just under the limit, the request is served.
    let mut request = with_token(
        pb::BeginSessionRequest {
            client_version: "x".repeat(3 * 1024 * 1024),
        },
        &world.good_token(),
    );
    request
        .metadata_mut()
        .insert("x-padding", "p".repeat(40 * 1000).parse().unwrap());
    client.begin_session(request).await.unwrap();

    let response = world.release(&mut client, GOOD_VM).await.unwrap();
    assert_eq!(response.secrets.len(), 2);
}
