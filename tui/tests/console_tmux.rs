//! The real `tokendist console` in tmux (`send-keys`, `capture-pane`) against gcpsim and a SQLite
//! store: Alice filters to the demo's good VM, approves it (encrypted to the token server), sees the
//! outcome line, and quits; the store then holds the signed approval and the pane's process is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{Console, GOOD_VM, GOOD_VM_ID};
use tokendist_core::approval::verify;
use tokendist_core::keys::ed25519_public_from_pem;

/// A tmux server of its own (its socket named after the test's directory), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "console"];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "console"]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text` (at most 60 s: the first detail calls gcpsim).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} on screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn session_alive(&self) -> bool {
        self.run(&["has-session", "-t", "console"]).status.success()
    }

    /// Starts `command` in a 160×48 session named `console`.
    fn start(&self, dir: &str, command: &str) {
        let started = self.run(&[
            "new-session",
            "-d",
            "-s",
            "console",
            "-x",
            "160",
            "-y",
            "48",
            "-c",
            dir,
            command,
        ]);
        assert!(started.status.success(), "{started:?}");
    }

    /// Waits until the session's process has ended.
    fn wait_gone(&self, why: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.session_alive() {
            assert!(Instant::now() < deadline, "{why} did not end the console");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// `VAR=value` words for the console's environment, shell-quoted.
fn quoted(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_approves_the_good_vm_in_the_console_and_quits() {
    let console = Console::start().await;
    let store = console.store().await;
    store
        .upsert_pending(&support::pending_attempt(GOOD_VM_ID, GOOD_VM))
        .await
        .unwrap();
    let sim = console.sim.as_ref().unwrap();
    let mut words = vec![
        "env".to_owned(),
        format!("TOKENDIST_STORE={}", console.store_url()),
        format!("TOKENDIST_SETTINGS={}", console.arg("settings.toml")),
        "TOKENDIST_GCP_ANONYMOUS=true".to_owned(),
        format!("TOKENDIST_COMPUTE_ENDPOINT={}", sim.api_url()),
        format!("TOKENDIST_LOGGING_ENDPOINT={}", sim.api_url()),
        "TERM=xterm-256color".to_owned(),
        env!("CARGO_BIN_EXE_tokendist").to_owned(),
        "console".to_owned(),
    ];
    words.extend(
        [
            ("--key", "alice.key"),
            ("--server-key", "server/secrets.pub"),
            ("--secrets", "secrets.json"),
            ("--log-file", "console.log"),
        ]
        .iter()
        .flat_map(|(flag, file)| [(*flag).to_owned(), console.arg(file)]),
    );
    let tmux = Tmux {
        socket: format!(
            "tokendist-test-{}",
            console.dir.path().file_name().unwrap().to_string_lossy()
        ),
    };
    let dir = console.arg("");
    tmux.start(&dir, &quoted(&words));

    tmux.wait_for(GOOD_VM);
    tmux.keys(&["/"]);
    tmux.keys(&["-l", GOOD_VM]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Checks ");
    tmux.keys(&["a"]);
    tmux.wait_for("What will be signed");
    // Buttons → secrets file → require TPM: off (no vTPM in this test), then on to the expiry.
    tmux.keys(&["Tab", "Tab", "Space", "Tab"]);
    tmux.wait_for("encrypted to the token server");
    let screen = tmux.wait_for("▸No");
    assert!(!screen.contains("check(s) fail"), "{screen}");
    tmux.keys(&["Enter", "y"]);
    let screen = tmux.wait_for(&format!("Approved {GOOD_VM}"));
    assert!(screen.contains("revision 1"), "{screen}");

    let alice =
        ed25519_public_from_pem(&std::fs::read_to_string(console.path("alice.pub")).unwrap())
            .unwrap();
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&approval, &[alice]).unwrap();
    assert_eq!(approval.secrets.len(), 2);

    tmux.keys(&["q"]);
    tmux.wait_gone("q");
    let log = std::fs::read_to_string(console.path("console.log")).unwrap();
    assert!(log.contains("console started"), "{log}");

    // SIGTERM ends it too (the loop's signal arm; the guard restores the terminal).
    tmux.start(&dir, &quoted(&words));
    tmux.wait_for("Approved (1)");
    let pid = String::from_utf8_lossy(
        &tmux
            .run(&["display-message", "-p", "-t", "console", "#{pane_pid}"])
            .stdout,
    )
    .trim()
    .to_owned();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    tmux.wait_gone("SIGTERM");
    let log = std::fs::read_to_string(console.path("console.log")).unwrap();
    assert!(log.contains("stopped by a signal"), "{log}");
}
