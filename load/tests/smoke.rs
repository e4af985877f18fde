//! The load tool's smoke run in `make test`: the real `tokendist-load` binary drives a debug
//! `tokenserver` (gcpsim in its own process, 20 ms injected on `compute.instances.get`) with two
//! closed-loop callers for 2 s, then the echo baseline; the run must complete, every release must
//! succeed (failures would be listed by gRPC code), and the JSON report must carry every column.
//! A second short run with `--tpm` (no echo) must attest every release through the server's real
//! TPM path with the software TPM: no failure, the server's log shows each attestation proven, and
//! each release reads the shielded identity twice (Attest's EK check and the evidence). No timing is
//! asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use tokendist_testkit::process::{Finished, run_to_success};

#[test]
fn a_short_run_completes_and_reports_both_servers() {
    let dir = tempfile_dir();
    let json = dir.join("report.json");
    let Finished { stdout, .. } = run_to_success(
        Command::new(env!("CARGO_BIN_EXE_tokendist-load"))
            .args(["--concurrency", "2", "--vms", "3", "--duration", "2s"])
            .args(["--latency", "compute.instances.get=20ms", "--name", "smoke"])
            .arg("--json")
            .arg(&json),
        "tokendist-load",
    );
    assert!(stdout.contains("| tokenserver |"), "{stdout}");
    assert!(stdout.contains("| echo |"), "{stdout}");
    assert!(
        stdout.contains("tokenserver / echo: throughput"),
        "{stdout}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let server = &report["tokenserver"];
    assert_eq!(server["errors"], serde_json::json!({}), "{report:#}");
    assert_eq!(server["unfinished"], 0, "{report:#}");
    assert!(server["ok"].as_u64().unwrap() > 0, "{report:#}");
    assert_eq!(server["ok"], server["requests"], "{report:#}");
    assert!(
        server["server_cpu_ms"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    assert!(
        server["server_rss"]["max_kib"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    // Every release reads the instance at least once, and gcpsim counted it.
    assert!(
        report["google"]["per_release_by_method"]["compute.instances.get"]
            .as_f64()
            .unwrap()
            >= 1.0,
        "{report:#}"
    );
    assert_eq!(
        report["google_latency"],
        serde_json::json!(["compute.instances.get=20ms"])
    );
    let echo = &report["echo"];
    assert_eq!(echo["errors"], serde_json::json!({}), "{report:#}");
    assert!(echo["ok"].as_u64().unwrap() > 0, "{report:#}");
    assert!(report["throughput_ratio"].as_f64().unwrap() > 0.0);
    assert!(report["cpu_per_request_ratio"].as_f64().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_short_tpm_run_attests_every_release_with_the_software_tpm() {
    let base = tempfile_dir();
    let dir = base.join("tpm");
    let json = dir.join("report.json");
    let Finished { stdout, .. } = run_to_success(
        Command::new(env!("CARGO_BIN_EXE_tokendist-load"))
            .args(["--concurrency", "2", "--vms", "2", "--duration", "2s"])
            .args(["--tpm", "--no-echo", "--name", "smoke-tpm"])
            .args(["--server-log", "warn,tokendist_server::prove=info"])
            .arg("--keep-dir")
            .arg(&dir)
            .arg("--json")
            .arg(&json),
        "tokendist-load --tpm",
    );
    assert!(stdout.contains("software-TPM attestation"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["tpm"], true, "{report:#}");
    let server = &report["tokenserver"];
    assert_eq!(server["errors"], serde_json::json!({}), "{report:#}");
    let releases = server["ok"].as_u64().unwrap();
    assert!(releases > 0, "{report:#}");
    assert_eq!(server["ok"], server["requests"], "{report:#}");
    // The TPM path reads the shielded identity once (Attest: the EK to encrypt the challenge to);
    // the release itself does not read it.
    assert_eq!(
        report["google"]["per_release_by_method"]["compute.instances.getShieldedInstanceIdentity"],
        1.0,
        "{report:#}"
    );
    // One proven attestation per release, the two warm-ups included.
    let log = std::fs::read_to_string(dir.join("tokenserver.log")).unwrap();
    let proven = log.matches("attestation proven").count() as u64;
    assert_eq!(proven, releases + 2, "{log}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn bad_options_are_refused_with_a_clear_error() {
    for (args, needle) in [
        (
            &["--concurrency", "0"][..],
            "--concurrency must be positive",
        ),
        (
            &["--vms", "1", "--projects", "2"][..],
            "--projects 2 is more than the 1 VMs",
        ),
        (&["--google-latency", "soon"][..], "not a duration"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_tokendist-load"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tokendist-load-smoke-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
