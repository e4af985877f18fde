//! Load generator for `tokenserver` (a test, so that it shares the harness in `tests/support`; in
//! `make test` it runs a small load as a smoke test that every release succeeds under concurrency):
//! starts gcpsim in-process, approves the
//! demo's good VM, starts the real `tokenserver` binary on loopback with mTLS,
//! then drives releases from N concurrent callers (each its own TLS connection, like one VM each)
//! for a bounded number of requests, and prints throughput and latency percentiles. One request is
//! one release as a client makes it since tokens are single use: `BeginSession` (a plain-audience
//! token, minted every 20 s) + `GetToken` (a token minted for that session's audience).
//!
//! ```text
//! LOADGEN_REQUESTS=5000 LOADGEN_CONCURRENCY=256 \
//!   cargo test --release -p tokendist-server --test loadgen -- --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::approvals::{approve, sample_secrets};
use support::client::{get_token, try_begin_session};
use support::world::World;

/// A caller mints a fresh identity token this often (the server accepts tokens up to 60 s old).
const TOKEN_REFRESH: Duration = Duration::from_secs(20);

struct Options {
    requests: usize,
    concurrency: usize,
}

/// `LOADGEN_REQUESTS` (default 40) and `LOADGEN_CONCURRENCY` (default 4, positive): the defaults are
/// the smoke test's; a measurement sets both (e.g. 5000 and 256, in release).
fn options() -> anyhow::Result<Options> {
    let number = |name: &str, default: usize| -> anyhow::Result<usize> {
        match std::env::var(name) {
            Ok(value) => Ok(value.parse()?),
            Err(_) => Ok(default),
        }
    };
    let options = Options {
        requests: number("LOADGEN_REQUESTS", 40)?,
        concurrency: number("LOADGEN_CONCURRENCY", 4)?,
    };
    anyhow::ensure!(
        options.concurrency > 0,
        "LOADGEN_CONCURRENCY must be positive"
    );
    Ok(options)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread")]
async fn load() -> anyhow::Result<()> {
    let options = options()?;
    let world = Arc::new(World::start().await);
    approve(&world, support::GOOD_VM, &sample_secrets("load")).await;
    // One VM plays every caller: lift the per-instance session limit out of the way.
    let config = world.path("loadgen.toml");
    std::fs::write(
        &config,
        world.config_text(
            &[&world.keys.alice.public_path],
            "[sessions]\nrate_limit_burst = 1000000\nrate_limit_per_minute = 1000000\n",
        ),
    )?;
    let server = world.server_with_config("loadgen", &config).await;
    println!(
        "tokenserver {} on {} (store {}), gcpsim on {}",
        env!("CARGO_BIN_EXE_tokenserver"),
        server.addr,
        world.store_url,
        world.sim.api
    );

    let mut clients = Vec::with_capacity(options.concurrency);
    for _ in 0..options.concurrency {
        clients.push(world.client(server.addr).await);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut callers = Vec::new();
    for mut client in clients {
        let world = Arc::clone(&world);
        let next = Arc::clone(&next);
        let total = options.requests;
        callers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures: BTreeMap<String, usize> = BTreeMap::new();
            let mut token = world.good_token();
            let mut minted = Instant::now();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                if minted.elapsed() > TOKEN_REFRESH {
                    token = world.good_token();
                    minted = Instant::now();
                }
                let sent = Instant::now();
                let result = match try_begin_session(&mut client, &token).await {
                    Ok(session) => {
                        let in_session = world.session_token(support::GOOD_VM, &session);
                        get_token(&mut client, &in_session, &session.session_id).await
                    }
                    Err(status) => Err(status),
                };
                latencies.push(sent.elapsed());
                if let Err(status) = result {
                    *failures.entry(format!("{:?}", status.code())).or_default() += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(options.requests);
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for caller in callers {
        let (mine, failed) = caller.await?;
        latencies.extend(mine);
        for (code, count) in failed {
            *failures.entry(code).or_default() += count;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let ok = latencies.len() - failures.values().sum::<usize>();
    println!(
        "{} GetToken requests, {} concurrent callers, {:.2} s: {:.0} requests/s; {ok} released, failures {failures:?}",
        latencies.len(),
        options.concurrency,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
    );
    println!(
        "latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 90.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        percentile(&latencies, 100.0).as_secs_f64() * 1e3,
    );
    drop(server);
    anyhow::ensure!(
        failures.is_empty(),
        "{} of {} releases failed: {failures:?}",
        latencies.len() - ok,
        latencies.len()
    );
    Ok(())
}
