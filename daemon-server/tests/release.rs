//! `GetToken` against the real `tokenserver` binary over mTLS with gcpsim: an approved VM receives its
//! secrets with a verifiable receipt (and the release is recorded), and every way the VM, its token,
//! its approval or its connection can be wrong is denied with the named check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::approvals::{self, approve, approve_with, sample_secrets};
use support::client::{self, assert_denied, get_token};
use support::world::World;
use support::{GOOD_VM, GOOD_VM_ID, TAMPERED_VM, TAMPERED_VM_ID};
use tokendist_core::receipt::Receipt;
use tokendist_sim::{Api, FaultSpec, MintTokenRequest};
use tokendist_store::{EventKind, EventQuery};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_vm_receives_its_secrets_with_a_verifiable_receipt_and_the_release_is_recorded() {
    let world = World::start().await;
    let secrets = sample_secrets("release");
    approve_with(&world, GOOD_VM, &secrets, |approval| {
        // Pins that hold for this caller must pass, not merely be skipped.
        approval.peer_address = Some("127.0.0.1".into());
        approval.client_cert_serial = Some(world.client_identity.serial_hex.clone());
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    let response = get_token(&mut client, &world.good_token(), "")
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.stderr()));

    let received: Vec<(String, Vec<u8>)> = response
        .secrets
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    let expected: Vec<(String, Vec<u8>)> = secrets
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    assert_eq!(received, expected);
    assert!(
        response
            .secrets
            .iter()
            .all(|s| s.r#type == tokendist_proto::v1::SecretType::Raw as i32)
    );

    let wire = response.receipt.unwrap();
    let receipt = Receipt {
        event_id: wire.event_id.clone(),
        instance_id: GOOD_VM_ID.into(),
        secrets: secrets.iter().map(|s| s.name.clone()).collect(),
        evidence_digest: hex::encode(&wire.evidence_digest),
        issued_at: chrono::DateTime::from_timestamp(wire.issued_at_unix, 0).unwrap(),
        key_id: wire.key_id.clone(),
        signature: base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &wire.signature,
        ),
    };
    receipt
        .verify(&world.keys.receipt.verifying_key())
        .expect("the receipt verifies with the server's receipt key");
    let mut forged = receipt.clone();
    forged.instance_id = TAMPERED_VM_ID.into();
    assert!(forged.verify(&world.keys.receipt.verifying_key()).is_err());

    let events = world
        .store
        .list_events(&EventQuery::latest(100).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    let released: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Released)
        .collect();
    assert_eq!(released.len(), 1, "{events:?}");
    assert_eq!(released[0].id.as_str(), wire.event_id);
    let stored: Receipt = serde_json::from_value(released[0].receipt.clone().unwrap()).unwrap();
    assert_eq!(stored.signature, receipt.signature);
    stored.verify(&world.keys.receipt.verifying_key()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_vm_is_denied_pending_approval_and_its_attempts_are_counted() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("good")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;

    for _ in 0..2 {
        let status = assert_denied(
            get_token(&mut client, &world.token(TAMPERED_VM), "").await,
            Code::PermissionDenied,
            &["approval.state"],
        );
        let denial = tokendist_server::status::denial_of(&status).unwrap();
        assert!(denial.pending_approval);
    }
    let pending = world.store.list_pending().await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].instance_id, TAMPERED_VM_ID);
    assert_eq!(pending[0].instance_name, TAMPERED_VM);
    assert_eq!(pending[0].attempts, 2);
    assert_eq!(pending[0].peer_address.as_deref(), Some("127.0.0.1"));
}
