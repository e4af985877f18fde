//! The real `gcloud` CLI pointed at a `gcpsim` child process (Compute and Logging endpoints
//! overridden, no credentials, a private configuration directory), for the gcloud tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::process::Command;

use serde_json::Value;

use super::{GOOD_VM, PROJECT, SimProcess, ZONE, demo_path};

/// `gcloud` against a running demo `gcpsim`.
pub struct Gcloud {
    pub sim: SimProcess,
    config: tempfile::TempDir,
}

impl Gcloud {
    /// Starts `gcpsim` on the demo scenario.
    pub fn start() -> Gcloud {
        Gcloud {
            sim: SimProcess::spawn(&demo_path()),
            config: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs gcloud with the simulator's endpoints; returns stdout, panicking with stderr on failure.
    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new("/usr/bin/gcloud")
            .args(args)
            .env("CLOUDSDK_AUTH_DISABLE_CREDENTIALS", "true")
            .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
            .env("CLOUDSDK_CORE_PROJECT", PROJECT)
            .env(
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
                format!("http://{}/compute/v1/", self.sim.api),
            )
            .env(
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING",
                format!("http://{}/", self.sim.api),
            )
            .env("CLOUDSDK_CONFIG", self.config.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "gcloud {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
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
