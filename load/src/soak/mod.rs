//! `tokendist-load soak`: N simulated VMs re-attesting at a steady open-loop rate against R
//! `tokenserver` replicas sharing one Firestore store on the emulator (`FIRESTORE_EMULATOR_HOST`;
//! a fresh project id per run), while approvals and revocations are written during the run as the
//! console writes them. Afterwards the store's events are read back and the run is judged: no wrong
//! release, no lost event, no error but the expected denials, every planned change committed, each
//! replica's RSS and open descriptors flat after the warm-up. It prints a table, writes `--json`,
//! and fails naming every failed check.
//!
//! Modules: [`options`] (the command line), [`plan`] (roles, churn times, send times), [`drive`]
//! (the open loop), [`churn`] (approvals and revocations), [`timeline`] (the accounting),
//! [`resources`] (RSS and descriptors), [`report`] (table and JSON).

pub mod churn;
pub mod drive;
pub mod options;
pub mod plan;
pub mod report;
pub mod resources;
pub mod timeline;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use tokendist_store::{EventDetail, EventQuery};
use tokendist_testkit::process::Serving;
use tokio::time::Instant;

use crate::caller::Caller;
use crate::cli::AuditSource;
use crate::report::GoogleCalls;
use crate::scenario;
use crate::setup::{self, World};
use crate::soak::options::SoakOptions;
use crate::soak::report::{Check, Latency, SoakReport};
use crate::soak::timeline::{Role, StoredEvent, Timeline, Vm};

/// At most this many events are read back from the store.
const EVENT_LIMIT: usize = 50_000_000;

