//! The server remembers, per approval record, its signature result and its opened secrets
//! (`approval_cache`): against the real `tokenserver` binary with gcpsim, a record that changes after a
//! release — revoked, re-signed with other secrets, or edited behind the signature — is never served
//! from what was remembered: the next release sees the new record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::approvals::{approve, sample_secrets, seal_secrets};
use crate::support::client::assert_denied;
use crate::support::world::World;
use crate::support::{GOOD_VM, GOOD_VM_ID};
use tokendist_core::approval::{self, Approval};
use tokendist_store::{EventKind, EventQuery};
use tonic::Code;

fn data(response: &tokendist_proto::v1::TokenResponse) -> Vec<(String, Vec<u8>)> {
    response
        .secrets
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect()
}

/// Stores `next` (already edited) as the revision after `current`, signed by Alice if `sign`.
async fn replace(world: &World, current: &Approval, mut next: Approval, sign: bool) {
    next.revision = current.revision + 1;
    if sign {
        approval::sign(&mut next, &world.keys.alice.key);
    }
    world
        .store
        .put_approval(next, Some(current.revision))
        .await
        .unwrap();
}

/// gcpsim's count of `method` requests so far.
fn google_calls(world: &World, method: &str) -> u64 {
    world.sim.handle().requests_of(method)
}

/// `approval` revoked now (unsigned; [`replace`] signs it).
fn revoked(approval: &Approval) -> Approval {
    let mut revoked = approval.clone();
    revoked.revoked_at = Some(chrono::Utc::now());
    revoked.revoke_reason = Some("VM decommissioned".into());
    revoked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_revoked_after_a_release_is_denied_by_approval_state() {
    let world = World::start().await;
    let approval = approve(&world, GOOD_VM, &sample_secrets("cached")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));

    replace(&world, &approval, revoked(&approval), true).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.state"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_vms_retries_reuse_its_verdict_for_a_minute_and_spend_no_google_quota() {
    let world = World::start().await;
    let approval = approve(&world, GOOD_VM, &sample_secrets("revoked")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let revoked = revoked(&approval);
    replace(&world, &approval, revoked.clone(), true).await;

    let instances_before = google_calls(&world, "compute.instances.get");
    let logging_before = google_calls(&world, "logging.entries.list");
    for _ in 0..3 {
        assert_denied(
            world.release(&mut client, GOOD_VM).await,
            Code::PermissionDenied,
            &["approval.state"],
        );
    }
    // The first denial read the live evidence; the two retries reused its verdict.
    assert_eq!(
        google_calls(&world, "compute.instances.get") - instances_before,
        1
    );
    assert!(google_calls(&world, "logging.entries.list") - logging_before <= 2);
    // Every denial is still recorded, with the verdict's failed check.
    let events = world
        .store
        .list_events(&EventQuery::latest(100).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    let denied: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Denied)
        .collect();
    assert_eq!(denied.len(), 3, "{events:?}");

    // A new approval is a new revision: released on live evidence at once, no stale verdict.
    let mut stored_revoked = revoked.clone();
    stored_revoked.revision = approval.revision + 1;
    let mut approved_again = revoked;
    approved_again.revoked_at = None;
    approved_again.revoke_reason = None;
    replace(&world, &stored_revoked, approved_again, true).await;
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    assert_eq!(
        google_calls(&world, "compute.instances.get") - instances_before,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_re_signed_with_other_secrets_releases_the_new_secrets() {
    let world = World::start().await;
    let first = sample_secrets("first");
    let approval = approve(&world, GOOD_VM, &first).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let released = world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    let expected: Vec<(String, Vec<u8>)> = first
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    assert_eq!(data(&released), expected);

    let second = sample_secrets("second");
    let mut resigned = approval.clone();
    resigned.secrets = seal_secrets(&world, GOOD_VM_ID, &second);
    replace(&world, &approval, resigned, true).await;
    let released = world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    let expected: Vec<(String, Vec<u8>)> = second
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    assert_eq!(data(&released), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_edited_behind_its_signature_after_a_release_is_denied_by_approval_signature() {
    let world = World::start().await;
    let approval = approve(&world, GOOD_VM, &sample_secrets("edited")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));

    // The signature stays, the signed content changes: the remembered "signature verified" must not
    // carry over to this record.
    let mut edited = approval.clone();
    edited.expires_at = Some(chrono::Utc::now() + chrono::Duration::days(365));
    replace(&world, &approval, edited, false).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.signature"],
    );
}
