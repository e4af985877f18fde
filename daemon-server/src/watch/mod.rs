//! The audit watch (issue 13): per project with approved VMs, a Pub/Sub pull subscription on the
//! project's Logging sink topic keeps each approved VM's audit verdict current, and a reconciliation
//! makes ONE `entries:list` per project per interval from the stored watermark (plus, once per newly
//! approved VM, the direct read of its history before the watch: its baseline). The state lives in
//! the store (`watch`), so replicas share it; writes are compare-and-set and applying entries is
//! idempotent, so two replicas reconciling the same project at once only repeat work (the loser
//! re-reads, merges and writes again). A denied method after an approval revokes it at once
//! ([`revoke`]). Releases read the state through [`release_source`].
//!
//! Files: `config` (settings), `pubsub` (the REST client), `revoke` (auto-revocation events),
//! `release_source` (what a release takes from the watch), this file (the loops and the
//! compare-and-set update).

pub mod config;
pub mod pubsub;
pub mod release_source;
pub mod revoke;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use tokendist_core::auditlog::AuditEntry;
use tokendist_core::auditlog::watch::{Denial, InstanceWatch, WatchState};
use tokendist_store::StoreError;

pub use config::{PubsubTarget, WatchConfig};
use tokendist_gcp::RequestAuth;

use crate::state::ServerState;
use pubsub::PubsubClient;

/// How long one pull waits for messages before asking again.
const PULL_WAIT: Duration = Duration::from_secs(10);
/// Compare-and-set attempts before an update is given up until the next round.
const CAS_ATTEMPTS: usize = 8;

/// The Pub/Sub client for `target`: none when off, anonymous for the emulator, `auth` otherwise.
pub fn pubsub_client(target: PubsubTarget, auth: RequestAuth) -> Option<PubsubClient> {
    match target {
        PubsubTarget::Off => None,
        PubsubTarget::Emulator(endpoint) => {
            Some(PubsubClient::new(endpoint, RequestAuth::anonymous()))
        }
        PubsubTarget::Endpoint(endpoint) => Some(PubsubClient::new(endpoint, auth)),
    }
}

/// Starts the watch's supervisor (reconciliation loop, which starts one puller per project).
pub fn spawn(state: ServerState, config: WatchConfig, pubsub: Option<PubsubClient>) {
    tokio::spawn(async move {
        let mut pulling: BTreeSet<String> = BTreeSet::new();
        let mut ticker = tokio::time::interval(Duration::from_secs(config.reconcile_interval_secs));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let projects = match approved_projects(&state).await {
                Ok(projects) => projects,
                Err(error) => {
                    tracing::warn!(%error, "audit watch: cannot list approvals; retrying next interval");
                    continue;
                }
            };
            for project in projects.keys() {
                if let Some(client) = &pubsub
                    && pulling.insert(project.clone())
                {
                    spawn_puller(
                        state.clone(),
                        config.clone(),
                        client.clone(),
                        project.clone(),
                    );
                }
            }
            for (project, outcome) in reconcile_projects(&state, &config, &projects).await {
                if let Err(error) = outcome {
                    tracing::warn!(project, %error, "audit watch: reconciliation failed; retrying next interval");
                }
            }
        }
    });
}

/// One reconciliation pass, as each interval runs it: every project with approved VMs, one after
/// the other. Returns each project's outcome (an error message names what failed).
pub async fn reconcile_pass(
    state: &ServerState,
    config: &WatchConfig,
) -> Result<BTreeMap<String, Result<(), String>>, StoreError> {
    let projects = approved_projects(state).await?;
    Ok(reconcile_projects(state, config, &projects).await)
}

async fn reconcile_projects(
    state: &ServerState,
    config: &WatchConfig,
    projects: &BTreeMap<String, Approved>,
) -> BTreeMap<String, Result<(), String>> {
    let mut outcomes = BTreeMap::new();
    for (project, approved) in projects {
        let outcome = reconcile(state, config, project, approved).await;
        outcomes.insert(project.clone(), outcome);
    }
    outcomes
}

/// Approved, unrevoked VMs by project: instance id → (name, zone, approval time).
type Approved = BTreeMap<String, (String, String, chrono::DateTime<Utc>)>;

async fn approved_projects(state: &ServerState) -> Result<BTreeMap<String, Approved>, StoreError> {
    let now = state.now();
    let mut projects: BTreeMap<String, Approved> = BTreeMap::new();
    for approval in state.store.list_approvals().await? {
        let expired = approval.expires_at.is_some_and(|at| at <= now);
        if approval.revoked_at.is_some() || expired {
            continue;
        }
        projects
            .entry(approval.project.clone())
            .or_default()
            .insert(
                approval.instance_id.clone(),
                (
                    approval.instance_name.clone(),
                    approval.zone.clone(),
                    approval.approved_at,
                ),
            );
    }
    Ok(projects)
}

fn resolve(template: &str, project: &str) -> String {
    template.replace("{project}", project)
}

