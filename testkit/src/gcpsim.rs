//! gcpsim for tests: in-process on loopback ([`start`], [`start_demo`]), or the `gcpsim` binary as a
//! child process ([`GcpsimProcess`], readiness from its `--ready-file`), and the real `gcloud` CLI
//! pointed at it ([`gcloud`]).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tokendist_sim::{RunningSim, Scenario};

use crate::demo::{PROJECT, demo_scenario};
use crate::process::{Daemon, Notify};

/// How long the `gcpsim` binary may take to write its ready file (a loaded machine is slow to exec).
const READY_DEADLINE: Duration = Duration::from_secs(60);
const READY_POLL: Duration = Duration::from_millis(20);

/// Starts the simulator in-process on loopback.
pub async fn start(scenario: Scenario) -> RunningSim {
    RunningSim::start(scenario, IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap()
}

/// Starts the simulator in-process on the demo scenario.
pub async fn start_demo() -> RunningSim {
    start(demo_scenario()).await
}

/// The `gcpsim` binary as a child process (its output in `gcpsim.log` of its directory); killed on
/// drop.
#[derive(Debug)]
pub struct GcpsimProcess {
    /// The child.
    pub daemon: Daemon,
    /// The Compute, Logging, OAuth and admin API.
    pub api: SocketAddr,
    /// Each VM's metadata server.
    pub metadata: BTreeMap<String, SocketAddr>,
    _own_dir: Option<tempfile::TempDir>,
}

impl GcpsimProcess {
    /// Starts `binary --scenario SCENARIO` with its logs in a private temp dir (blocking: call it from
    /// a synchronous test, or use [`GcpsimProcess::start_in`] from an async one).
    pub fn spawn(binary: &Path, scenario: &Path) -> GcpsimProcess {
        let dir = tempfile::tempdir().unwrap();
        let mut process = Self::spawn_in(binary, scenario, dir.path());
        process._own_dir = Some(dir);
        process
    }

    /// Starts `binary --scenario SCENARIO` with its logs and ready file in `dir` and waits (bounded,
    /// blocking) until it is ready.
    pub fn spawn_in(binary: &Path, scenario: &Path, dir: &Path) -> GcpsimProcess {
        Self::spawn_in_with(binary, scenario, dir, &[])
    }

    /// [`GcpsimProcess::spawn_in`] with Logging sinks publishing to the Pub/Sub emulator at
    /// `pubsub_emulator` (`HOST:PORT`).
    pub fn spawn_with(
        binary: &Path,
        scenario: &Path,
        dir: &Path,
        pubsub_emulator: Option<&str>,
    ) -> GcpsimProcess {
        let extra: Vec<String> = pubsub_emulator
            .map(|host| vec!["--pubsub-emulator".to_string(), host.to_string()])
            .unwrap_or_default();
        Self::spawn_in_with(binary, scenario, dir, &extra)
    }

    /// [`GcpsimProcess::spawn_in`] with `extra` arguments (e.g. `--latency compute=50ms`,
    /// `--pubsub-emulator HOST:PORT`).
    pub fn spawn_in_with(
        binary: &Path,
        scenario: &Path,
        dir: &Path,
        extra: &[String],
    ) -> GcpsimProcess {
        let ready_file = dir.join("gcpsim.ready");
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--scenario".as_ref(),
            scenario.as_os_str(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--ready-file".as_ref(),
            ready_file.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let mut daemon = Daemon::spawn("gcpsim", binary, &args, dir, Notify::No, &[]);
        let deadline = Instant::now() + READY_DEADLINE;
        let ready = loop {
            if let Ok(text) = std::fs::read_to_string(&ready_file)
                && let Ok(ready) = serde_json::from_str::<serde_json::Value>(&text)
            {
                break ready;
            }
            if let Some(status) = daemon.try_exit_status() {
                panic!(
                    "gcpsim exited before it was ready ({status}):\n{}",
                    daemon.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "gcpsim not ready within {READY_DEADLINE:?}:\n{}",
                daemon.log_text()
            );
            std::thread::sleep(READY_POLL);
        };
        let address =
            |value: &serde_json::Value| -> SocketAddr { value.as_str().unwrap().parse().unwrap() };
        GcpsimProcess {
            api: address(&ready["api"]),
            metadata: ready["metadata"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(vm, addr)| (vm.clone(), address(addr)))
                .collect(),
            daemon,
            _own_dir: None,
        }
    }

    /// [`GcpsimProcess::spawn_in`] on a blocking thread, so that no runtime worker waits.
    pub async fn start_in(binary: PathBuf, scenario: PathBuf, dir: PathBuf) -> GcpsimProcess {
        tokio::task::spawn_blocking(move || Self::spawn_in(&binary, &scenario, &dir))
            .await
            .unwrap()
    }

    /// [`GcpsimProcess::spawn_in_with`] on a blocking thread.
    pub async fn start_in_with(
        binary: PathBuf,
        scenario: PathBuf,
        dir: PathBuf,
        extra: Vec<String>,
    ) -> GcpsimProcess {
        tokio::task::spawn_blocking(move || Self::spawn_in_with(&binary, &scenario, &dir, &extra))
            .await
            .unwrap()
    }
}

/// Runs the real `gcloud ARGS` against the simulator at `api` (Compute and Logging endpoints
/// overridden, no credentials, no prompts, the demo project, configuration in `config_dir`);
/// returns stdout, panicking with stderr on failure.
/// The `[gcp]` section of a tokenserver configuration that takes gcpsim at `api` for Google:
/// every API there, plain http JWKS allowed, anonymous, no retries (a failure costs milliseconds).
pub fn server_gcp_section(api: SocketAddr) -> String {
    format!(
        r#"[gcp]
compute_endpoint = "http://{api}"
logging_endpoint = "http://{api}"
jwks_url = "http://{api}/oauth2/v3/certs"
jwks_allow_http = true
credentials = "anonymous"
retry = "none"
"#
    )
}

pub fn gcloud(api: SocketAddr, config_dir: &Path, args: &[&str]) -> String {
    let output = Command::new("gcloud")
        .args(args)
        .env("CLOUDSDK_AUTH_DISABLE_CREDENTIALS", "true")
        .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
        .env("CLOUDSDK_CORE_PROJECT", PROJECT)
        .env(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
            format!("http://{api}/compute/v1/"),
        )
        .env(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING",
            format!("http://{api}/"),
        )
        .env("CLOUDSDK_CONFIG", config_dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run gcloud ({e}): install the Google Cloud CLI (google-cloud-cli)")
        });
    assert!(
        output.status.success(),
        "gcloud {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}