/// With `--audit watch`, how long the replicas may take to baseline the initially approved VMs.
const WATCH_BASELINE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs the soak; an error when it could not run or when a check failed (after the report).
pub async fn run(options: SoakOptions) -> anyhow::Result<()> {
    options.validate()?;
    let emulator = std::env::var(tokendist_store::FIRESTORE_EMULATOR_HOST_ENV)
        .ok()
        .filter(|h| !h.is_empty())
        .context(
            "FIRESTORE_EMULATOR_HOST is not set: the soak runs on the Firestore emulator \
             (scripts/with-firestore-emulator CMD starts one)",
        )?;
    let tokenserver = setup::binary(&options.files.tokenserver, "tokenserver")?;
    let gcpsim = setup::binary(&options.files.gcpsim, "gcpsim")?;
    let project = options
        .project
        .clone()
        .unwrap_or_else(|| format!("soak-{}", hex::encode(rand::random::<[u8; 6]>())));
    let vms = scenario::vms(options.vms, 1);
    eprintln!(
        "tokendist-load soak: {} VMs, {} replica(s), Firestore emulator {emulator} project {project}",
        vms.len(),
        options.replicas
    );
    let mut world = World::start(
        options.files.keep_dir.as_deref(),
        gcpsim,
        vms,
        1,
        &[],
        false,
    )
    .await?;
    world.use_store(format!("firestore://{project}"));
    let store = world.open_store().await?;
    let (roster, prepared) = approve_initial(&world, store.as_ref()).await?;
    let planned = plan::changes(roster.len(), options.duration);

    let mut servers: Vec<Serving> = Vec::with_capacity(options.replicas);
    let watch = options.audit == AuditSource::Watch;
    let config = world.server_config(watch);
    for r in 0..options.replicas {
        let name = format!("tokenserver-{}", r + 1);
        servers.push(
            world
                .start_named_server(&name, &tokenserver, &options.server_log, &config)
                .await?,
        );
    }
    if watch {
        let initially_approved = roster
            .iter()
            .filter(|vm| matches!(vm.role, Role::Approved | Role::Revoked))
            .count();
        world
            .wait_for_watch(initially_approved, WATCH_BASELINE_TIMEOUT)
            .await?;
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build the HTTP client")?;
    let callers = connect(&world, &servers, &http).await?;
    let google_before = world.google_requests(&http).await?;
    eprintln!(
        "tokendist-load soak: {} connections open; sending {:.1} releases/s for {:?}",
        callers.len(),
        options.rate(),
        options.duration
    );

    let origin = Instant::now();
    let samplers: Vec<_> = servers
        .iter()
        .map(|s| resources::Sampler::start(s.pid(), origin, options.sample_every))
        .collect();
    let churn = tokio::spawn(churn::run(
        Arc::clone(&store),
        world.keys.alice.key.clone(),
        origin,
        planned.clone(),
        prepared,
        roster.iter().map(|vm| vm.instance_id.clone()).collect(),
    ));
    let driven = drive::run(&callers, origin, options.interval, options.duration).await;
    let elapsed = origin.elapsed().as_secs_f64();
    let (changes, churn_error) = churn.await.context("the churn task failed")?;
    let google_after = world.google_requests(&http).await?;
    let samples: Vec<_> = samplers
        .into_iter()
        .map(resources::Sampler::finish)
        .collect();

    let events = read_events(store.as_ref()).await?;
    let timeline = Timeline {
        vms: roster,
        attempts: driven.attempts,
        changes,
        events,
    };
    let accounting = timeline.account();
    let usage: Vec<_> = servers
        .iter()
        .zip(samples)
        .enumerate()
        .map(|(r, (server, samples))| {
            resources::judge(
                &format!("tokenserver-{}", r + 1),
                server.pid(),
                samples,
                options.warm_up().as_secs_f64(),
                options.fd_slack,
            )
        })
        .collect();
    let google = GoogleCalls::new(
        &google_before,
        &google_after,
        accounting.releases,
        1,
        elapsed,
    );
    let report = build_report(
        &options,
        &world,
        &timeline,
        planned.len(),
        accounting,
        driven.latencies,
        usage,
        elapsed,
        churn_error,
        google,
    );
    crate::report::publish(&report.table(), &report, options.files.json.as_deref())?;
    drop(callers);
    drop(servers);
    if report.passed {
        return Ok(());
    }
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    let dir = world.keep();
    anyhow::bail!(
        "the soak failed: {} (the replicas' logs and the run's files are kept in {})",
        failed.join(", "),
        dir.display()
    )
}

/// Approves the VMs approved from the start (the `approved` and `revoked` roles), prepares the
/// signed records of the late approvals; returns every VM with its role, and those records.
async fn approve_initial(
    world: &World,
    store: &dyn tokendist_store::Store,
) -> anyhow::Result<(Vec<Vm>, BTreeMap<usize, tokendist_core::approval::Approval>)> {
    let compute = world.compute().await?;
    let mut roster = Vec::with_capacity(world.vms.len());
    let mut prepared = BTreeMap::new();
    for (i, vm) in world.vms.iter().enumerate() {
        let role = plan::role(i);
        let approval = world.signed_approval(&compute, vm).await?;
        roster.push(Vm {
            name: vm.name.clone(),
            instance_id: approval.instance_id.clone(),
            role,
        });
        match role {
            Role::Approved | Role::Revoked => {
                store
                    .put_approval(approval, None)
                    .await
                    .with_context(|| format!("cannot store the approval of {}", vm.name))?;
            }
            Role::LateApproved => {
                prepared.insert(i, approval);
            }
            Role::Unapproved => {}
        }
        if (i + 1).is_multiple_of(200) {
            eprintln!(
                "tokendist-load soak: {}/{} VMs set up",
                i + 1,
                world.vms.len()
            );
        }
    }
    Ok((roster, prepared))
}

/// One connection per VM, VM `i` to replica `i mod R`.
async fn connect(
    world: &World,
    servers: &[Serving],
    http: &reqwest::Client,
) -> anyhow::Result<Vec<Arc<Caller>>> {
    let mut callers = Vec::with_capacity(world.vms.len());
    for (i, vm) in world.vms.iter().enumerate() {
        let server = &servers[i % servers.len()];
        callers.push(world.release_caller(vm, server.addr, http, None).await?);
    }
    Ok(callers)
}

/// Every event in the run's store.
async fn read_events(store: &dyn tokendist_store::Store) -> anyhow::Result<Vec<StoredEvent>> {
    let events = store
        .list_events(&EventQuery::latest(EVENT_LIMIT))
        .await
        .context("cannot read the events back from the store")?;
    Ok(events
        .into_iter()
        .map(|event| StoredEvent {
            approval_revision: match &event.detail {
                EventDetail::Released(detail) => Some(detail.approval_revision),
                _ => None,
            },
            id: event.id.to_string(),
            kind: event.kind,
            instance_id: event.instance_id,
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    options: &SoakOptions,
    world: &World,
    timeline: &Timeline,
    planned: usize,
    accounting: timeline::Accounting,
    latencies: Vec<f64>,
    usage: Vec<resources::Usage>,
    elapsed: f64,
    churn_error: Option<String>,
    google: GoogleCalls,
) -> SoakReport {
    let mut roles = BTreeMap::new();
    for vm in &timeline.vms {
        let role = serde_json::to_value(vm.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *roles.entry(role).or_insert(0) += 1;
    }
    let mut checks = vec![
        Check::new(
            "wrong-releases",
            accounting.wrong_releases == 0,
            format!("{} wrong releases", accounting.wrong_releases),
        ),
        Check::new(
            "lost-events",
            accounting.lost_events == 0,
            format!("{} lost events", accounting.lost_events),
        ),
        Check::new(
            "errors",
            accounting.errors.is_empty(),
            format!(
                "{} errors besides {} expected PermissionDenied",
                accounting.errors.values().sum::<u64>(),
                accounting.expected_denials
            ),
        ),
        Check::new(
            "churn",
            timeline.changes.len() == planned && churn_error.is_none(),
            format!(
                "{} of {planned} approvals/revocations committed{}",
                timeline.changes.len(),
                churn_error.map(|e| format!("; {e}")).unwrap_or_default()
            ),
        ),
        Check::new(
            "exercised",
            accounting.releases > 0 && accounting.expected_denials > 0,
            format!(
                "{} releases and {} expected denials",
                accounting.releases, accounting.expected_denials
            ),
        ),
    ];
    for u in &usage {
        checks.push(Check::new(
            &format!("{}-rss-flat", u.name),
            u.rss_flat,
            format!(
                "RSS min/median/max {}/{}/{} KiB over {} samples after the warm-up{}",
                u.rss_kib.min,
                u.rss_kib.median,
                u.rss_kib.max,
                u.judged_samples,
                suffix(&u.rss_problem)
            ),
        ));
        checks.push(Check::new(
            &format!("{}-fds-flat", u.name),
            u.fds_flat,
            format!(
                "open fds min/median/max {}/{}/{}, grew by {} (at most {}){}",
                u.fds.min,
                u.fds.median,
                u.fds.max,
                u.fds_growth,
                options.fd_slack,
                suffix(&u.fds_problem)
            ),
        ));
    }
    let max_commit_ms = timeline
        .changes
        .iter()
        .map(|c| (c.committed - c.started) * 1000.0)
        .fold(0.0, f64::max);
    SoakReport {
        name: options.files.name_or("soak"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        build: if cfg!(debug_assertions) { "debug" } else { "release" }.into(),
        store: format!("{} (Firestore emulator)", world.store_url()),
        vms: timeline.vms.len(),
        roles,
        replicas: options.replicas,
        audit: options.audit,
        duration_s: options.duration.as_secs_f64(),
        interval_s: options.interval.as_secs_f64(),
        rate_per_s: options.rate(),
        warm_up_s: options.warm_up().as_secs_f64(),
        sample_every_s: options.sample_every.as_secs_f64(),
        fd_slack: options.fd_slack,
        revocation_rule: "immediate: the server reads the approval from the store on every GetToken \
                          (its approval cache keeps only signature results and opened secrets keyed \
                          by the record's digest), so any release to a request started after the \
                          revocation committed is wrong"
            .into(),
        elapsed_s: elapsed,
        planned_changes: planned,
        changes: timeline.changes.clone(),
        max_commit_ms,
        google,
        passed: checks.iter().all(|c| c.passed),
        checks,
        accounting,
        latency: Latency::of(latencies),
        usage,
    }
}

fn suffix(problem: &Option<String>) -> String {
    problem
        .as_ref()
        .map(|p| format!(": {p}"))
        .unwrap_or_default()
}
