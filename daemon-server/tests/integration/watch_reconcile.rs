//! The audit watch's Logging reads, counted by gcpsim (`logging.entries.list` in its per-method
//! traffic): a reconciliation pass, driven directly on an in-process server state, reads the log
//! ONCE per project whatever the number of approved VMs (after their one-time baselines); and a
//! release decides `auditlog.clean` from watch state only while it is fresh — state older than
//! `watch.max_age_secs` makes the release read the log directly (which sees a denied method), and
//! stale state with Logging down is UNAVAILABLE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::SystemTime;

use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::assert_denied;
use crate::support::world::{World, demo_toml, scenario_from};
use crate::support::{GOOD_VM, GOOD_VM_ID, PROJECT};
use tokendist_daemon_kit::config::ConfigSources;
use tokendist_gcp::EvidenceCollector;
use tokendist_server::config::ServerConfig;
use tokendist_server::key_files::MissingReceiptKey;
use tokendist_server::material;
use tokendist_server::metrics::Metrics;
use tokendist_server::state::ServerState;
use tokendist_server::watch::{self, WatchConfig};
use tokendist_sim::{Api, AuditEntryInput, FaultSpec};
use tonic::Code;

/// The watch's settings in these tests: its own loop (in a server process) reconciles once at start
/// and then not for an hour, so the tests alone decide when state is fresh or stale.
const WATCH_SETTINGS: &str =
    "[watch]\nenabled = true\nreconcile_interval_secs = 3600\nmax_age_secs = 7200\n";

/// The good VM's scenario block, copied `extra` times under new names, ids and addresses.
fn scenario_with_copies_of_the_good_vm(extra: usize) -> (tokendist_sim::Scenario, Vec<String>) {
    let demo = demo_toml();
    let start = demo.find("[[vm]]\nid = \"4708131932155938716\"").unwrap();
    let end = start + demo[start..].find("\n# The same VM after Bob").unwrap();
    let block = &demo[start..end];
    let mut text = demo.clone();
    let mut names = Vec::new();
    for i in 1..=extra {
        let name = format!("tokenclient-copy-{i}");
        let copy = block
            .replace(
                "4708131932155938716",
                &format!("{}", 5_000_000_000_000_000_000u64 + i as u64),
            )
            .replace("\"tokenclient-good\"", &format!("\"{name}\""))
            .replace("10.128.0.2", &format!("10.128.1.{i}"))
            .replace("34.121.225.36", &format!("34.121.226.{i}"));
        text.push('\n');
        text.push_str(&copy);
        names.push(name);
    }
    (scenario_from(&text), names)
}

/// The server's state built in-process from the world's configuration plus `[watch]` settings,
/// as `tokenserver` builds it (the watch is driven on it directly, pass by pass).
async fn in_process_state(world: &World) -> (ServerState, WatchConfig) {
    let path = world.path("in-process.toml");
    std::fs::write(
        &path,
        world.config_text(&[&world.keys.alice.public_path], WATCH_SETTINGS),
    )
    .unwrap();
    let sources = ConfigSources {
        file: Some(path),
        ..ConfigSources::default()
    };
    let config = ServerConfig::load(&sources).unwrap();
    let origins = ServerConfig::origins(&sources);
    let loaded = material::load(
        &config,
        &origins,
        MissingReceiptKey::Create,
        SystemTime::now(),
    )
    .unwrap();
    let google = material::google_clients(&config, &origins).await.unwrap();
    let state = ServerState::new(
        Arc::clone(&world.store),
        Arc::new(google.jwks),
        EvidenceCollector::new(google.compute.clone(), google.logging),
        google.compute,
        Metrics::new(),
        loaded.live,
    );
    (state, config.watch)
}

/// gcpsim's count of `logging.entries.list` requests so far.
fn entries_list_calls(world: &World) -> u64 {
    world.sim.handle().entries_list_calls()
}

