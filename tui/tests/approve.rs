//! `tokendist approve`, run as the real binary against gcpsim and a temporary SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine as _;
use support::{Console, GOOD_VM, GOOD_VM_ID, SECRET_VALUES, TAMPERED_VM, TAMPERED_VM_ID};
use tokendist_core::approval::verify;
use tokendist_core::server_seal;
use tokendist_store::{EventDetail, EventKind, EventQuery};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_the_good_vm_stores_a_signed_approval_with_encrypted_secrets_only() {
    let console = Console::start().await;
    let run = console
        .approve(GOOD_VM, &["--yes", "--no-tpm", "--expires", "30d"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("Approved {GOOD_VM} (id {GOOD_VM_ID}): revision 1")),
        "{}",
        run.stdout
    );
    // What will be signed is shown before it is: the pins, the expiry, the secrets by name only.
    let shown = run
        .stdout
        .split("What will be signed")
        .nth(1)
        .unwrap_or_default();
    for expected in [
        "TPM               not required",
        "revision          1 (first approval)",
        "secret            db-password (RAW, 33 bytes, hpke-x25519)",
        "secret            keyset (TINK",
    ] {
        assert!(shown.contains(expected), "{expected}: {}", run.stdout);
    }
    assert!(!shown.contains("expires           never"), "{}", run.stdout);

    let store = console.store().await;
    let approval = store
        .get_approval(GOOD_VM_ID)
        .await
        .unwrap()
        .expect("approval stored");
    verify(&approval, &[console.alice_public()]).unwrap();
    assert_eq!(approval.revision, 1);
    assert!(!approval.require_tpm);
    assert!(approval.expires_at.is_some());
    assert_eq!(
        approval.boot_images,
        ["projects/cos-cloud/global/images/cos-stable-109-17800-147-54"]
    );
    let names: Vec<&str> = approval.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["db-password", "keyset"]);

    // Only the server's secrets key opens them, bound to this instance and name.
    let server_key = tokendist_core::keys::x25519_private_from_pem(
        &std::fs::read_to_string(console.path("server/secrets.key")).unwrap(),
    )
    .unwrap();
    for (secret, value) in approval.secrets.iter().zip(SECRET_VALUES) {
        assert_eq!(secret.protection, "hpke-x25519");
        assert_eq!(secret.plaintext_len, value.len() as u64);
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&secret.data)
            .unwrap();
        let opened = server_seal::open(
            &server_key,
            &sealed,
            &server_seal::binding(GOOD_VM_ID, &secret.name),
        )
        .unwrap();
        assert_eq!(&opened[..], value.as_bytes());
    }

    let bytes = console.store_bytes();
    for value in SECRET_VALUES {
        assert!(
            !support::contains(&bytes, value.as_bytes()),
            "plaintext {value} in the store"
        );
        assert!(
            !support::contains(&bytes, support::b64(value).as_bytes()),
            "base64 of {value} in the store"
        );
        assert!(
            !run.stdout.contains(value) && !run.stderr.contains(value),
            "secret printed"
        );
    }

    let events = store
        .list_events(&EventQuery::latest(10).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Approved);
    let EventDetail::Approved(detail) = &events[0].detail else {
        panic!("not an approved detail: {:?}", events[0].detail)
    };
    assert_eq!(detail.forced_reason, None);
    assert_eq!(detail.secrets[0].name, "db-password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_approval_replaces_the_record_at_the_next_revision_and_removes_the_pending_record() {
    let console = Console::start().await;
    let store = console.store().await;
    store
        .upsert_pending(&support::pending_attempt(GOOD_VM_ID, GOOD_VM))
        .await
        .unwrap();
    assert_eq!(
        console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await.code,
        0
    );
    assert!(
        store.get_pending(GOOD_VM_ID).await.unwrap().is_none(),
        "pending record removed"
    );
    let second = console.approve(GOOD_VM_ID, &["--yes", "--no-tpm"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert_eq!(approval.revision, 2);
    verify(&approval, &[console.alice_public()]).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_the_tampered_vm_is_refused_naming_the_failed_checks() {
    let console = Console::start().await;
    let run = console.approve(TAMPERED_VM, &["--yes", "--no-tpm"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    for check in [
        "instance.metadata",
        "auditlog.clean",
        "cloudconfig.image_pinned",
    ] {
        assert!(
            run.stderr.contains(check),
            "{check} not named: {}",
            run.stderr
        );
        assert!(
            run.stdout.contains(&format!("✘ {check}")),
            "{check} not marked: {}",
            run.stdout
        );
    }
    assert!(run.stderr.contains("--force --reason"), "{}", run.stderr);
    let store = console.store().await;
    assert!(
        store.get_approval(TAMPERED_VM_ID).await.unwrap().is_none(),
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forcing_the_tampered_vm_is_refused_because_its_ssh_keys_are_never_approvable() {
    // `instance.metadata` fails on instance ssh-keys at every release, so no reason makes an approval
    // of this VM usable (forcing a failed check that can pass later: see project_metadata.rs).
    let console = Console::start().await;
    let reason = "lab VM, Bob's ssh key is expected";
    let run = console
        .approve(
            TAMPERED_VM,
            &["--yes", "--no-tpm", "--force", "--reason", reason],
        )
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("\"ssh-keys\""), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--force --reason does not override this"),
        "{}",
        run.stderr
    );
    let store = console.store().await;
    assert!(store.get_approval(TAMPERED_VM_ID).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_without_a_reason_is_a_usage_error() {
    let console = Console::start().await;
    let run = console
        .approve(TAMPERED_VM, &["--yes", "--no-tpm", "--force"])
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--reason"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_without_a_terminal_or_yes_is_refused_and_says_to_pass_yes() {
    let console = Console::start().await;
    let run = console.approve(GOOD_VM, &["--no-tpm"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert!(
        console
            .store()
            .await
            .get_approval(GOOD_VM_ID)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tpm_without_the_servers_key_is_a_usage_error_naming_server_key() {
    let console = Console::start().await;
    let (secrets, key) = (console.arg("secrets.json"), console.arg("alice.key"));
    let run = console
        .run(&[
            "approve",
            GOOD_VM,
            "--project",
            support::PROJECT,
            "--zone",
            support::ZONE,
            "--secrets",
            &secrets,
            "--key",
            &key,
            "--yes",
            "--no-tpm",
        ])
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--server-key"), "{}", run.stderr);
    assert!(
        console
            .store()
            .await
            .get_approval(GOOD_VM_ID)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_secrets_file_exits_1_naming_the_entry_without_its_data() {
    let console = Console::start().await;
    console.write_secrets(r#"[{"name":"ok","type":"RAW","data":"YQ=="},{"name":"api-token","type":"RAW","data":"s3cr3t value!"}]"#);
    let run = console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("entry #2 (\"api-token\")"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not valid base64"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);

    console.write_secrets(
        r#"[{"name":"a","type":"RAW","data":"YQ=="},{"name":"a","type":"TINK","data":"YQ=="}]"#,
    );
    let run = console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("entry #2 (\"a\")") && run.stderr.contains("unique"),
        "{}",
        run.stderr
    );
}
