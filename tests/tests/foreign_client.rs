//! The real `tokenserver` driven by a gRPC stack nobody here wrote (issue 11): Python grpcio and
//! grpcio-status (`tests/python/denial_client.py`, in the venv `scripts/pyvenv` makes from pinned
//! versions) over mTLS, as a VM with gcpsim's identity tokens. Health is SERVING; a denial's
//! details decode with `grpc_status.rpc_status.from_call` into a `google.rpc.Status` whose `Any`
//! unpacks to the `tokendist.v1.Denial` with the failed check names; UNAUTHENTICATED carries no
//! details and names the missing or non-Bearer credential; an oversized request and oversized
//! metadata are RESOURCE_EXHAUSTED. The test fails (never skips) when the venv cannot be made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{AUDIENCE, GOOD_VM, World};

/// Making the venv from PyPI the first time, then running the client.
const VENV_DEADLINE: Duration = Duration::from_secs(120);
const CLIENT_DEADLINE: Duration = Duration::from_secs(60);

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

/// Runs `program ARGS` to completion within `deadline`; panics with its output unless it exits 0.
async fn run(program: &Path, args: &[String], deadline: Duration) -> String {
    let output = tokio::time::timeout(
        deadline,
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(repository())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{} did not finish within {deadline:?}", program.display()))
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} {args:?} failed ({}):\n{stderr}",
        program.display(),
        output.status
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_grpcio_client_reads_health_denials_and_limits_in_grpc_conventions() {
    let python = run(&repository().join("scripts/pyvenv"), &[], VENV_DEADLINE).await;
    let python = PathBuf::from(python.trim());
    let world = World::start().await;
    let pki = world.path("pki");
    let arg = |flag: &str, value: &Path| [flag.to_string(), value.display().to_string()];
    let mut args = vec![
        repository()
            .join("tests/python/denial_client.py")
            .display()
            .to_string(),
        "--server".into(),
        world.server_addr.to_string(),
        "--server-name".into(),
        "localhost".into(),
        "--metadata".into(),
        world.metadata[GOOD_VM].to_string(),
        "--audience".into(),
        AUDIENCE.into(),
    ];
    args.extend(arg("--ca", &pki.join("ca.pem")));
    args.extend(arg("--cert", &pki.join("client.pem")));
    args.extend(arg("--key", &pki.join("client.key")));
    args.extend(arg("--proto-dir", &repository().join("proto")));

    let stdout = run(&python, &args, CLIENT_DEADLINE).await;
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", world.server.log_text()));
    eprintln!("the Python client's report: {report}");

    assert_eq!(
        report["health"],
        serde_json::json!({"(server)": "SERVING", "tokendist.v1.TokenService": "SERVING"}),
        "{report}"
    );

    // The good VM has no approval: PERMISSION_DENIED, pending, told `approval.state` only.
    let denial = &report["denial"];
    assert_eq!(denial["code"], "PERMISSION_DENIED", "{report}");
    assert_eq!(denial["status_code"], 7, "{report}");
    assert_eq!(denial["status_message"], denial["message"], "{report}");
    assert_eq!(
        denial["type_urls"],
        serde_json::json!(["type.googleapis.com/tokendist.v1.Denial"]),
        "{report}"
    );
    assert_eq!(denial["pending_approval"], true, "{report}");
    assert_eq!(
        denial["checks"],
        serde_json::json!([{"name": "approval.state", "outcome": "FAIL", "reason": ""}]),
        "{report}"
    );

    for (case, check) in [
        ("no_token", "identity.token_missing"),
        ("basic", "identity.token_not_bearer"),
    ] {
        assert_eq!(
            report[case],
            serde_json::json!({
                "code": "UNAUTHENTICATED",
                "message": format!("identity token refused ({check})"),
                "has_details": false,
            }),
            "{report}"
        );
    }

    // Both answered by the server (grpcio sends them: no client-side limit refused them).
    for (case, said) in [
        ("oversized", "the limit is: 4194304 bytes"),
        ("metadata", "the limit is 65536 bytes"),
    ] {
        assert_eq!(
            report[case]["code"], "RESOURCE_EXHAUSTED",
            "{case}: {report}"
        );
        assert_eq!(report[case]["has_details"], false, "{case}: {report}");
        let message = report[case]["message"].as_str().unwrap_or_default();
        assert!(message.ends_with(said), "{case}: {report}");
    }
}
