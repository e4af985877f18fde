//! A command in a detached tmux session of a given size, for tests that drive a full-screen program
//! through a real terminal: keys in (`send-keys`), the screen out (`capture-pane`), bounded waits for
//! what the screen shows. Each session has its own tmux server on a socket in a temporary directory,
//! so tests never touch the user's tmux; the server is killed when the session is dropped. The pane
//! stays on screen after the command exits (`remain-on-exit`), so its last screen and exit status can
//! still be read. A missing tmux fails the test naming the Debian package to install.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How often `wait_for` captures the screen.
const POLL: Duration = Duration::from_millis(50);

/// The session's name on its private server.
const SESSION: &str = "test";

/// The private server's configuration: no status line (the program gets the whole size), the pane
/// kept after the program exits, no delay after Escape.
const CONFIG: &str = "set -g status off\nset -g remain-on-exit on\nset -s escape-time 0\n";

/// A wait for the screen that timed out; its display shows the last screen.
#[derive(Debug, thiserror::Error)]
#[error("waited {waited:?} for {wanted}; the last screen was:\n{last_screen}")]
pub struct WaitTimeout {
    /// What was waited for.
    pub wanted: String,
    /// How long.
    pub waited: Duration,
    /// The screen at the last capture.
    pub last_screen: String,
}

/// A command running in a detached tmux session; its tmux server is killed on drop.
#[derive(Debug)]
pub struct Session {
    /// Holds the server's socket and configuration; removed after the server is killed.
    dir: TempDir,
}

/// How to start a [`Session`]: the command, the terminal size and extra environment variables.
#[derive(Debug, Clone)]
pub struct SessionBuilder {
    command: Vec<String>,
    width: u16,
    height: u16,
    env: Vec<(String, String)>,
}

impl SessionBuilder {
    /// Sets the terminal size in cells (default 80×24).
    pub fn size(mut self, width: u16, height: u16) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// Adds an environment variable for the command.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Starts the command in a new detached session. Panics (naming the package) when tmux is
    /// missing, or with tmux's message when the session does not start.
    pub fn start(self) -> Session {
        let dir = tempfile::Builder::new()
            .prefix("tokendist-tmux")
            .tempdir()
            .expect("temporary directory for the tmux socket");
        std::fs::write(dir.path().join("tmux.conf"), CONFIG).expect("tmux configuration written");
        let session = Session { dir };
        let mut args: Vec<String> = vec![
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            SESSION.into(),
            "-x".into(),
            self.width.to_string(),
            "-y".into(),
            self.height.to_string(),
        ];
        for (name, value) in &self.env {
            args.push("-e".into());
            args.push(format!("{name}={value}"));
        }
        args.push("--".into());
        args.extend(self.command);
        session.tmux(&args);
        session
    }
}

impl Session {
    /// A builder for `command` (program and arguments, run without a shell) at 80×24.
    pub fn builder<S: AsRef<str>>(command: &[S]) -> SessionBuilder {
        SessionBuilder {
            command: command.iter().map(|s| s.as_ref().to_owned()).collect(),
            width: 80,
            height: 24,
            env: Vec::new(),
        }
    }

    /// Sends keys as tmux names them: text (`"abc"`) or key names (`"Enter"`, `"Escape"`, `"C-c"`,
    /// `"Up"`, `"Tab"`, `"BTab"`).
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Sends `text` literally (no key-name lookup: `"Enter"` types the five letters).
    pub fn send_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// The screen as text, one line per row (trailing spaces trimmed by tmux).
    pub fn capture(&self) -> String {
        let output = self.tmux(&["capture-pane", "-p", "-t", SESSION]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen contains `text`; returns that screen.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> Result<String, WaitTimeout> {
        self.wait_until(&format!("{text:?} on screen"), timeout, |screen| {
            screen.contains(text)
        })
    }

    /// Waits until `ready(screen)` holds; returns that screen. `wanted` describes it for the error.
    pub fn wait_until(
        &self,
        wanted: &str,
        timeout: Duration,
        mut ready: impl FnMut(&str) -> bool,
    ) -> Result<String, WaitTimeout> {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return Ok(screen);
            }
            if start.elapsed() >= timeout {
                return Err(WaitTimeout {
                    wanted: wanted.to_owned(),
                    waited: start.elapsed(),
                    last_screen: screen,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// The command's exit status once it has exited (`None` while it runs); 128 + N when signal N
    /// ended it, as a shell reports it.
    ///
    /// tmux 3.3a (Debian 12) sometimes misses the SIGCHLD of a pane whose terminal it saw close
    /// first: the pane is dead, the command a zombie, and its status never arrives. Any other child
    /// of the server exiting makes it reap every exited child, so a dead pane without a status gets
    /// `run-shell true` (a child that exits at once) and is asked again.
    pub fn exit_status(&self) -> Option<i32> {
        match self.pane_state() {
            PaneState::Running => None,
            PaneState::Ended(status) => Some(status),
            PaneState::DeadNotReaped => {
                self.tmux(&["run-shell", "true"]);
                match self.pane_state() {
                    PaneState::Ended(status) => Some(status),
                    PaneState::Running | PaneState::DeadNotReaped => None,
                }
            }
        }
    }

    fn pane_state(&self) -> PaneState {
        let output = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            SESSION,
            "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}",
        ]);
        PaneState::parse(&String::from_utf8_lossy(&output.stdout))
    }

    /// The process id of the command (to signal it).
    pub fn pid(&self) -> u32 {
        let output = self.tmux(&["display-message", "-p", "-t", SESSION, "#{pane_pid}"]);
        let text = String::from_utf8_lossy(&output.stdout);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("tmux gave no pane pid: {text:?}"))
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("tmux.sock")
    }

    /// Runs one tmux command against this session's server; panics with its stderr when it fails.
    fn tmux<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let output = Command::new("tmux")
            .env_remove("TMUX")
            .arg("-S")
            .arg(self.socket())
            .arg("-f")
            .arg(self.dir.path().join("tmux.conf"))
            .args(args)
            .output()
            .unwrap_or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => panic!(
                    "tmux not found: install the Debian package `tmux` (scripts/install-deps does)"
                ),
                _ => panic!("tmux could not be run: {e}"),
            });
        assert!(
            output.status.success(),
            "tmux {:?} failed: {}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        output
    }
}

