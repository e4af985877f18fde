//! The approvals and revocations of a soak run, written at their planned times the way the console
//! writes them (`tui/src/operations/{approval,revocation}.rs`): a late approval is a signed
//! revision-1 record created with compare-and-swap (prepared before the run, so its write is one
//! store call), then the pending record removed and the `approved` event appended; a revocation
//! re-signs the stored record with `revoked_at` and the reason, writes it with compare-and-swap on
//! its revision, then appends the `revoked` event. The moment the `put_approval` call returned is
//! recorded as the commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use tokendist_core::approval::{self, Approval};
use tokendist_store::{
    ApprovedDetail, EventDetail, EventKind, EventRecord, RevokedDetail, SecretDetail, Store,
};
use tokio::time::Instant;

use crate::soak::plan::Planned;
use crate::soak::timeline::{Change, ChangeKind};

/// Who the events name as acting.
const ACTOR: &str = "alice@example.com";

/// Writes `planned` (time-ordered) at their times from `origin`; `prepared` holds each late
/// approval's signed record by VM index, `instance_ids` every VM's. Returns the committed changes,
/// and the error that ended the churn early, if a write failed.
pub async fn run(
    store: Arc<dyn Store>,
    alice: SigningKey,
    origin: Instant,
    planned: Vec<Planned>,
    mut prepared: BTreeMap<usize, Approval>,
    instance_ids: Vec<String>,
) -> (Vec<Change>, Option<String>) {
    let mut done = Vec::with_capacity(planned.len());
    for change in planned {
        match one(
            store.as_ref(),
            &alice,
            origin,
            change,
            &mut prepared,
            &instance_ids,
        )
        .await
        {
            Ok(committed) => done.push(committed),
            Err(error) => {
                tracing::error!("churn: {error:#}");
                return (done, Some(format!("{error:#}")));
            }
        }
    }
    (done, None)
}

async fn one(
    store: &dyn Store,
    alice: &SigningKey,
    origin: Instant,
    change: Planned,
    prepared: &mut BTreeMap<usize, Approval>,
    instance_ids: &[String],
) -> anyhow::Result<Change> {
    {
        tokio::time::sleep_until(origin + change.at).await;
        let id = instance_ids
            .get(change.vm)
            .with_context(|| format!("no VM {}", change.vm))?;
        let committed = match change.kind {
            ChangeKind::Approve => {
                let approval = prepared
                    .remove(&change.vm)
                    .with_context(|| format!("no approval prepared for VM {}", change.vm))?;
                approve(store, approval, origin).await?
            }
            ChangeKind::Revoke => revoke(store, alice, id, origin).await?,
        };
        Ok(Change {
            vm: change.vm,
            ..committed
        })
    }
}

/// Creates the approval, then removes the pending record and appends the `approved` event.
async fn approve(store: &dyn Store, approval: Approval, origin: Instant) -> anyhow::Result<Change> {
    let started = origin.elapsed().as_secs_f64();
    let name = approval.instance_name.clone();
    let stored = store
        .put_approval(approval, None)
        .await
        .with_context(|| format!("cannot approve {name}"))?;
    let committed = origin.elapsed().as_secs_f64();
    let pending_removed = store.remove_pending(&stored.instance_id).await?;
    let event = EventRecord::new(
        chrono::Utc::now(),
        EventKind::Approved,
        stored.instance_id.clone(),
        ACTOR,
        EventDetail::Approved(ApprovedDetail {
            instance_name: stored.instance_name.clone(),
            project: stored.project.clone(),
            zone: stored.zone.clone(),
            revision: stored.revision,
            previous_revision: None,
            require_tpm: stored.require_tpm,
            require_data_access: stored.require_data_access,
            pcr_policy: stored.pcr_policy.clone(),
            ek_fingerprint: None,
            expires_at: stored.expires_at,
            secrets: stored.secrets.iter().map(SecretDetail::from).collect(),
            forced_reason: None,
            failed_checks: Vec::new(),
            pending_removed,
        }),
    );
    store
        .append_event(&event)
        .await
        .with_context(|| format!("cannot record the approval of {name}"))?;
    Ok(Change {
        vm: 0,
        kind: ChangeKind::Approve,
        started,
        committed,
        revision: stored.revision,
        event_id: event.id.to_string(),
    })
}

/// Re-signs the approval of `instance_id` as revoked, writes it, appends the `revoked` event.
async fn revoke(
    store: &dyn Store,
    alice: &SigningKey,
    instance_id: &str,
    origin: Instant,
) -> anyhow::Result<Change> {
    let mut revoked = store
        .get_approval(instance_id)
        .await?
        .with_context(|| format!("no approval of {instance_id} to revoke"))?;
    let reason = "soak: revoked during the run";
    let expected = revoked.revision;
    let now = chrono::Utc::now();
    revoked.revoked_at = Some(now);
    revoked.revoke_reason = Some(reason.into());
    revoked.revision = expected.saturating_add(1);
    approval::sign(&mut revoked, alice);
    let name = revoked.instance_name.clone();
    let started = origin.elapsed().as_secs_f64();
    let stored = store
        .put_approval(revoked, Some(expected))
        .await
        .with_context(|| format!("cannot revoke {name}"))?;
    let committed = origin.elapsed().as_secs_f64();
    let event = EventRecord::new(
        now,
        EventKind::Revoked,
        stored.instance_id.clone(),
        ACTOR,
        EventDetail::Revoked(RevokedDetail {
            instance_name: stored.instance_name.clone(),
            reason: reason.into(),
            revision: stored.revision,
            previous_revision: expected,
            audit_entry: None,
        }),
    );
    store
        .append_event(&event)
        .await
        .with_context(|| format!("cannot record the revocation of {name}"))?;
    Ok(Change {
        vm: 0,
        kind: ChangeKind::Revoke,
        started,
        committed,
        revision: stored.revision,
        event_id: event.id.to_string(),
    })
}
