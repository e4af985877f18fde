//! A workspace binary (tokenserver, tokenclient, gcpsim, tokendist) as a child process of the test:
//! its stderr in `DIR/NAME.log` and stdout in `DIR/NAME.stdout.log`, its systemd notifications on a
//! NOTIFY_SOCKET datagram socket bound by the test, bounded waits for notifications and exit (async,
//! so no runtime worker sleeps), killed on drop. [`binary`] finds the binaries `cargo build
//! --workspace --bins` put next to the test executable.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::net::UnixDatagram;

/// How often an exit or a file is polled.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// A binary the tests need is not built.
#[derive(Debug, thiserror::Error)]
#[error(
    "{name} is not built (looked for {path}); run `cargo build --workspace --bins` (or `make test`) first"
)]
pub struct MissingBinary {
    /// The binary's name.
    pub name: String,
    /// Where it was looked for.
    pub path: PathBuf,
}

/// The profile directory holding the workspace binaries, from the path of a test, bench or example
/// executable (`target/<profile>/deps/NAME-HASH`, `target/<profile>/examples/NAME`).
pub fn profile_dir(executable: &Path) -> Option<PathBuf> {
    let parent = executable.parent()?;
    let profile = if parent
        .file_name()
        .is_some_and(|n| n == "deps" || n == "examples")
    {
        parent.parent()?
    } else {
        parent
    };
    Some(profile.to_path_buf())
}

/// The path of the workspace binary `name` in the running executable's profile directory, or why
/// it is missing.
pub fn binary(name: &str) -> Result<PathBuf, MissingBinary> {
    let exe = std::env::current_exe().unwrap_or_default();
    let path = profile_dir(&exe).unwrap_or_default().join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(MissingBinary {
            name: name.to_string(),
            path,
        })
    }
}

/// Whether the child gets a NOTIFY_SOCKET (needs a tokio runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Bind `DIR/NAME.notify` and pass it as `NOTIFY_SOCKET`.
    Yes,
    /// No systemd notifications.
    No,
}

/// A running child process.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Child,
    notify: Option<UnixDatagram>,
    log: PathBuf,
    /// Every notification received so far, oldest first.
    seen: Mutex<Vec<String>>,
}

impl Daemon {
    /// Spawns `binary ARGS` in `dir` (logs there), with `RUST_LOG=info` and without
    /// `TOKENSERVER_CONFIG`, `TOKENCLIENT_CONFIG` and `GCE_METADATA_HOST`, then `env` on top.
    pub fn spawn<A: AsRef<OsStr>>(
        name: &str,
        binary: &Path,
        args: &[A],
        dir: &Path,
        notify: Notify,
        env: &[(&str, &str)],
    ) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let stdout = std::fs::File::create(dir.join(format!("{name}.stdout.log"))).unwrap();
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_remove("TOKENSERVER_CONFIG")
            .env_remove("TOKENCLIENT_CONFIG")
            .env_remove("GCE_METADATA_HOST")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
        let notify = (notify == Notify::Yes).then(|| {
            let path = dir.join(format!("{name}.notify"));
            let _ = std::fs::remove_file(&path);
            let socket = UnixDatagram::bind(&path).unwrap();
            command.env("NOTIFY_SOCKET", &path);
            socket
        });
        command.envs(env.iter().copied());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Daemon {
            name: name.to_string(),
            child,
            notify,
            log,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every notification received so far, oldest first.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The text of `path` once it exists and is not blank (a file the process writes), polling with
    /// a bounded deadline.
    pub async fn wait_for_file(&self, path: &Path, deadline: Duration) -> String {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && !text.trim().is_empty()
            {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "{}: {} did not appear within {deadline:?}; log:\n{}",
                self.name,
                path.display(),
                self.log_text()
            );
            tokio::time::sleep(EXIT_POLL).await;
        }
    }

    /// The next systemd notification, or `None` after `deadline`.
    pub async fn next_notification(&self, deadline: Duration) -> Option<String> {
        let socket = self
            .notify
            .as_ref()
            .unwrap_or_else(|| panic!("{} was started without a NOTIFY_SOCKET", self.name));
        let mut buffer = vec![0u8; 8192];
        let n = tokio::time::timeout(deadline, socket.recv(&mut buffer))
            .await
            .ok()?
            .ok()?;
        let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
        self.seen.lock().unwrap().push(message.clone());
        Some(message)
    }

