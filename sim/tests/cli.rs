//! The `gcpsim` binary: ready file and stdout line, exit 78 on bad scenarios, SIGTERM, --help.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{GOOD_VM, TAMPERED_VM, demo_path};
use tokendist_testkit::gcpsim::GcpsimProcess;

fn spawn_demo() -> GcpsimProcess {
    GcpsimProcess::spawn(Path::new(env!("CARGO_BIN_EXE_gcpsim")), &demo_path())
}

#[test]
fn ready_file_lists_api_and_every_vm_metadata_address() {
    let sim = spawn_demo();
    assert!(sim.api.ip().is_loopback());
    assert_eq!(
        sim.metadata.keys().collect::<Vec<_>>(),
        [GOOD_VM, TAMPERED_VM]
    );
    assert!(sim.metadata.values().all(|addr| addr.ip().is_loopback()));
}

#[tokio::test]
async fn sigterm_stops_gcpsim_with_exit_code_zero() {
    let mut sim = tokio::task::spawn_blocking(spawn_demo).await.unwrap();
    sim.daemon.signal("TERM");
    let exit = sim.daemon.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn invalid_scenario_exits_78_naming_file_field_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[[project]]\nid = \"Bad_Project\"\nnumber = 1\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gcpsim"))
        .arg("--scenario")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("project[0].id"), "{stderr}");
    assert!(stderr.contains("not a valid project id"), "{stderr}");
}

#[test]
fn missing_scenario_file_exits_78() {
    let output = Command::new(env!("CARGO_BIN_EXE_gcpsim"))
        .args(["--scenario", "/nonexistent/demo.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/demo.toml"));
}

#[test]
fn help_documents_listeners_ready_file_and_admin_api() {
    let output = Command::new(env!("CARGO_BIN_EXE_gcpsim"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--scenario",
        "--listen",
        "--ready-file",
        "/admin/v1/keys:rotate",
        "/admin/v1/faults",
        "/admin/v1/identityTokens",
        "/v2/entries:list",
        "78",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}
