//! Test helpers: fixtures and JSON shape comparison; the demo scenario, the in-process simulator and
//! the `gcpsim` binary as a child process come from `tokendist_testkit`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Not every test binary uses every helper or re-exported name.
#![allow(dead_code, unused_imports)]

use std::time::Duration;

use serde_json::Value;
use tokendist_sim::RunningSim;
pub use tokendist_testkit::demo::{
    GOOD_VM, GOOD_VM_ID, PROJECT, TAMPERED_VM, TAMPERED_VM_ID, ZONE, demo_path,
    demo_scenario as demo,
};
pub use tokendist_testkit::gcpsim::{start, start_demo};

pub mod gcloud;

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