    /// The next notification containing `needle`, within `deadline` (panics with what was seen and
    /// the log otherwise).
    pub async fn wait_for(&self, needle: &str, deadline: Duration) -> String {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.next_notification(left).await {
                Some(message) if message.contains(needle) => return message,
                Some(_) => {}
                None => panic!(
                    "{}: no notification containing {needle:?} within {deadline:?}; saw {:?}; log:\n{}",
                    self.name,
                    self.seen.lock().unwrap(),
                    self.log_text()
                ),
            }
        }
    }

    /// Waits (bounded) for the first notification, which must be
    /// `READY=1\nSTATUS=serving on ADDR`, and returns the serving process.
    pub async fn serving(self, deadline: Duration) -> Serving {
        let Some(message) = self.next_notification(deadline).await else {
            panic!(
                "{} sent no READY within {deadline:?}; log:\n{}",
                self.name,
                self.log_text()
            );
        };
        let addr = serving_address(&message).unwrap_or_else(|| {
            panic!(
                "{}: unexpected first notification {message:?}; log:\n{}",
                self.name,
                self.log_text()
            )
        });
        Serving { daemon: self, addr }
    }

    /// The exit status, if the process has exited.
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            if let Some(status) = self.try_exit_status() {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "{} did not exit within {deadline:?}; log:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(EXIT_POLL).await;
        }
    }

    /// Waits (bounded) for the process to exit; its status and its log.
    pub async fn exit_status(mut self, deadline: Duration) -> (ExitStatus, String) {
        let status = self.wait_exit(deadline).await;
        (status, self.log_text())
    }

    /// Sends a signal (`HUP`, `TERM`, ...) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} {} failed", self.name);
    }

    /// VmRSS from /proc/PID/status, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A daemon that reported `READY=1` and the address it serves on.
#[derive(Debug)]
pub struct Serving {
    /// The process.
    pub daemon: Daemon,
    /// Where it serves.
    pub addr: SocketAddr,
}

impl Deref for Serving {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.daemon
    }
}

impl DerefMut for Serving {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

/// The address in `READY=1\nSTATUS=serving on ADDR`.
pub fn serving_address(message: &str) -> Option<SocketAddr> {
    let mut lines = message.lines();
    if lines.next()? != "READY=1" {
        return None;
    }
    lines
        .next()?
        .strip_prefix("STATUS=serving on ")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_looked_up_in_the_profile_directory_above_deps_or_examples() {
        for exe in [
            "/w/target/debug/deps/e2e-0123",
            "/w/target/debug/examples/x",
        ] {
            assert_eq!(
                profile_dir(Path::new(exe)),
                Some(PathBuf::from("/w/target/debug"))
            );
        }
    }

    #[test]
    fn a_missing_binary_says_how_to_build_it() {
        let error = binary("no-such-binary-xyz").unwrap_err();
        assert!(error.to_string().contains("cargo build --workspace --bins"));
    }

    #[test]
    fn the_serving_address_is_read_from_ready_and_status() {
        assert_eq!(
            serving_address("READY=1\nSTATUS=serving on 127.0.0.1:4711"),
            Some("127.0.0.1:4711".parse().unwrap())
        );
        assert_eq!(serving_address("STATUS=serving on 127.0.0.1:4711"), None);
        assert_eq!(serving_address("READY=1\nSTATUS=starting"), None);
    }

    #[tokio::test]
    async fn the_exit_status_and_the_log_are_awaited() {
        let dir = tempfile::tempdir().unwrap();
        let daemon = Daemon::spawn(
            "sh",
            Path::new("/bin/sh"),
            &["-c", "echo bye >&2; exit 3"],
            dir.path(),
            Notify::No,
            &[],
        );
        let (status, log) = daemon.exit_status(Duration::from_secs(20)).await;
        assert_eq!(status.code(), Some(3));
        assert_eq!(log, "bye\n");
    }
}

/// What a command that ran to its end printed.
#[derive(Debug)]
pub struct Finished {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end and returns what it printed; panics, showing its status and both
/// streams, when it did not succeed (`what` names it in that message).
pub fn run_to_success(command: &mut Command, what: &str) -> Finished {
    let started = std::time::Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let finished = Finished {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        output.status.success(),
        "{what} failed ({}) after {:?}:\n{}\n{}",
        output.status,
        started.elapsed(),
        finished.stdout,
        finished.stderr
    );
    finished
}
