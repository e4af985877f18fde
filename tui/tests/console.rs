//! The full-screen console against gcpsim and a SQLite store, twice: without a terminal (the pure
//! update function and the real effects runner: filter, select, approve, confirm, revoke), and as
//! the real `tokendist console` in tmux (`testkit::tmux`: filter, approve, quit, SIGTERM).
//! Each ends with signed records in the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::{Console, GOOD_VM, GOOD_VM_ID};
use tokendist_core::approval::verify;
use tokendist_core::keys::ed25519_public_from_pem;
use tokendist_testkit::tmux::Session;
use tokendist_tui::console::effects::{EffectFiles, Effects};
use tokendist_tui::console::event::Event;
use tokendist_tui::console::keymap::Keymap;
use tokendist_tui::console::model::{Dialog, Model, PlanState, Tone};
use tokendist_tui::console::update::update;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The model, the real effects runner and the channel its results come back on.
struct Driver {
    model: Model,
    effects: Effects,
    results: UnboundedReceiver<Event>,
}

impl Driver {
    fn apply(&mut self, event: Event) {
        for command in update(&mut self.model, event) {
            self.effects.run(command);
        }
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.apply(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Feeds background results into the model until `done` holds (at most 60 s).
    async fn settle(&mut self, what: &str, done: impl Fn(&Model) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&self.model) {
            let event = tokio::time::timeout_at(deadline, self.results.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", self.model.status))
                .unwrap();
            self.apply(event);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_update_and_the_effects_runner_approve_then_revoke() {
    let console = Console::start().await;
    let path = |name: &str| console.path(name);
    let ctx = console.context().await;
    let store = ctx.store.clone();
    // The good VM asked for secrets and was denied for want of an approval.
    store
        .upsert_pending(&support::pending_attempt(GOOD_VM_ID, GOOD_VM))
        .await
        .unwrap();
    let (sender, results) = unbounded_channel();
    let effects = Effects::new(
        ctx,
        EffectFiles {
            approver_key: Some(path("alice.key")),
            server_key: Some(path("server/secrets.pub")),
            secrets_dir: console.dir.path().to_owned(),
        },
        sender,
    );
    let mut driver = Driver {
        model: Model::new(Keymap::default(), false, Utc::now()),
        effects,
        results,
    };

    // Open: the first tick loads the list, the first VM's detail follows.
    driver.apply(Event::Tick(Utc::now()));
    driver
        .settle("the list", |m| m.list.loaded_at.is_some())
        .await;
    // Filter and select.
    driver.keys("/");
    driver.keys(GOOD_VM);
    driver.key(KeyCode::Enter);
    assert_eq!(driver.model.list.selected.as_deref(), Some(GOOD_VM_ID));
    driver
        .settle("the detail", |m| m.selected_detail().is_some())
        .await;
    // Approve: choose the secrets file, encrypt to the server (no TPM in this test), confirm.
    driver.keys("a");
    driver
        .settle(
            "the secrets files",
            |m| matches!(&m.dialog, Some(Dialog::Approve(d)) if !d.secrets_choices.is_empty()),
        )
        .await;
    driver.key(KeyCode::Right);
    driver.key(KeyCode::Tab);
    driver.keys(" ");
    driver.key(KeyCode::Tab);
    driver
        .settle("the plan", |m| {
            matches!(&m.dialog, Some(Dialog::Approve(d)) if !matches!(d.plan, PlanState::Loading))
        })
        .await;
    let Some(Dialog::Approve(dialog)) = &driver.model.dialog else {
        panic!("the dialog closed: {:?}", driver.model.status);
    };
    let PlanState::Ready(plan) = &dialog.plan else {
        panic!("no plan: {:?}", dialog.plan);
    };
    assert_eq!(plan.instance_id, GOOD_VM_ID);
    // The focus is on the expiry field; Enter goes to the buttons (after a reason when needed).
    if !plan.failed_checks.is_empty() {
        driver.key(KeyCode::Tab);
        driver.keys("reviewed in the console flow test");
    }
    driver.key(KeyCode::Enter);
    driver.keys("y");
    assert!(driver.model.busy.is_some(), "{:?}", driver.model.dialog);
    driver.settle("the approval", |m| m.busy.is_none()).await;
    let status = driver.model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Success, "{status:?}");
    let alice =
        ed25519_public_from_pem(&std::fs::read_to_string(path("alice.pub")).unwrap()).unwrap();
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&approval, &[alice]).unwrap();
    assert_eq!(approval.secrets.len(), 2);
    assert!(approval.revoked_at.is_none());
    assert!(store.get_pending(GOOD_VM_ID).await.unwrap().is_none());

    // The list refreshes: the VM is approved now. Revoke it.
    driver
        .settle("the refreshed list", |m| {
            m.list.selected_row().is_some_and(|r| r.revision.is_some()) && !m.list.loading
        })
        .await;
    driver.key(KeyCode::Esc);
    driver.keys("x");
    assert!(
        matches!(driver.model.dialog, Some(Dialog::Revoke(_))),
        "{:?}",
        driver.model.status
    );
    driver.keys(GOOD_VM);
    driver.key(KeyCode::Tab);
    driver.keys("flow test");
    driver.key(KeyCode::Enter);
    driver.settle("the revocation", |m| m.busy.is_none()).await;
    let status = driver.model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Success, "{status:?}");
    let revoked = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert_eq!(revoked.revoke_reason.as_deref(), Some("flow test"));
    verify(&revoked, &[alice]).unwrap();
}

/// How long a screen may take (the first detail calls gcpsim; the machine may be busy).
const SCREEN: Duration = Duration::from_secs(60);

/// `tokendist console` with `args`, against the console's store, settings and gcpsim, at 160×48.
fn console_session(console: &Console, args: &[String]) -> Session {
    let mut command = vec![
        env!("CARGO_BIN_EXE_tokendist").to_owned(),
        "console".to_owned(),
    ];
    command.extend(args.iter().cloned());
    let mut builder = Session::builder(&command)
        .size(160, 48)
        .env("TOKENDIST_STORE", console.store_url())
        .env("TOKENDIST_SETTINGS", console.arg("settings.toml"))
        .env("TOKENDIST_GCP_ANONYMOUS", "true")
        .env("TERM", "xterm-256color")
        .env("RUST_LOG", "tokendist_tui=debug");
    if let Some(sim) = &console.sim {
        builder = builder
            .env("TOKENDIST_COMPUTE_ENDPOINT", sim.api_url())
            .env("TOKENDIST_LOGGING_ENDPOINT", sim.api_url());
    }
    builder.start()
}

/// Waits until the console's process has exited; returns its exit status (128 + N for signal N).
fn exited(session: &Session, why: &str) -> i32 {
    let mut status = None;
    session
        .wait_until(
            &format!("{why} to end the console"),
            Duration::from_secs(10),
            |_| {
                status = session.exit_status();
                status.is_some()
            },
        )
        .unwrap();
    status.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_approves_the_good_vm_in_the_console_and_quits() {
    let console = Console::start().await;
    let store = console.store().await;
    store
        .upsert_pending(&support::pending_attempt(GOOD_VM_ID, GOOD_VM))
        .await
        .unwrap();
    let args: Vec<String> = [
        ("--key", "alice.key"),
        ("--server-key", "server/secrets.pub"),
        ("--secrets", "secrets.json"),
        ("--log-file", "console.log"),
    ]
    .iter()
    .flat_map(|(flag, file)| [(*flag).to_owned(), console.arg(file)])
    .collect();
    let tmux = console_session(&console, &args);
    let wait = |text: &str| tmux.wait_for(text, SCREEN).unwrap();

    wait(GOOD_VM);
    tmux.send_text("/");
    tmux.send_text(GOOD_VM);
    tmux.send_keys(&["Enter"]);
    wait("Checks ");
    tmux.send_text("a");
    wait("What will be signed");
    // Buttons → secrets file → require TPM: off (no vTPM in this test), then on to the expiry.
    tmux.send_keys(&["Tab", "Tab", "Space", "Tab"]);
    wait("encrypted to the token server");
    let screen = wait("▸No");
    assert!(!screen.contains("check(s) fail"), "{screen}");
    tmux.send_keys(&["Enter", "y"]);
    let screen = wait(&format!("Approved {GOOD_VM}"));
    assert!(screen.contains("revision 1"), "{screen}");

    let alice =
        ed25519_public_from_pem(&std::fs::read_to_string(console.path("alice.pub")).unwrap())
            .unwrap();
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&approval, &[alice]).unwrap();
    assert_eq!(approval.secrets.len(), 2);

    tmux.send_text("q");
    assert_eq!(exited(&tmux, "q"), 0);
    let log = std::fs::read_to_string(console.path("console.log")).unwrap();
    assert!(log.contains("console started"), "{log}");
    // The first frame's time is logged (how it is measured with 10,000 VMs).
    assert!(
        log.contains("first frame with the list vms=1 elapsed_ms="),
        "{log}"
    );

    // SIGTERM ends it too (the loop's signal arm; the guard restores the terminal).
    let tmux = console_session(&console, &args);
    tmux.wait_for("Approved (1)", SCREEN).unwrap();
    let pid = tmux.pid();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(exited(&tmux, "SIGTERM"), 0);
    let log = std::fs::read_to_string(console.path("console.log")).unwrap();
    assert!(log.contains("stopped by a signal"), "{log}");
}
