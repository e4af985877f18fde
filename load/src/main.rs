//! `tokendist-load`: the load tool. One invocation measures two servers with the same load, one after
//! the other, each a child process whose CPU and RSS are read from `/proc`: the real `tokenserver`
//! (releases of N simulated VMs, each its own gcpsim instance with its own approval; gcpsim in its own
//! process, its requests per Google method counted), then a bare tonic mTLS echo (this binary's
//! `echo-server` mode). It prints a table (and `--json FILE`) with both and their ratios.
//!
//! Modules: [`cli`] (options), [`scenario`] (the N-VM gcpsim scenario), [`setup`] (gcpsim, keys,
//! approvals, tokenserver), [`caller`] (one release / one echo over one connection), [`drive`]
//! (closed and open loop), [`procstat`] (CPU and RSS from /proc), [`report`] (table and JSON),
//! [`echo`] (the baseline server).
//!
//! `tokendist-load soak` ([`soak`]) is the other mode: N VMs against several replicas on one
//! Firestore store while approvals and revocations arrive, judged for wrong releases, lost events,
//! errors and flat RSS and descriptors.

mod caller;
mod cli;
mod drive;
mod echo;
mod procstat;
mod report;
mod scenario;
mod setup;
mod soak;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;

use crate::caller::{Caller, Kind};
use crate::cli::{AuditSource, Cli, Mode, RunOptions};
use crate::drive::Samples;
use crate::procstat::RssSampler;
use crate::report::{GoogleCalls, OtherCpu, Phase, Report};
use crate::setup::World;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tokendist-load: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.mode {
        Some(Mode::EchoServer(options)) => runtime.block_on(echo::serve(options)),
        Some(Mode::Soak(options)) => runtime.block_on(soak::run(options)),
        None => runtime.block_on(run(cli.run)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tokendist-load: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: RunOptions) -> anyhow::Result<()> {
    options.validate()?;
    let tokenserver = setup::binary(&options.files.tokenserver, "tokenserver")?;
    let gcpsim = setup::binary(&options.files.gcpsim, "gcpsim")?;
    let vms = scenario::vms(options.vm_count(), options.projects);
    eprintln!(
        "tokendist-load: {} VMs; starting gcpsim ({}) and tokenserver ({})",
        vms.len(),
        gcpsim.display(),
        tokenserver.display()
    );
    let mut world = World::start(
        options.files.keep_dir.as_deref(),
        gcpsim,
        vms,
        options.projects,
        &options.latency_args(),
        options.tpm,
    )
    .await?;
    world.approve_all().await?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build the HTTP client")?;

    let watch = options.audit == AuditSource::Watch;
    let server = world
        .start_server(&tokenserver, &options.server_log, watch)
        .await?;
    if watch
        && let Err(error) = world
            .wait_for_watch(world.vms.len(), std::time::Duration::from_secs(600))
            .await
    {
        show_server_log(&mut world, &server.log_text());
        return Err(error);
    }
    let connections = match options.rate {
        Some(_) => world.vms.len(),
        None => options.concurrency,
    };
    let mut callers = Vec::with_capacity(connections);
    for i in 0..connections {
        let vm = &world.vms[i % world.vms.len()];
        callers.push(
            world
                .release_caller(vm, server.addr, &http, world.tpm.clone())
                .await?,
        );
    }
    if let Err(error) = drive::warm_up(&callers).await {
        show_server_log(&mut world, &server.log_text());
        return Err(error);
    }
    let before = world.google_requests(&http).await?;
    let (samples, cpu_ms, rss, others) = measure(
        server.pid(),
        Some(world.gcpsim.daemon.pid()),
        &options,
        &callers,
    )
    .await?;
    if !samples.errors.is_empty() || samples.unfinished > 0 {
        show_server_log(&mut world, &server.log_text());
    }
    let after = world.google_requests(&http).await?;
    let releases = samples.latencies.len() as u64;
    let google = GoogleCalls::new(
        &before,
        &after,
        releases,
        options.projects,
        samples.elapsed.as_secs_f64(),
    );
    let tokenserver_phase = Phase::new("tokenserver", samples, cpu_ms, rss, others);
    drop(callers);
    drop(server);

    let echo_phase = if options.no_echo {
        None
    } else {
        let echo = world.start_echo().await?;
        let mut callers = Vec::with_capacity(connections);
        for _ in 0..connections {
            callers.push(Arc::new(Caller {
                client: caller::connect(echo.addr, &world.pki.ca_pem, &world.client_identity)
                    .await?,
                kind: Kind::Echo {
                    token: echo_token(),
                },
            }));
        }
        drive::warm_up(&callers).await?;
        let (samples, cpu_ms, rss, others) = measure(echo.pid(), None, &options, &callers).await?;
        Some(Phase::new("echo", samples, cpu_ms, rss, others))
    };

    let ratio = |a: f64, b: f64| if b > 0.0 { Some(a / b) } else { None };
    let report = Report {
        name: options.files.name_or("run"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        load: match options.rate {
            Some(rate) => format!(
                "open {rate}/s ({})",
                if options.poisson { "poisson" } else { "fixed" }
            ),
            None => format!("closed {}", options.concurrency),
        },
        vms: world.vms.len(),
        projects: options.projects,
        duration_s: options.duration.as_secs_f64(),
        google_latency: options.latency_args(),
        tpm: options.tpm,
        audit: match options.audit {
            AuditSource::Watch => "watch".into(),
            AuditSource::Direct => "direct".into(),
        },
        build: if cfg!(debug_assertions) {
            "debug".into()
        } else {
            "release".into()
        },
        throughput_ratio: echo_phase
            .as_ref()
            .and_then(|e| ratio(tokenserver_phase.throughput_per_s, e.throughput_per_s)),
        cpu_per_request_ratio: echo_phase.as_ref().and_then(|e| {
            ratio(
                tokenserver_phase.server_cpu_ms_per_request,
                e.server_cpu_ms_per_request,
            )
        }),
        tokenserver: tokenserver_phase,
        google,
        echo: echo_phase,
    };
    crate::report::publish(&report.table(), &report, options.files.json.as_deref())?;
    Ok(())
}

/// Lines of the server's log printed when releases fail.
const LOG_TAIL: usize = 40;

/// After failed releases: the end of the server's log on stderr, and the run's directory kept.
fn show_server_log(world: &mut World, log: &str) {
    let lines: Vec<&str> = log.lines().collect();
    let tail = &lines[lines.len().saturating_sub(LOG_TAIL)..];
    let dir = world.keep();
    eprintln!(
        "tokendist-load: releases failed; the tokenserver's log ({} lines, last {} below) and the run's files are kept in {}",
        lines.len(),
        tail.len(),
        dir.display()
    );
    for line in tail {
        eprintln!("  tokenserver: {line}");
    }
}

/// Runs the load shape of `options` on `callers`, measuring the server process `pid` (CPU, RSS),
/// and the CPU of gcpsim (`gcpsim`) and of this tool over the same phase.
async fn measure(
    pid: u32,
    gcpsim: Option<u32>,
    options: &RunOptions,
    callers: &[Arc<Caller>],
) -> anyhow::Result<(Samples, f64, procstat::Rss, OtherCpu)> {
    let ticks = procstat::clock_ticks();
    let me = std::process::id();
    let rss = RssSampler::start(pid)?;
    let cpu_before = procstat::cpu_ms(pid, ticks)?;
    let wait_before = procstat::runqueue_wait_ms(pid)?;
    let gcpsim_before = gcpsim.map(|g| procstat::cpu_ms(g, ticks)).transpose()?;
    let tool_before = procstat::cpu_ms(me, ticks)?;
    let machine_before = procstat::machine_ticks()?;
    let samples = match options.rate {
        Some(rate) => drive::open(callers, rate, options.poisson, options.duration).await?,
        None => drive::closed(callers, options.duration).await?,
    };
    let cpu = procstat::cpu_ms(pid, ticks)? - cpu_before;
    let others = OtherCpu {
        server_wait_ms: procstat::runqueue_wait_ms(pid)? - wait_before,
        gcpsim_ms: match (gcpsim, gcpsim_before) {
            (Some(g), Some(before)) => Some(procstat::cpu_ms(g, ticks)? - before),
            _ => None,
        },
        tool_ms: procstat::cpu_ms(me, ticks)? - tool_before,
        machine_busy: {
            let (busy, total) = procstat::machine_ticks()?;
            let total = total - machine_before.1;
            if total > 0.0 {
                (busy - machine_before.0) / total
            } else {
                0.0
            }
        },
    };
    Ok((samples, cpu, rss.finish().await?, others))
}

/// A bearer token the size of a real identity token (the echo does not read it).
fn echo_token() -> String {
    "e".repeat(1100)
}
