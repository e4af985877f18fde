//! The soak's 30-second version in `make test`: the real `tokendist-load soak` binary drives two
//! debug `tokenserver` replicas on one Firestore store (the emulator `FIRESTORE_EMULATOR_HOST`
//! names, as `make test` starts it; without it this test starts its own, and fails when the
//! emulator is not installed — never a skip) with 100 VMs each re-attesting every 10 s, while 10
//! are approved and 10 revoked during the run. The run must pass every check (0 wrong releases,
//! 0 lost events, no error but the expected denials, every change committed, each replica's RSS
//! and open descriptors flat after 10 s) and the JSON report must show it. A second test: without
//! an emulator the soak refuses to run, naming the variable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use tokendist_testkit::firestore::FirestoreEmulator;
use tokendist_testkit::process::{Finished, run_to_success};

#[test]
fn a_thirty_second_soak_on_two_replicas_passes_every_check() {
    let (host, _private) = match std::env::var("FIRESTORE_EMULATOR_HOST") {
        Ok(host) if !host.is_empty() => (host, None),
        _ => {
            let emulator = FirestoreEmulator::start();
            (emulator.host().to_string(), Some(emulator))
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("soak.json");
    let Finished { stdout, .. } = run_to_success(
        Command::new(env!("CARGO_BIN_EXE_tokendist-load"))
            .arg("soak")
            .args(["--vms", "100", "--duration", "30s", "--interval", "10s"])
            .args([
                "--replicas",
                "2",
                "--warm-up",
                "10s",
                "--sample-every",
                "1s",
            ])
            .args(["--name", "soak-test"])
            .arg("--json")
            .arg(&json)
            .env("FIRESTORE_EMULATOR_HOST", &host),
        "tokendist-load soak",
    );
    assert!(stdout.contains("soak PASSED"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["passed"], true, "{stdout}");
    assert_eq!(report["replicas"], 2, "{stdout}");
    let a = &report["accounting"];
    assert_eq!(a["wrong_releases"], 0, "{stdout}");
    assert_eq!(a["lost_events"], 0, "{stdout}");
    assert_eq!(a["errors"], serde_json::json!({}), "{stdout}");
    assert!(a["releases"].as_u64().unwrap() > 0, "{stdout}");
    assert!(a["expected_denials"].as_u64().unwrap() > 0, "{stdout}");
    // Every acknowledged release has its event (the store may hold none besides).
    assert_eq!(a["stored_releases"], a["releases"], "{stdout}");
    assert_eq!(a["stored_approvals"], 10, "{stdout}");
    assert_eq!(a["stored_revocations"], 10, "{stdout}");
    assert_eq!(report["changes"].as_array().unwrap().len(), 20, "{stdout}");
    let usage = report["usage"].as_array().unwrap();
    assert_eq!(usage.len(), 2, "{stdout}");
    for replica in usage {
        assert_eq!(replica["rss_flat"], true, "{stdout}");
        assert_eq!(replica["fds_flat"], true, "{stdout}");
        assert!(
            replica["judged_samples"].as_u64().unwrap() >= 10,
            "{stdout}"
        );
    }
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["passed"] == true), "{stdout}");
    assert_eq!(checks.len(), 9, "{stdout}");
    // Without the watch, every request reads its VM's instance and audit log (gcpsim's counters).
    assert_eq!(report["audit"], "direct", "{stdout}");
    let calls = &report["google"]["per_release_by_method"];
    assert!(
        calls["compute.instances.get"].as_f64().unwrap() >= 1.0,
        "{stdout}"
    );
    assert!(
        calls["logging.entries.list"].as_f64().unwrap() >= 1.0,
        "{stdout}"
    );
}

#[test]
fn the_soak_refuses_to_run_without_an_emulator() {
    let output = Command::new(env!("CARGO_BIN_EXE_tokendist-load"))
        .args(["soak", "--vms", "20", "--duration", "5s", "--warm-up", "1s"])
        .env_remove("FIRESTORE_EMULATOR_HOST")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("FIRESTORE_EMULATOR_HOST is not set"),
        "{stderr}"
    );
}
