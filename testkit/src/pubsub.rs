//! The official Pub/Sub emulator (`platform/pubsub-emulator` of the Google Cloud SDK) for tests:
//! started with java on a free port as a child of this test process, ready once `GET /` answers
//! `Ok` (bounded), killed when dropped. A missing emulator or java is a test failure naming what to
//! install, never a skip. [`PubsubEmulator::request`] speaks its REST API (blocking, HTTP/1.0).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Where the Google Cloud SDK installs the emulator's jar.
pub const EMULATOR_JAR: &str =
    "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib/cloud-pubsub-emulator-0.8.20-all.jar";

/// How long the JVM may take to answer on a loaded 2-core machine.
const READY_DEADLINE: Duration = Duration::from_secs(90);

/// A private running emulator.
#[derive(Debug)]
pub struct PubsubEmulator {
    host: String,
    child: Child,
    log_dir: tempfile::TempDir,
}

impl PubsubEmulator {
    /// Starts a private emulator and waits (blocking) until it is ready.
    pub fn start() -> Self {
        assert!(
            Path::new(EMULATOR_JAR).is_file(),
            "the Pub/Sub emulator jar {EMULATOR_JAR} is missing: install the Google Cloud SDK \
             component pubsub-emulator (Debian package google-cloud-cli-pubsub-emulator)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let log_dir = tempfile::tempdir().unwrap();
        let args = [
            "-jar".to_string(),
            EMULATOR_JAR.to_string(),
            "--host=127.0.0.1".to_string(),
            format!("--port={port}"),
        ];
        let log_path = log_dir.path().join("pubsub-emulator.log");
        let child = crate::java::spawn_emulator("Pub/Sub emulator", &args, &log_path);
        let mut emulator = PubsubEmulator {
            host,
            child,
            log_dir,
        };
        emulator.wait_ready();
        emulator
    }

    /// Starts a private emulator on a blocking thread (for async tests).
    pub async fn start_async() -> Self {
        tokio::task::spawn_blocking(Self::start).await.unwrap()
    }

    /// `host:port`, as `PUBSUB_EMULATOR_HOST` names it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The emulator's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_dir.path().join("pubsub-emulator.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Some((200, body)) = raw(&self.host, "GET", "/", None)
                && body.trim_end().ends_with("Ok")
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the Pub/Sub emulator exited early ({status}):\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the Pub/Sub emulator at {} was not ready within {READY_DEADLINE:?}:\n{}",
                self.host,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `METHOD /v1/PATH` with a JSON body; returns the status and the parsed JSON answer.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let text = body.map(Value::to_string);
        let (status, answer) = raw(&self.host, method, &format!("/v1/{path}"), text.as_deref())
            .unwrap_or_else(|| panic!("the Pub/Sub emulator at {} did not answer", self.host));
        (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
    }

    /// Creates `projects/PROJECT/topics/TOPIC`, panicking on failure.
    pub fn create_topic(&self, topic: &str) {
        let (status, answer) = self.request("PUT", topic, Some(&serde_json::json!({})));
        assert_eq!(status, 200, "creating {topic} failed: {answer}");
    }
}

impl Drop for PubsubEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange (the emulator keeps connections open, so the body is read by its
/// `content-length`); `None` when nothing answers.
fn raw(host: &str, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut received = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&received, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                let status = head.split_whitespace().nth(1)?.parse().ok()?;
                let answer = String::from_utf8_lossy(&received[end + 4..end + 4 + length]);
                return Some((status, answer.to_string()));
            }
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        received.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
