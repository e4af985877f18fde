//! `tokenserver` as an operator runs it under systemd, with the real binary: a fake NOTIFY_SOCKET
//! (READY=1 arrives) and a JOURNAL_STREAM naming its stderr file, so every line must carry an
//! sd-daemon priority and no ANSI escape; `/healthz`, `/readyz` and `/metrics` on `metrics_listen`
//! (every alert series present from the start, every decision counted, pending retries included);
//! `/readyz` turning 503 — naming the component — when gcpsim goes away and when the store stops
//! answering, and 200 again when they return; and `tokenserver probe` with its exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::GOOD_VM;
use crate::support::client::assert_denied;
use crate::support::server;
use crate::support::world::{World, demo_toml, scenario_from};
use tokendist_testkit::journal::{assert_journal_lines, free_port, http_get, journal_stream};
use tonic::Code;

/// Longer than the server's readiness cache (3 s) plus a component's timeout (2 s), with margin.
const FLIP: Duration = Duration::from_secs(30);

/// `tokenserver probe ARGS`, run to completion.
fn probe(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tokenserver"))
        .arg("probe")
        .args(args)
        .env_remove("TOKENDIST_CONFIG")
        .output()
        .unwrap()
}

/// Runs `tokenserver probe --config CONFIG` until it exits `code` (bounded); its stdout then.
async fn probe_until(config: &Path, code: i32) -> String {
    let until = Instant::now() + FLIP;
    loop {
        let config = config.to_str().unwrap().to_string();
        let output = tokio::task::spawn_blocking(move || probe(&["--config", &config]))
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.code() == Some(code) {
            return stdout;
        }
        assert!(
            Instant::now() < until,
            "probe never exited {code}; last: {:?} {stdout} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn get(address: SocketAddr, path: &'static str) -> (u16, String) {
    tokio::task::spawn_blocking(move || http_get(address, path))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("nothing answers {path} on {address}"))
}

/// Renames the table the store's ping reads, so the store stops answering while the server runs
/// (and renames it back).
fn rename_table(database: &Path, from: &str, to: &str) {
    let connection = rusqlite::Connection::open(database).unwrap();
    connection
        .execute_batch(&format!("ALTER TABLE {from} RENAME TO {to}"))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_systemd_lines_carry_priorities_and_readiness_follows_google_and_the_store() {
    let mut world = World::start().await;
    let metrics = free_port();
    let config = world.path("observed.toml");
    let extra = format!("metrics_listen = \"{metrics}\"");
    std::fs::write(
        &config,
        world.config_text(&[&world.keys.alice.public_path], &extra),
    )
    .unwrap();
    let stream = journal_stream(&world.path("observed.log"));
    let env = [("JOURNAL_STREAM", stream.as_str())];
    let mut server = server::launch(world.dir.path(), "observed", &config, &env)
        .serving(server::READY_DEADLINE)
        .await;

    // Every series an alert uses is there before the first request.
    let (status, text) = get(metrics, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "tokendist_decisions_total{decision=\"pending\"} 0",
        "tokendist_decisions_total{decision=\"released\"} 0",
        "tokendist_failed_checks_total{check=\"tpm.quote\"} 0",
        "tokendist_dependency_errors_total{api=\"compute.disks.get\"} 0",
        "tokendist_dependency_errors_total{api=\"logging.entries.list\"} 0",
        "tokendist_requests_in_flight{rpc=\"GetToken\"} 0",
        "tokendist_pending_vms 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }

    // A pending VM asking twice is two decisions.
    let mut client = world.client(server.addr).await;
    for _ in 0..2 {
        let result = world.release(&mut client, GOOD_VM).await;
        assert_denied(result, Code::PermissionDenied, &["approval.state"]);
    }
    let (_, text) = get(metrics, "/metrics").await;
    for line in [
        "tokendist_decisions_total{decision=\"pending\"} 2",
        "tokendist_failed_checks_total{check=\"approval.state\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }

    assert_eq!(get(metrics, "/healthz").await, (200, "ok\n".to_string()));
    assert_eq!(get(metrics, "/readyz").await, (200, "ready\n".to_string()));
    assert_eq!(probe_until(&config, 0).await, "ready\n");

    // gcpsim (Compute, Logging, the JWK set) goes away, then comes back on the same address.
    let api = world.sim.api;
    let stand_in = tokendist_testkit::gcpsim::start(scenario_from(&demo_toml())).await;
    std::mem::replace(&mut world.sim, stand_in).shutdown().await;
    let body = probe_until(&config, 1).await;
    for component in ["compute: ", "logging: ", "jwks: "] {
        assert!(body.contains(component), "{component} missing:\n{body}");
    }
    assert!(!body.contains("store"), "{body}");
    let (status, _) = get(metrics, "/readyz").await;
    assert_eq!(status, 503);
    let back = tokendist_sim::RunningSim::start_at(scenario_from(&demo_toml()), api)
        .await
        .unwrap();
    probe_until(&config, 0).await;

    // The store stops answering, then answers again.
    let database = world.path("tokendist.db");
    rename_table(&database, "schema_version", "schema_version_away");
    let body = probe_until(&config, 1).await;
    assert!(body.starts_with("store: "), "{body}");
    rename_table(&database, "schema_version_away", "schema_version");
    probe_until(&config, 0).await;

    // --live asks /healthz; nothing listening is 69; no metrics_listen is 78.
    let live = probe(&["--config", config.to_str().unwrap(), "--live"]);
    assert_eq!(
        (
            live.status.code(),
            String::from_utf8_lossy(&live.stdout).as_ref()
        ),
        (Some(0), "ok\n")
    );
    let closed = tokendist_testkit::closed_port();
    let address = closed.addr().to_string();
    let none = probe(&["--address", &address]);
    assert_eq!(none.status.code(), Some(69));
    assert!(
        String::from_utf8_lossy(&none.stderr).contains(&address),
        "{none:?}"
    );
    let unconfigured = world.path("unconfigured.toml");
    std::fs::write(
        &unconfigured,
        world.config_text(&[&world.keys.alice.public_path], ""),
    )
    .unwrap();
    let missing = probe(&["--config", unconfigured.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(78), "{missing:?}");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("metrics_listen"),
        "{missing:?}"
    );

    server.signal("TERM");
    assert_eq!(
        server.wait_exit(server::READY_DEADLINE).await.code(),
        Some(0)
    );
    drop(back);
    let log = server.log_text();
    let priorities = assert_journal_lines(&log);
    assert!(priorities.contains(&6), "no info line:\n{log}");
    assert!(
        priorities.contains(&4),
        "the not-ready warnings are <4>:\n{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.starts_with("<6>") && l.contains("not ready")),
        "{log}"
    );
}
