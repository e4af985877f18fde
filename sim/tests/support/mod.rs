//! Test helpers: the demo scenario, an in-process simulator, the `gcpsim` binary as a child process,
//! fixtures, and JSON shape comparison.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokendist_sim::{RunningSim, Scenario};

pub mod gcloud;

pub const PROJECT: &str = "bob-project";
pub const ZONE: &str = "us-central1-a";
pub const GOOD_VM: &str = "tokenclient-good";
pub const GOOD_VM_ID: &str = "4708131932155938716";
pub const TAMPERED_VM: &str = "tokenclient-tampered";

pub fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml")
}

pub fn demo() -> Scenario {
    Scenario::from_file(&demo_path()).unwrap()
}

pub async fn start(scenario: Scenario) -> RunningSim {
    RunningSim::start(scenario, IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap()
}

pub async fn start_demo() -> RunningSim {
    start(demo()).await
}

pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../shared/fixtures/gce/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn instance_url(sim: &RunningSim, vm: &str) -> String {
    format!(
        "{}/compute/v1/projects/{PROJECT}/zones/{ZONE}/instances/{vm}",
        sim.api_url()
    )
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences in key sets, nesting and JSON types between `ours` and `google` (arrays compared by
/// their first element). Each difference is a readable line naming the path.
pub fn shape_diff(ours: &Value, google: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into(ours, google, "$", &mut out);
    out
}

fn diff_into(ours: &Value, google: &Value, path: &str, out: &mut Vec<String>) {
    if type_name(ours) != type_name(google) {
        out.push(format!(
            "{path}: ours is {}, Google's is {}",
            type_name(ours),
            type_name(google)
        ));
        return;
    }
    match (ours, google) {
        (Value::Object(a), Value::Object(b)) => {
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key}: missing in ours"));
            }
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{path}.{key}: extra in ours"));
            }
            for (key, value) in a {
                if let Some(other) = b.get(key) {
                    diff_into(value, other, &format!("{path}.{key}"), out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                diff_into(x, y, &format!("{path}[0]"), out);
            }
        }
        _ => {}
    }
}

/// The `gcpsim` binary running as a child process; killed on drop.
pub struct SimProcess {
    child: Child,
    pub api: String,
    pub metadata: Value,
    _dir: tempfile::TempDir,
}

impl SimProcess {
    pub fn spawn(scenario: &Path) -> SimProcess {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready.json");
        let child = Command::new(env!("CARGO_BIN_EXE_gcpsim"))
            .arg("--scenario")
            .arg(scenario)
            .arg("--ready-file")
            .arg(&ready)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut process = SimProcess {
            child,
            api: String::new(),
            metadata: Value::Null,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                let value: Value = serde_json::from_str(&text).unwrap();
                process.api = value["api"].as_str().unwrap().to_string();
                process.metadata = value["metadata"].clone();
                return process;
            }
            if let Some(status) = process.child.try_wait().unwrap() {
                panic!("gcpsim exited before it was ready: {status}");
            }
            assert!(Instant::now() < deadline, "gcpsim not ready within 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
