//! The official Cloud Firestore emulator for tests: reuses `FIRESTORE_EMULATOR_HOST` when set
//! (`scripts/with-firestore-emulator` starts one shared emulator), otherwise starts the emulator jar
//! with java on a free port as a child of this test process, waits until `GET /` answers `Ok`
//! (bounded, on a blocking thread), and kills it when dropped. A missing jar or java is a test
//! failure naming what to install, never a skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Where the Debian package `google-cloud-cli-firestore-emulator` installs the jar.
pub const EMULATOR_JAR: &str =
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";

/// How long the JVM may take to answer (about 0.8 s idle; much more on a loaded 2-core machine).
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A running emulator: either one this test started (and owns), or the one the environment names.
#[derive(Debug)]
pub struct FirestoreEmulator {
    host: String,
    child: Option<Child>,
    _log_dir: Option<tempfile::TempDir>,
}

impl FirestoreEmulator {
    /// The emulator named by `FIRESTORE_EMULATOR_HOST`, or a freshly started private one (started on
    /// a blocking thread, so no runtime worker waits for the JVM).
    pub async fn start_or_reuse() -> Self {
        match std::env::var("FIRESTORE_EMULATOR_HOST") {
            Ok(host) if !host.is_empty() => FirestoreEmulator {
                host,
                child: None,
                _log_dir: None,
            },
            _ => tokio::task::spawn_blocking(Self::start).await.unwrap(),
        }
    }

    /// Starts a private emulator and waits (blocking) until it is ready.
    pub fn start() -> Self {
        let jar = Path::new(EMULATOR_JAR);
        assert!(
            jar.is_file(),
            "the Firestore emulator jar {EMULATOR_JAR} is missing: install the Debian package \
             google-cloud-cli-firestore-emulator (part of the machine image), or set \
             FIRESTORE_EMULATOR_HOST to a running emulator"
        );
        let host = format!("127.0.0.1:{}", free_port());
        let log_dir = tempfile::tempdir().unwrap();
        let log_path = log_dir.path().join("emulator.log");
        let child = spawn_jvm(&host, &log_path);
        let mut emulator = FirestoreEmulator {
            host,
            child: Some(child),
            _log_dir: Some(log_dir),
        };
        emulator.wait_ready(&log_path);
        emulator
    }

    /// The JVM's process id, for an emulator this test started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILLs an emulator this test started (its data, all in memory, is gone) and starts a new
    /// one on the same port, waiting until it is ready. Panics on a shared emulator.
    pub fn restart(&mut self) {
        let child = self
            .child
            .as_mut()
            .expect("only an emulator this test started can be restarted");
        let _ = child.kill();
        let _ = child.wait();
        let log_dir = tempfile::tempdir().unwrap();
        let log_path = log_dir.path().join("emulator.log");
        // The port may linger for a moment after the kill; the new JVM retries binding itself.
        self.child = Some(spawn_jvm(&self.host, &log_path));
        self._log_dir = Some(log_dir);
        self.wait_ready(&log_path);
    }
}

/// Starts the emulator's JVM serving `host` (`127.0.0.1:PORT`), logging to `log_path`.
fn spawn_jvm(host: &str, log_path: &Path) -> Child {
    let jar = Path::new(EMULATOR_JAR);
    let port = host.rsplit(':').next().unwrap_or_default();
    let args = [
        "-Duser.language=en".to_string(),
        "-cp".to_string(),
        jar.display().to_string(),
        "com.google.cloud.datastore.emulator.firestore.CloudFirestore".to_string(),
        "start".to_string(),
        "--host=127.0.0.1".to_string(),
        format!("--port={port}"),
    ];
    crate::java::spawn_emulator("Firestore emulator", &args, log_path)
}

impl FirestoreEmulator {
    /// `host:port`, as `FIRESTORE_EMULATOR_HOST` would name it.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn wait_ready(&mut self, log_path: &PathBuf) {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if answers_ok(&self.host) {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                panic!("the Firestore emulator exited early ({status}):\n{log}");
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                panic!(
                    "the Firestore emulator at {} was not ready within {READY_DEADLINE:?}:\n{log}",
                    self.host
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for FirestoreEmulator {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `GET /` answers with a body of `Ok`.
fn answers_ok(host: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.")
        && response.contains(" 200")
        && response.trim_end().ends_with("Ok")
}
