//! The real `gcloud` CLI against gcpsim, with the environment of `sim/tests/gcloud_cli.rs`: no
//! credentials, no prompts, Compute and Logging endpoints overridden to the simulator.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use super::PROJECT;

/// Runs `gcloud ARGS` against the simulator at `api`; panics with stderr on failure.
pub fn run(api: SocketAddr, config_dir: &Path, args: &[&str]) -> String {
    let output = Command::new("/usr/bin/gcloud")
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
        .unwrap();
    assert!(
        output.status.success(),
        "gcloud {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}
