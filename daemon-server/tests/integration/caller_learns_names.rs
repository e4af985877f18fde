//! Callers learn check names, not evidence (DESIGN §4): against the real `tokenserver`, a denial's
//! status message and `Denial` details name the failed checks and carry no reason — no user-data
//! hash, no service-account email, no expected audience — while the reasons still reach the store's
//! pending record for Alice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::approvals::{approve_with, sample_secrets};
use crate::support::client::{assert_denied, try_begin_session};
use crate::support::world::World;
use crate::support::{AUDIENCE, GOOD_SA, GOOD_VM, GOOD_VM_ID};
use tokendist_sim::MintTokenRequest;
use tonic::{Code, Status};

/// Asserts that `status` names checks only: every detail's reason is empty (a PERMISSION_DENIED
/// carries its `Denial`, an UNAUTHENTICATED no details), and neither the message nor the details
/// contain any of `secrets` or a hex digest.
fn assert_names_only(status: &Status, secrets: &[&str]) {
    if status.code() == Code::PermissionDenied {
        let denial = tokendist_proto::denial_of(status).unwrap();
        for check in &denial.checks {
            assert!(
                check.reason.is_empty(),
                "{} reached the caller with its reason {:?}",
                check.name,
                check.reason
            );
        }
    } else {
        assert!(status.details().is_empty(), "{status:?}");
    }
    let details = String::from_utf8_lossy(status.details()).into_owned();
    for text in [status.message(), details.as_str()] {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{secret:?} reached the caller: {text:?}"
            );
        }
        let longest_hex_run = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest_hex_run < 32,
            "a digest or fingerprint reached the caller: {text:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_names_the_failed_checks_and_keeps_hashes_and_emails_for_the_store() {
    let world = World::start().await;
    let approved_hash = "5a".repeat(32);
    let approved_account = "alices-choice@bob-project.iam.gserviceaccount.com";
    approve_with(&world, GOOD_VM, &sample_secrets("names"), |a| {
        a.user_data_sha256 = approved_hash.clone();
        a.service_account = approved_account.into();
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    let status = assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &[
            "identity.service_account",
            "instance.service_account",
            "instance.user_data",
        ],
    );

    assert_names_only(&status, &[&approved_hash, approved_account, GOOD_SA, "@"]);
    assert!(
        status.message().contains("instance.user_data"),
        "{status:?}"
    );
    // Alice still reads why, in the store.
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    let reasons: Vec<&str> = pending
        .failed_checks
        .iter()
        .map(|c| c.reason.as_str())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(approved_account) || r.contains(GOOD_SA)),
        "{reasons:?}"
    );
    assert!(reasons.iter().all(|r| !r.is_empty()), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_audience_is_unauthenticated_without_echoing_the_expected_audience() {
    let world = World::start().await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let other = "https://some-other-service.example";
    let token = world.token_with(MintTokenRequest {
        vm: GOOD_VM.into(),
        audience: other.into(),
        format: Some("full".into()),
        licenses: false,
        iat: None,
        exp: None,
    });

    let status = assert_denied(
        try_begin_session(&mut client, &token).await,
        Code::Unauthenticated,
        &["identity.claims"],
    );

    assert_names_only(
        &status,
        &[
            AUDIENCE,
            "tokenserver.test.example",
            other,
            "some-other-service",
        ],
    );
    assert!(status.message().contains("identity.claims"), "{status:?}");
}