/// Runs one reconciliation pass; every project must succeed. Returns the Logging reads it made.
async fn pass(world: &World, state: &ServerState, config: &WatchConfig) -> u64 {
    let before = entries_list_calls(world);
    let outcomes = watch::reconcile_pass(state, config).await.unwrap();
    assert_eq!(
        outcomes.keys().collect::<Vec<_>>(),
        [PROJECT],
        "{outcomes:?}"
    );
    for (project, outcome) in &outcomes {
        assert!(outcome.is_ok(), "{project}: {outcome:?}");
    }
    entries_list_calls(world) - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reconciliation_reads_the_log_once_per_project_with_one_or_twenty_one_approved_vms() {
    let (scenario, copies) = scenario_with_copies_of_the_good_vm(20);
    let world = World::start_with(scenario).await;
    let (state, config) = in_process_state(&world).await;

    approve(&world, GOOD_VM, &sample_secrets("one")).await;
    // The first pass reads the new VM's history once (its baseline), then the project's log.
    assert!(pass(&world, &state, &config).await >= 2);
    assert_eq!(pass(&world, &state, &config).await, 1, "one approved VM");

    for name in &copies {
        approve(&world, name, &sample_secrets(name)).await;
    }
    let baselines = pass(&world, &state, &config).await;
    assert!(
        baselines > 20,
        "20 new baselines and the project's read: {baselines}"
    );
    let watched = world.store.get_watch(PROJECT).await.unwrap().unwrap();
    assert_eq!(
        watched.instances.len(),
        21,
        "{:?}",
        watched.instances.keys()
    );
    assert!(watched.instances.values().all(|i| i.baseline_at.is_some()));
    for _ in 0..2 {
        assert_eq!(pass(&world, &state, &config).await, 1, "21 approved VMs");
    }
}

/// Rewrites the stored watch state of the project as last reconciled `age` ago (compare-and-set).
async fn age_watch_state(world: &World, age: chrono::Duration) {
    let mut watched = world.store.get_watch(PROJECT).await.unwrap().unwrap();
    let revision = watched.revision;
    watched.last_reconciled = Some(chrono::Utc::now() - age);
    world
        .store
        .put_watch(watched, Some(revision))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_watch_state_falls_back_to_the_direct_read_and_with_logging_down_is_unavailable() {
    let world = World::start().await;
    // The server starts before the approval exists: its own first reconciliation finds nothing,
    // and the next one is an hour away.
    let config = world.path("watch.toml");
    std::fs::write(
        &config,
        world.config_text(&[&world.keys.alice.public_path], WATCH_SETTINGS),
    )
    .unwrap();
    let server = world.server_with_config("watch", &config).await;
    let mut client = world.client(server.addr).await;
    approve(&world, GOOD_VM, &sample_secrets("stale")).await;
    let (state, watch_config) = in_process_state(&world).await;
    pass(&world, &state, &watch_config).await;

    // Fresh state: the release takes the audit verdict from the watch and reads no log.
    let before = entries_list_calls(&world);
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    assert_eq!(
        entries_list_calls(&world),
        before,
        "fresh state: no Logging read"
    );

    // State older than watch.max_age_secs (7200 s) with Logging down: no verdict to decide on.
    age_watch_state(&world, chrono::Duration::hours(3)).await;
    world
        .sim
        .handle()
        .inject_fault(FaultSpec {
            api: Api::Logging,
            status: Some(503),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();
    let status = world.release(&mut client, GOOD_VM).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("logging"), "{status:?}");
    world.sim.handle().clear_faults(Some(Api::Logging));

    // Stale state, Logging up: the release reads the log itself and sees a denied method that the
    // (stale) watch state does not hold.
    world
        .sim
        .handle()
        .add_audit_entry(AuditEntryInput {
            vm: Some(GOOD_VM.into()),
            method: "v1.compute.instances.setServiceAccount".into(),
            ..Default::default()
        })
        .unwrap();
    let watched = world.store.get_watch(PROJECT).await.unwrap().unwrap();
    assert!(
        watched.instances[GOOD_VM_ID].failing.is_empty(),
        "{watched:?}"
    );
    let before = entries_list_calls(&world);
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean"],
    );
    assert!(
        entries_list_calls(&world) > before,
        "stale state: the release reads the log directly"
    );
    // The direct read does not refresh the watch: it stays stale (no reconciliation ran).
    let after = world.store.get_watch(PROJECT).await.unwrap().unwrap();
    assert_eq!(after.last_reconciled, watched.last_reconciled);
}