/// Reads, changes and writes a project's state with compare-and-set; on a lost race, re-reads and
/// applies the change again (it is idempotent). Returns the denials the change caused.
pub async fn update<F>(
    state: &ServerState,
    project: &str,
    mut change: F,
) -> Result<Vec<Denial>, StoreError>
where
    F: FnMut(&mut WatchState) -> Vec<Denial>,
{
    let mut last = None;
    for _ in 0..CAS_ATTEMPTS {
        let stored = state.store.get_watch(project).await?;
        let expected = stored.as_ref().map(|s| s.revision);
        let mut watch = stored.unwrap_or_else(|| WatchState::new(project));
        let denials = change(&mut watch);
        match state.store.put_watch(watch, expected).await {
            Ok(_) => return Ok(denials),
            Err(error @ StoreError::Conflict { .. }) => last = Some(error),
            Err(other) => return Err(other),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::Config("watch update gave up".into())))
}

/// One reconciliation of `project`: track its approved VMs, read the baselines of new ones, then
/// one `entries:list` from the watermark for all of them.
async fn reconcile(
    state: &ServerState,
    config: &WatchConfig,
    project: &str,
    approved: &Approved,
) -> Result<(), String> {
    let methods = state.live().policy.audit_methods.clone();
    let tracked: BTreeMap<String, (String, chrono::DateTime<Utc>)> = approved
        .iter()
        .map(|(id, (name, _, at))| (id.clone(), (name.clone(), *at)))
        .collect();
    let current = update(state, project, |watch| {
        watch.track(&tracked);
        Vec::new()
    })
    .await
    .map_err(|e| e.to_string())?;
    debug_assert!(current.is_empty());
    let watch = state
        .store
        .get_watch(project)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_else(|| WatchState::new(project));
    for (instance_id, name) in watch.without_baseline() {
        let Some((_, zone, approved_at)) = approved.get(&instance_id) else {
            continue;
        };
        let read_at = state.now();
        let vm = state.collector.collect(project, zone, &name).await;
        let (Ok(history), Ok(data_access)) = (&vm.audit_log, &vm.data_access) else {
            tracing::warn!(
                project,
                instance_id,
                "audit watch: the baseline read failed; releases read directly until it succeeds"
            );
            continue;
        };
        let disk = vm.boot_disk.as_ref().ok();
        let baseline = InstanceWatch {
            instance_name: name.clone(),
            boot_disk_id: disk.and_then(|d| d.disk_id.clone()),
            boot_disk_name: disk.map(|d| d.name.clone()),
            approved_at: *approved_at,
            baseline_at: None,
            failing: Vec::new(),
            data_access: data_access.clone(),
        };
        let denials = update(state, project, |watch| {
            if !watch.instances.contains_key(&instance_id) {
                return Vec::new();
            }
            watch.set_baseline(&instance_id, baseline.clone(), history, &methods, read_at)
        })
        .await
        .map_err(|e| e.to_string())?;
        revoke::revoke_all(state, denials).await;
    }
    let started = state.now();
    let overlap = chrono::Duration::seconds(i64::try_from(config.overlap_secs).unwrap_or(120));
    let since = watch.read_from(started, overlap);
    let entries = state
        .collector
        .logging()
        .project_audit_entries(project, since)
        .await
        .map_err(|e| e.to_string())?;
    let denials = update(state, project, |watch| {
        let denials = watch.apply(&entries, &methods);
        watch.watermark = watch.watermark.max(Some(started));
        watch.last_reconciled = watch.last_reconciled.max(Some(state.now()));
        denials
    })
    .await
    .map_err(|e| e.to_string())?;
    tracing::debug!(project, entries = entries.len(), "audit watch: reconciled");
    revoke::revoke_all(state, denials).await;
    Ok(())
}

/// Pulls the project's subscription for as long as the server runs; every message is applied at
/// once (the entry reaches the state, and a denial revokes, within one pull round trip).
fn spawn_puller(state: ServerState, config: WatchConfig, client: PubsubClient, project: String) {
    tokio::spawn(async move {
        let topic = resolve(&config.topic, &project);
        let subscription = resolve(&config.subscription, &project);
        loop {
            match client.ensure_subscription(&topic, &subscription).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(project, %error, "audit watch: cannot create the subscription; retrying");
                    tokio::time::sleep(Duration::from_secs(config.reconcile_interval_secs)).await;
                }
            }
        }
        tracing::info!(project, subscription, "audit watch: pulling");
        loop {
            let received = match client.pull(&subscription, PULL_WAIT).await {
                Ok(received) => received,
                Err(error) => {
                    tracing::warn!(project, %error, "audit watch: pull failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if received.is_empty() {
                continue;
            }
            let mut entries: Vec<AuditEntry> = Vec::new();
            for message in &received {
                match tokendist_gcp::auditlog_decode::audit_entry_from_json(&message.data) {
                    Ok(entry) => entries.push(entry),
                    Err(error) => {
                        tracing::warn!(project, %error, "audit watch: a message is not an audit LogEntry; dropped")
                    }
                }
            }
            let methods = state.live().policy.audit_methods.clone();
            match update(&state, &project, |watch| watch.apply(&entries, &methods)).await {
                Ok(denials) => {
                    revoke::revoke_all(&state, denials).await;
                    let ack_ids = received.into_iter().map(|m| m.ack_id).collect();
                    if let Err(error) = client.acknowledge(&subscription, ack_ids).await {
                        tracing::warn!(project, %error, "audit watch: acknowledge failed (the entries will be applied again, harmlessly)");
                    }
                }
                Err(error) => {
                    tracing::warn!(project, %error, "audit watch: cannot store the entries; they will be redelivered");
                }
            }
        }
    });
}
