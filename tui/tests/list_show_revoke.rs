//! `tokendist list`, `show` and `revoke`, run as the real binary against gcpsim and a temporary
//! SQLite store: the JSON shapes scripts rely on, the checks shown, and signed revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{Console, GOOD_VM, GOOD_VM_ID, PROJECT, TAMPERED_VM, TAMPERED_VM_ID, ZONE};
use tokendist_core::approval::verify;
use tokendist_store::{EventDetail, EventKind, EventQuery};

fn check<'a>(show: &'a Value, name: &str) -> &'a Value {
    show["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("check {name} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_json_shows_pending_and_approved_vms_with_the_documented_fields() {
    let console = Console::start().await;
    let store = console.store().await;
    store
        .upsert_pending(&support::pending_attempt(TAMPERED_VM_ID, TAMPERED_VM))
        .await
        .unwrap();
    store
        .upsert_pending(&support::pending_attempt(TAMPERED_VM_ID, TAMPERED_VM))
        .await
        .unwrap();
    assert_eq!(
        console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await.code,
        0
    );

    let run = console.run(&["list", "--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let list = run.json();
    let vms = list["vms"].as_array().unwrap();
    assert_eq!(vms.len(), 2);
    let pending = &vms[0];
    assert_eq!(pending["state"], "pending");
    assert_eq!(pending["instance_id"], TAMPERED_VM_ID);
    assert_eq!(pending["name"], TAMPERED_VM);
    assert_eq!(pending["project"], PROJECT);
    assert_eq!(pending["zone"], ZONE);
    assert_eq!(pending["attempts"], 2);
    assert_eq!(
        pending["failed_checks"],
        serde_json::json!(["approval.state"])
    );
    assert!(pending["last_seen"].is_string() && pending["approved_at"].is_null());
    assert_eq!(pending["group"], "pending");
    assert_eq!(
        pending["verdict"],
        serde_json::json!({"evaluated": 1, "failed": ["approval.state"]})
    );
    let approved = &vms[1];
    assert_eq!(approved["group"], "approved");
    assert!(approved["verdict"].is_null());
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["instance_id"], GOOD_VM_ID);
    assert_eq!(approved["revision"], 1);
    assert_eq!(approved["attempts"], 0);
    assert!(approved["approved_at"].is_string() && approved["revoked_at"].is_null());
    let mut keys: Vec<&str> = approved
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut documented = [
        "instance_id",
        "name",
        "project",
        "zone",
        "state",
        "approved_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
        "revision",
        "first_seen",
        "last_seen",
        "attempts",
        "failed_checks",
        "group",
        "verdict",
    ];
    documented.sort_unstable();
    assert_eq!(keys, documented);

    let table = console.run(&["list"]).await;
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.starts_with("INSTANCE ID"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains(&format!("{TAMPERED_VM_ID}  {TAMPERED_VM}")),
        "{}",
        table.stdout
    );
}

/// A pending VM whose own checks failed (tampered) is marked ✘ and listed first among the pending
/// ones when it was seen last; one that only waits for its approval is marked –.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tells_a_tampered_pending_vm_from_one_that_only_waits_for_approval() {
    let console = Console::start().await;
    let store = console.store().await;
    let mut waiting = support::pending_attempt(GOOD_VM_ID, GOOD_VM);
    waiting.checks_evaluated = Some(16);
    store.upsert_pending(&waiting).await.unwrap();
    let mut tampered = support::pending_attempt(TAMPERED_VM_ID, TAMPERED_VM);
    tampered.seen_at = waiting.seen_at + chrono::Duration::seconds(1);
    tampered.checks_evaluated = Some(16);
    tampered
        .failed_checks
        .extend(
            ["instance.metadata", "auditlog.clean"].map(|name| tokendist_store::FailedCheck {
                name: name.to_owned(),
                reason: "tampered".to_owned(),
            }),
        );
    store.upsert_pending(&tampered).await.unwrap();

    let run = console.run(&["list"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].contains("VERDICT"), "{}", run.stdout);
    assert!(
        lines[1].contains(TAMPERED_VM) && lines[1].contains("✘ 13/16"),
        "{}",
        run.stdout
    );
    assert!(
        lines[2].contains(GOOD_VM) && lines[2].contains("– 15/16"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when piped: {}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_json_of_an_unapproved_vm_evaluates_the_proposal_with_every_check() {
    let console = Console::start().await;
    let show = console.show_json(TAMPERED_VM).await;
    assert_eq!(show["evaluated_against"], "proposal");
    assert!(show["approval"].is_null());
    assert_eq!(show["instance"]["instance_id"], TAMPERED_VM_ID);
    assert_eq!(
        show["instance"]["nat_ips"],
        serde_json::json!(["34.121.225.37"])
    );
    assert!(
        show["boot_disk"]["source_image"]
            .as_str()
            .unwrap()
            .contains("cos-cloud")
    );
    assert!(
        show["shielded_identity"]["ek_pub_pem"]
            .as_str()
            .unwrap()
            .contains("PUBLIC KEY")
    );
    assert_eq!(show["errors"], serde_json::json!([]));
    assert_eq!(show["cloud_config_review"].as_array().unwrap().len(), 5);
    let timeline = show["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e["method"].as_str().unwrap().ends_with("setMetadata"))
    );
    assert_eq!(check(&show, "instance.metadata")["outcome"], "fail");
    assert_eq!(
        check(&show, "instance.metadata")["reason"],
        "\"ssh-keys\" adds SSH keys that log in to the VM (never approvable)"
    );
    assert!(check(&show, "instance.shielded")["reason"].is_null());
    assert_eq!(check(&show, "instance.shielded")["outcome"], "pass");
    assert_eq!(check(&show, "identity.signature")["outcome"], "skipped");
    assert_eq!(
        show["failed_checks"],
        serde_json::json!([
            "instance.metadata",
            "auditlog.clean",
            "cloudconfig.template",
            "cloudconfig.image_pinned",
            "cloudconfig.image_trusted"
        ])
    );
    let names: Vec<&str> = show["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in tokendist_core::checks::RELEASE_CHECKS
        .iter()
        .chain(&tokendist_core::checks::REVIEW_CHECKS)
    {
        assert!(names.contains(name), "{name} not shown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_by_id_of_an_approved_vm_finds_it_in_the_store_and_checks_the_approval() {
    let console = Console::start().await;
    assert_eq!(
        console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await.code,
        0
    );
    let run = console
        .run(&[
            "show",
            GOOD_VM_ID,
            "--json",
            "--trust-key",
            &console.arg("alice.pub"),
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let show = run.json();
    assert_eq!(show["evaluated_against"], "approval");
    assert_eq!(show["target"]["name"], GOOD_VM);
    assert_eq!(show["approval"]["revision"], 1);
    assert_eq!(show["approval"]["secrets"][0]["name"], "db-password");
    assert!(
        show["approval"]["secrets"][0].get("data").is_none(),
        "secret bytes must not be shown"
    );
    assert_eq!(check(&show, "approval.signature")["outcome"], "pass");
    assert_eq!(check(&show, "approval.state")["outcome"], "pass");
    assert_eq!(check(&show, "tpm.ek")["outcome"], "skipped");
    assert_eq!(show["failed_checks"], serde_json::json!([]));

    // Without trusting Alice's key the same approval fails approval.signature, as on the server.
    let untrusted = console.run(&["show", GOOD_VM_ID, "--json"]).await.json();
    assert_eq!(check(&untrusted, "approval.signature")["outcome"], "fail");

    let text = console.run(&["show", GOOD_VM]).await;
    assert!(
        text.stdout.contains("✔ instance.user_data"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("Checks (against the stored approval)"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_of_a_vm_the_store_does_not_know_needs_project_and_zone() {
    let console = Console::start().await;
    let run = console.run(&["show", GOOD_VM]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--project and --zone"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_sets_revoked_at_in_a_record_whose_signature_still_verifies() {
    let console = Console::start().await;
    assert_eq!(
        console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await.code,
        0
    );
    let key = console.arg("alice.key");

    let unconfirmed = console
        .run(&[
            "revoke",
            GOOD_VM,
            "--reason",
            "decommissioned",
            "--key",
            &key,
        ])
        .await;
    assert_eq!(unconfirmed.code, 3, "{unconfirmed:?}");
    assert!(
        unconfirmed.stderr.contains("pass --yes"),
        "{}",
        unconfirmed.stderr
    );

    let run = console
        .run(&[
            "revoke",
            GOOD_VM,
            "--reason",
            "decommissioned",
            "--key",
            &key,
            "--yes",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let store = console.store().await;
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert!(approval.revoked_at.is_some());
    assert_eq!(approval.revoke_reason.as_deref(), Some("decommissioned"));
    assert_eq!(approval.revision, 2);
    verify(&approval, &[console.alice_public()]).unwrap();
    let events = store
        .list_events(&EventQuery::latest(10).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    assert_eq!(events[0].kind, EventKind::Revoked);
    let EventDetail::Revoked(detail) = &events[0].detail else {
        panic!("not a revoked detail: {:?}", events[0].detail)
    };
    assert_eq!(detail.reason, "decommissioned");

    let list = console.run(&["list", "--json"]).await.json();
    assert_eq!(list["vms"][0]["state"], "revoked");
    let again = console
        .run(&[
            "revoke", GOOD_VM_ID, "--reason", "twice", "--key", &key, "--yes",
        ])
        .await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("already revoked"), "{}", again.stderr);
}
