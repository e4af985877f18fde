//! Admission control against the real `tokenserver` with gcpsim: with `admission.max_in_progress = 1`,
//! a release held up by a slow Compute read keeps the only place; another VM's call meanwhile waits
//! `admission.queue_wait_ms` and is refused RESOURCE_EXHAUSTED "server busy" (not left to time out),
//! the held release still succeeds, and once it is done the refused VM is served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::time::{Duration, Instant};

use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::try_begin_session;
use crate::support::world::World;
use crate::support::{GOOD_VM, TAMPERED_VM};
use tokendist_sim::LatencySpec;
use tonic::Code;

/// Compute reads of instances so far, as gcpsim counted them.
fn instance_reads(world: &World) -> u64 {
    world
        .sim
        .handle()
        .traffic()
        .requests
        .get("compute.instances.get")
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_beyond_the_bound_is_refused_busy_after_its_wait_and_served_once_a_place_frees() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("admission")).await;
    let config = world.path("bounded.toml");
    std::fs::write(
        &config,
        world.config_text(
            &[&world.keys.alice.public_path],
            "[admission]\nmax_in_progress = 1\nqueue_wait_ms = 200\n",
        ),
    )
    .unwrap();
    let server = world.server_with_config("bounded", &config).await;

    world.sim.handle().set_latency(&LatencySpec {
        method: "compute.instances.get".into(),
        latency_ms: 3_000,
    });
    let reads_before = instance_reads(&world);
    let held = {
        let mut client = world.client(server.addr).await;
        let session = try_begin_session(&mut client, &world.token(GOOD_VM))
            .await
            .unwrap();
        let session_token = world.session_token(GOOD_VM, &session);
        tokio::spawn(async move {
            support::client::get_token(&mut client, &session_token, &session.session_id).await
        })
    };
    // The held release is inside its evidence round once gcpsim has its instance read.
    let deadline = Instant::now() + Duration::from_secs(20);
    while instance_reads(&world) == reads_before {
        assert!(Instant::now() < deadline, "{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut other = world.client(server.addr).await;
    let started = Instant::now();
    let busy = try_begin_session(&mut other, &world.token(TAMPERED_VM))
        .await
        .unwrap_err();
    assert_eq!(busy.code(), Code::ResourceExhausted, "{busy:?}");
    assert!(
        busy.message()
            .contains("server busy: 1 requests in progress; retry in 1 s"),
        "{busy:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "refused before its wait"
    );

    let released = held.await.unwrap();
    assert!(released.is_ok(), "{released:?}\n{}", server.log_text());
    world.sim.handle().set_latency(&LatencySpec {
        method: "compute.instances.get".into(),
        latency_ms: 0,
    });
    try_begin_session(&mut other, &world.token(TAMPERED_VM))
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    assert!(
        server.log_text().contains("server busy: call refused"),
        "{}",
        server.log_text()
    );
}
