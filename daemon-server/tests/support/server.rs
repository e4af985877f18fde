//! The real `tokenserver` binary as a child process of the test, killed on drop. Readiness is the
//! systemd protocol: the test binds a `UnixDatagram`, passes its path as `NOTIFY_SOCKET`, and reads
//! the port from `READY=1\nSTATUS=serving on 127.0.0.1:PORT` (bounded wait, no sleeps).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::net::UnixDatagram;

/// How long a server may take to report READY (a loaded 2-core machine is slow to exec).
pub const READY_DEADLINE: Duration = Duration::from_secs(30);

/// A running `tokenserver` child.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    notify: UnixDatagram,
    pub stderr_path: PathBuf,
}

/// A `tokenserver` started with a notification socket, not yet known to be ready.
pub struct Launched {
    child: Option<Child>,
    notify: Option<UnixDatagram>,
    pub stderr_path: PathBuf,
}

/// The `tokenserver` binary: Cargo's for tests and benches; for the load generator (an example, which
/// Cargo gives no binary path) `$TOKENSERVER_BIN` or the one in the profile directory above it.
pub fn tokenserver_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_tokenserver") {
        return PathBuf::from(path);
    }
    if let Ok(path) = std::env::var("TOKENSERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .map(|profile| profile.join("tokenserver"))
        .unwrap()
}

/// Starts `tokenserver --config CONFIG` with `NOTIFY_SOCKET` bound in `dir`; stderr goes to a file.
pub fn launch(dir: &Path, name: &str, config: &Path, env: &[(&str, &str)]) -> Launched {
    let socket_path = dir.join(format!("{name}.notify"));
    let _ = std::fs::remove_file(&socket_path);
    let notify = UnixDatagram::bind(&socket_path).unwrap();
    let stderr_path = dir.join(format!("{name}.stderr"));
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut command = Command::new(tokenserver_binary());
    command
        .arg("--config")
        .arg(config)
        .env("NOTIFY_SOCKET", &socket_path)
        .env_remove("TOKENDIST_CONFIG")
        .env_remove("GCE_METADATA_HOST")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr));
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().unwrap();
    Launched {
        child: Some(child),
        notify: Some(notify),
        stderr_path,
    }
}

impl Launched {
    /// Waits (bounded) for READY and returns the serving process.
    pub async fn ready(mut self) -> ServerProcess {
        let notify = self.notify.take().unwrap();
        let message = next_message(&notify, READY_DEADLINE)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "tokenserver sent no READY within {READY_DEADLINE:?}; stderr:\n{}",
                    std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
                )
            });
        let addr = ready_address(&message)
            .unwrap_or_else(|| panic!("unexpected first notification {message:?}"));
        let child = self.child.take().unwrap();
        ServerProcess {
            child,
            addr,
            notify,
            stderr_path: self.stderr_path.clone(),
        }
    }

    /// Waits (bounded) for the process to exit without having become ready.
    pub fn exit_status(mut self, deadline: Duration) -> (ExitStatus, String) {
        let status = wait_exit(self.child.as_mut().unwrap(), deadline);
        (
            status,
            std::fs::read_to_string(&self.stderr_path).unwrap_or_default(),
        )
    }
}

/// The address in `READY=1\nSTATUS=serving on ADDR`.
pub fn ready_address(message: &str) -> Option<SocketAddr> {
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

/// The next datagram on `socket`, or `None` after `deadline`.
pub async fn next_message(socket: &UnixDatagram, deadline: Duration) -> Option<String> {
    let mut buffer = vec![0u8; 4096];
    let received = tokio::time::timeout(deadline, socket.recv(&mut buffer))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&buffer[..received]).into_owned())
}

fn wait_exit(child: &mut Child, deadline: Duration) -> ExitStatus {
    let until = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < until,
            "tokenserver did not exit within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl ServerProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`HUP`, `TERM`, ...) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// The next systemd notification the server sends (bounded wait).
    pub async fn next_notification(&self, deadline: Duration) -> Option<String> {
        next_message(&self.notify, deadline).await
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        wait_exit(&mut self.child, deadline)
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