/// What tmux says of the pane's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PaneState {
    Running,
    /// Exited with this status (128 + N for signal N).
    Ended(i32),
    /// The terminal closed but tmux has not reaped the command yet.
    DeadNotReaped,
}

impl PaneState {
    /// Parses `#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}`.
    fn parse(text: &str) -> Self {
        let mut fields = text.trim().split('|');
        if fields.next() != Some("1") {
            return Self::Running;
        }
        let status = fields.next().and_then(|s| s.parse::<i32>().ok());
        let signal = fields.next().and_then(|s| s.parse::<i32>().ok());
        match (status, signal) {
            (Some(status), _) => Self::Ended(status),
            (None, Some(signal)) => Self::Ended(128 + signal),
            (None, None) => Self::DeadNotReaped,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(self.socket())
            .arg("kill-server")
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(10);

    fn shell(script: &str) -> SessionBuilder {
        Session::builder(&["sh", "-c", script])
    }

    #[test]
    fn keys_reach_the_command_and_its_screen_comes_back_at_the_given_size() {
        let session = shell("echo ready $GREETING; read line; echo got:$line; read x")
            .size(40, 10)
            .env("GREETING", "hello")
            .start();
        session.wait_for("ready hello", WAIT).unwrap();
        session.send_keys(&["abc", "Enter"]);
        let screen = session.wait_for("got:abc", WAIT).unwrap();
        assert_eq!(screen.lines().count(), 10, "{screen}");
        assert!(screen.lines().all(|l| l.chars().count() <= 40), "{screen}");
        assert_eq!(session.exit_status(), None);
        session.send_keys(&["Enter"]);
        session
            .wait_until("the command to exit", WAIT, |_| {
                session.exit_status().is_some()
            })
            .unwrap();
        assert_eq!(session.exit_status(), Some(0));
    }

    #[test]
    fn the_pane_state_reads_status_signal_and_a_dead_pane_not_yet_reaped() {
        assert_eq!(PaneState::parse("0||\n"), PaneState::Running);
        assert_eq!(PaneState::parse("1|0|\n"), PaneState::Ended(0));
        assert_eq!(PaneState::parse("1|3|\n"), PaneState::Ended(3));
        assert_eq!(PaneState::parse("1||15\n"), PaneState::Ended(143));
        assert_eq!(PaneState::parse("1||\n"), PaneState::DeadNotReaped);
    }

    #[test]
    fn a_signalled_command_reports_128_plus_the_signal() {
        let session = shell("echo up; exec sleep 30").start();
        session.wait_for("up", WAIT).unwrap();
        let killed = Command::new("kill")
            .args(["-TERM", &session.pid().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        session
            .wait_until("the command to end", WAIT, |_| {
                session.exit_status().is_some()
            })
            .unwrap();
        assert_eq!(session.exit_status(), Some(143));
    }

    #[test]
    fn literal_text_is_not_read_as_key_names() {
        let session = shell("read line; echo got:$line; read x").start();
        session.send_text("Enter");
        session.send_keys(&["Enter"]);
        session.wait_for("got:Enter", WAIT).unwrap();
    }

    #[test]
    fn a_timed_out_wait_shows_the_last_screen() {
        let session = shell("echo something else; read x").start();
        session.wait_for("something else", WAIT).unwrap();
        let error = session
            .wait_for("never shown", Duration::from_millis(200))
            .unwrap_err();
        assert_eq!(error.wanted, "\"never shown\" on screen");
        assert!(error.last_screen.contains("something else"), "{error}");
        assert!(error.to_string().contains("something else"), "{error}");
    }

    #[test]
    fn dropping_the_session_kills_its_server() {
        let session = shell("read x").start();
        let socket = session.socket();
        drop(session);
        let alive = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .arg("has-session")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(!alive);
    }
}
