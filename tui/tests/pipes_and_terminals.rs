//! `tokendist` behaves like the tools operators know: a reader that closes the pipe early
//! (`tokendist show VM | head -1`) ends it quietly, and ✔ / ✘ / – are coloured on a terminal only
//! (never when piped, never with `NO_COLOR`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Stdio;

use support::{Console, GOOD_VM, PROJECT, ZONE};

/// Before this was fixed the write error was reported on stderr — which `2>&1 | head -1` had also
/// closed, so `eprintln!` panicked: exit 101.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_show_quietly_without_a_panic() {
    let console = Console::start().await;
    let mut command = console.command(&["show", GOOD_VM, "--project", PROJECT, "--zone", ZONE]);
    // Both streams go to the reader that leaves, as with `2>&1 | head -1`.
    // The reader is gone before the first write, so the result does not depend on timing.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut child = command.spawn().unwrap();
    drop(command);
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(141), "{status:?}");
}

/// With only stdout closed, nothing is said on stderr either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_is_not_reported_as_an_error() {
    let console = Console::start().await;
    let mut command = console.command(&["show", GOOD_VM, "--project", PROJECT, "--zone", ZONE]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command.stdout(writer).stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    drop(command);
    let output = child.wait_with_output().await.unwrap();
    assert_eq!(output.status.code(), Some(141), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

/// `show` on a terminal (a pty from `script`): the marks are coloured; with `NO_COLOR` they are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let console = Console::start().await;
    let binary = env!("CARGO_BIN_EXE_tokendist");
    let show = format!("{binary} show {GOOD_VM} --project {PROJECT} --zone {ZONE}");
    let on_a_tty = |no_color: bool| {
        let command = console.command(&[]);
        let mut script = std::process::Command::new("script");
        script.args(["-qec", &show, "/dev/null"]).env_clear();
        for (key, value) in command.as_std().get_envs() {
            if let Some(value) = value {
                script.env(key, value);
            }
        }
        script.env("TERM", "xterm");
        if no_color {
            script.env("NO_COLOR", "1");
        }
        let output = script.stdin(Stdio::null()).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_a_tty(false);
    assert!(coloured.contains("\u{1b}[32m✔\u{1b}[0m"), "{coloured}");
    assert!(coloured.contains("\u{1b}[2m–\u{1b}[0m"), "{coloured}");
    let plain = on_a_tty(true);
    assert!(plain.contains('✔') && !plain.contains('\u{1b}'), "{plain}");
}
