//! A caller without a valid identity token learns nothing about which sessions exist: every session
//! step verifies the token (everything that does not depend on the session) before it reads the
//! session, so a known and an unknown session id get the very same refusal. (Before, the session was
//! read first: an unknown id answered FAILED_PRECONDITION "unknown session" to anyone, a known one
//! UNAUTHENTICATED.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::GOOD_VM;
use crate::support::client::{Client, begin_session, with_token};
use crate::support::world::World;
use tokendist_proto::v1 as pb;
use tokendist_sim::MintTokenRequest;
use tonic::{Code, Status};

const UNKNOWN_SESSION: &str = "0123456789abcdef0123456789abcdef";

/// The refusal of each session step (Attest, ProveAttestation, GetToken) in `session_id` with `token`.
async fn refusals(client: &Client, token: &str, session_id: &str) -> Vec<(Code, String)> {
    let session_id = session_id.to_string();
    let attest = client
        .clone()
        .attest(with_token(
            pb::AttestRequest {
                session_id: session_id.clone(),
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|_| ());
    let prove = client
        .clone()
        .prove_attestation(with_token(
            pb::ProveRequest {
                session_id: session_id.clone(),
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|_| ());
    let get = client
        .clone()
        .get_token(with_token(pb::TokenRequest { session_id }, token))
        .await
        .map(|_| ());
    [attest, prove, get]
        .into_iter()
        .map(|result| {
            let status: Status = result.expect_err("a step succeeded without a valid token");
            (status.code(), status.message().to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_token_gets_the_same_refusal_for_a_known_and_an_unknown_session() {
    let world = World::start().await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let session = begin_session(&mut client, &world.good_token()).await;
    let elsewhere = world.token_with(MintTokenRequest {
        vm: GOOD_VM.to_string(),
        audience: "https://another-server.example".to_string(),
        format: Some("full".into()),
        licenses: false,
        iat: None,
        exp: None,
    });
    let forged = {
        // A well-formed token for the session's audience, signed by nobody Google knows.
        let mut parts: Vec<String> = world
            .session_token(GOOD_VM, &session)
            .split('.')
            .map(str::to_string)
            .collect();
        parts[2] = "c2lnbmF0dXJl".into();
        parts.join(".")
    };

    for (name, token) in [
        ("garbage", "not.a.token".to_string()),
        ("another audience", elsewhere),
        ("forged signature", forged),
    ] {
        let known = refusals(&client, &token, &session.session_id).await;
        let unknown = refusals(&client, &token, UNKNOWN_SESSION).await;
        for (code, message) in &known {
            assert_eq!(*code, Code::Unauthenticated, "{name}: {message}");
        }
        assert_eq!(
            known, unknown,
            "{name}: the refusal tells the session apart"
        );
    }
    // The session is still usable by its own VM: probing it did not spend it.
    let stored = world.store.get_session(&session.session_id).await.unwrap();
    assert_eq!(
        stored.map(|s| s.step),
        Some(tokendist_store::SessionStep::Begun)
    );
    // A caller with a valid token (here, for the plain audience) is told the session is unknown.
    let status = client
        .get_token(with_token(
            pb::TokenRequest {
                session_id: UNKNOWN_SESSION.into(),
            },
            &world.good_token(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
}
