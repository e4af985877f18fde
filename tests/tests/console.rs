//! End-to-end through the full-screen console: the real `tokendist console` in tmux (keys in with
//! `send-keys`, the screen out with `capture-pane`) approves the demo's good VM while its real
//! `tokenclient` waits pending, and the client receives every secret byte-identical; History then
//! shows the release with its receipt; revoking it in the console takes the secrets away again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use support::{DEADLINE, GOOD_VM, POLL_INTERVAL, World, bin};
use tokendist_testkit::tmux::Session;

/// How long a screen may take (the first detail calls gcpsim; the machine may be busy).
const SCREEN: Duration = Duration::from_secs(60);

/// The console against the world's store, settings and gcpsim, as Alice would start it.
fn console(world: &World) -> Session {
    let path = |name: &str| world.path(name).display().to_string();
    let command = [
        bin("tokendist").display().to_string(),
        "console".to_owned(),
        "--key".to_owned(),
        path("alice.key"),
        "--secrets".to_owned(),
        path("secrets.json"),
        "--server-key".to_owned(),
        path("server-keys/secrets.pub"),
        "--log-file".to_owned(),
        path("console.log"),
    ];
    Session::builder(&command)
        .size(160, 48)
        .env("TOKENDIST_STORE", world.store_url())
        .env("TOKENDIST_SETTINGS", path("settings.toml"))
        .env("TOKENDIST_GCP_ANONYMOUS", "true")
        .env(
            "TOKENDIST_SERVER_RECEIPT_KEY",
            path("server-keys/receipt.pub"),
        )
        .env(
            "TOKENDIST_COMPUTE_ENDPOINT",
            format!("http://{}", world.api),
        )
        .env(
            "TOKENDIST_LOGGING_ENDPOINT",
            format!("http://{}", world.api),
        )
        .env("TERM", "xterm-256color")
        .start()
}

/// Waits for `text` on screen without blocking the runtime's other tasks.
fn wait(tmux: &Session, text: &str) -> String {
    tokio::task::block_in_place(|| tmux.wait_for(text, SCREEN)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_approves_then_revokes_the_good_vm_in_the_console_and_its_client_follows() {
    let world = World::start().await;
    let client = world.pending_good_vm().await;

    let tmux = console(&world);
    wait(&tmux, GOOD_VM);
    tmux.send_text("/");
    tmux.send_text(GOOD_VM);
    tmux.send_keys(&["Enter"]);
    wait(&tmux, "Checks ");
    tmux.send_text("a");
    wait(&tmux, "What will be signed");
    if world.vm_tpm.is_none() {
        // Only on a machine without swtpm (TOKENDIST_TEST_SKIP_TPM=1): seal to the server instead.
        tmux.send_keys(&["Tab", "Tab", "Space", "Tab", "Enter"]);
        wait(&tmux, "encrypted to the token server");
    }
    let plan = wait(&tmux, "✔ every check passes");
    if world.vm_tpm.is_some() {
        // Sealed to the VM's vTPM: the EK Google publishes and the PCRs of its last verified quote.
        assert!(!plan.contains("not sealed to a vTPM"), "{plan}");
        assert!(plan.contains("0="), "{plan}");
    }
    // No is the default: Enter cancels; `y` approves.
    tmux.send_text("y");
    let outcome = wait(&tmux, &format!("Approved {GOOD_VM}"));
    assert!(outcome.contains("revision 1"), "{outcome}");

    client
        .assert_receives(&world.secrets, POLL_INTERVAL + DEADLINE)
        .await;

    // History (tab 6) shows the release with its receipt once the console refreshes.
    tmux.send_text("6");
    let history = wait(&tmux, "released ");
    assert!(history.contains("receipt"), "{history}");

    // Alice revokes it in the console (the VM's name typed exactly, and a reason): the server denies
    // the VM's next request and its client removes the secrets.
    tmux.send_keys(&["Escape"]);
    tmux.send_text("x");
    wait(&tmux, "Revoke");
    tmux.send_text(GOOD_VM);
    tmux.send_keys(&["Tab"]);
    tmux.send_text("decommissioned in the console test");
    tmux.send_keys(&["Enter"]);
    let outcome = wait(&tmux, &format!("Revoked {GOOD_VM}"));
    assert!(outcome.contains("revision 2"), "{outcome}");
    client
        .assert_revoked(&world.secrets, "approval.state")
        .await;
    tmux.send_text("q");
    world.assert_logs_free_of_secrets();
}
