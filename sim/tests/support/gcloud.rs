//! The real `gcloud` CLI pointed at a `gcpsim` child process (Compute and Logging endpoints
//! overridden, no credentials, a private configuration directory), for the gcloud tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::Path;

use serde_json::Value;
use tokendist_testkit::gcpsim::{GcpsimProcess, gcloud};

use super::{GOOD_VM, ZONE, demo_path};

/// `gcloud` against a running demo `gcpsim`.
pub struct Gcloud {
    pub sim: GcpsimProcess,
    config: tempfile::TempDir,
}

impl Gcloud {
    /// Starts `gcpsim` on the demo scenario.
    pub fn start() -> Gcloud {
        Gcloud {
            sim: GcpsimProcess::spawn(Path::new(env!("CARGO_BIN_EXE_gcpsim")), &demo_path()),
            config: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs gcloud with the simulator's endpoints; returns stdout, panicking with stderr on failure.
    pub fn run(&self, args: &[&str]) -> String {
        gcloud(self.sim.api, self.config.path(), args)
    }

    /// [`Gcloud::run`] with `--format=json`, parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--format=json");
        serde_json::from_str(&self.run(&all)).unwrap()
    }

    /// `gcloud compute instances describe` of the demo's good VM.
    pub fn describe(&self) -> Value {
        self.json(&["compute", "instances", "describe", GOOD_VM, "--zone", ZONE])
    }

    /// `gcloud compute disks describe NAME`.
    pub fn disk(&self, name: &str) -> Value {
        self.json(&["compute", "disks", "describe", name, "--zone", ZONE])
    }

    /// `gcloud logging read FILTER`, as JSON entries.
    pub fn entries(&self, filter: &str) -> Vec<Value> {
        self.json(&["logging", "read", filter])
            .as_array()
            .unwrap()
            .clone()
    }
}
