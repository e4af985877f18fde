//! Revoking a VM's approval in two steps both front ends share: [`plan_revocation`] finds the
//! approval (by instance id or name) and refuses one already revoked; [`commit_revocation`] writes it
//! back re-signed with `revoked_at` and the reason, with compare-and-swap on its revision, and
//! appends the typed `revoked` event. (`Store::revoke` is not used: it cannot sign, and an unsigned
//! change would make the record fail `approval.signature` instead of `approval.state`.)

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::{Approval, sign};
use tokendist_store::{EventDetail, EventKind, EventRecord, RevokedDetail, Store};

use crate::error::ConsoleError;
use crate::signing_keys::ApproverKey;

/// The approval about to be revoked.
#[derive(Debug, Clone)]
pub struct RevocationPlan {
    pub approval: Approval,
    /// The revision the revocation replaces (compare-and-swap).
    pub expected_revision: u64,
}

impl RevocationPlan {
    /// The name the operator types to confirm.
    pub fn instance_name(&self) -> &str {
        &self.approval.instance_name
    }
}

/// What a committed revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationOutcome {
    pub instance_id: String,
    pub instance_name: String,
    pub revision: u64,
    pub revoked_at: DateTime<Utc>,
    pub key_id: String,
}

impl RevocationOutcome {
    /// The outcome line both front ends show.
    pub fn line(&self) -> String {
        format!(
            "Revoked {} (id {}): revision {}, signed by key {}. The server denies its next request.",
            self.instance_name, self.instance_id, self.revision, self.key_id
        )
    }
}

/// Finds the approval of `instance` (an instance id or a VM name); refuses a revoked one.
pub async fn plan_revocation(
    store: &dyn Store,
    instance: &str,
) -> Result<RevocationPlan, ConsoleError> {
    let wanted = instance.trim();
    let approval = find_approval(store, wanted).await?;
    if let Some(at) = approval.revoked_at {
        return Err(ConsoleError::AlreadyRevoked {
            name: approval.instance_name,
            instance_id: approval.instance_id,
            at,
        });
    }
    Ok(RevocationPlan {
        expected_revision: approval.revision,
        approval,
    })
}

/// The approval whose instance id or name is `wanted`.
async fn find_approval(store: &dyn Store, wanted: &str) -> Result<Approval, ConsoleError> {
    if let Some(approval) = store.get_approval(wanted).await? {
        return Ok(approval);
    }
    let mut matches: Vec<Approval> = store
        .list_approvals()
        .await?
        .into_iter()
        .filter(|a| a.instance_name == wanted)
        .collect();
    match matches.len() {
        0 => Err(ConsoleError::NoApproval(wanted.to_owned())),
        1 => Ok(matches.remove(0)),
        n => Err(ConsoleError::Usage(format!(
            "{n} approvals are for VMs named {wanted:?}; give the instance id instead"
        ))),
    }
}

/// Re-signs the approval as revoked and writes it (compare-and-swap), then records the event.
pub async fn commit_revocation(
    store: &dyn Store,
    plan: RevocationPlan,
    reason: &str,
    approver: &ApproverKey,
) -> Result<RevocationOutcome, ConsoleError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ConsoleError::EmptyReason);
    }
    let now = Utc::now();
    let expected = plan.expected_revision;
    let mut revoked = plan.approval;
    revoked.revoked_at = Some(now);
    revoked.revoke_reason = Some(reason.to_owned());
    revoked.revision = expected.saturating_add(1);
    sign(&mut revoked, &approver.signing);
    let stored = store.put_approval(revoked, Some(expected)).await?;
    let event = EventRecord::new(
        now,
        EventKind::Revoked,
        stored.instance_id.clone(),
        approver.id.clone(),
        EventDetail::Revoked(RevokedDetail {
            instance_name: stored.instance_name.clone(),
            reason: reason.to_owned(),
            revision: stored.revision,
            previous_revision: expected,
            audit_entry: None,
        }),
    );
    store.append_event(&event).await?;
    Ok(RevocationOutcome {
        instance_id: stored.instance_id,
        instance_name: stored.instance_name,
        revision: stored.revision,
        revoked_at: now,
        key_id: approver.id.clone(),
    })
}
