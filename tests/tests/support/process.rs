//! One child process of the test: its stderr in `NAME.log`, its systemd notifications on a
//! NOTIFY_SOCKET datagram socket, bounded waits for readiness and status lines, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::net::UnixDatagram;

/// What one run of a command-line tool produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A running daemon.
pub struct Daemon {
    pub name: String,
    child: Child,
    notify: Option<UnixDatagram>,
    pub log: PathBuf,
    /// Every notification received so far.
    pub seen: std::sync::Mutex<Vec<String>>,
}

impl Daemon {
    /// Spawns `binary ARGS` with stderr to `dir/NAME.log` and, with `notify`, a NOTIFY_SOCKET.
    pub fn spawn(
        name: &str,
        binary: &Path,
        args: &[&str],
        dir: &Path,
        notify: bool,
        env: &[(&str, &str)],
    ) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_remove("TOKENDIST_CONFIG")
            .env_remove("GCE_METADATA_HOST")
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                std::fs::File::create(dir.join(format!("{name}.stdout.log"))).unwrap(),
            ))
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
        let socket = notify.then(|| {
            let path = dir.join(format!("{name}.notify"));
            let socket = UnixDatagram::bind(&path).unwrap();
            command.env("NOTIFY_SOCKET", &path);
            socket
        });
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Daemon {
            name: name.to_string(),
            child,
            notify: socket,
            log,
            seen: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The next notification containing `needle`, within `deadline`.
    pub async fn wait_for(&self, needle: &str, deadline: Duration) -> String {
        let socket = self.notify.as_ref().unwrap();
        let until = tokio::time::Instant::now() + deadline;
        let mut buffer = vec![0u8; 8192];
        loop {
            let received = tokio::time::timeout_at(until, socket.recv(&mut buffer)).await;
            let Ok(Ok(n)) = received else {
                panic!(
                    "{}: no notification containing {needle:?} within {deadline:?}; saw {:?}; log:\n{}",
                    self.name,
                    self.seen.lock().unwrap(),
                    self.log_text()
                );
            };
            let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
            self.seen.lock().unwrap().push(message.clone());
            if message.contains(needle) {
                return message;
            }
        }
    }

    /// Waits until `path` exists (a `--ready-file`), polling with a bounded deadline.
    pub async fn wait_for_file(&self, path: &Path, deadline: Duration) -> String {
        let until = Instant::now() + deadline;
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && !text.trim().is_empty()
            {
                return text;
            }
            assert!(
                Instant::now() < until,
                "{}: {} did not appear within {deadline:?}; log:\n{}",
                self.name,
                path.display(),
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends `kill -NAME`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        let until = Instant::now() + deadline;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < until, "{} did not exit", self.name);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
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
