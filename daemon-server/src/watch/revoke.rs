//! Auto-revocation: a denied method on an approved VM, its boot disk or its project's metadata
//! revokes the approval at once, recorded as a `revoked` event by `server` that carries the audit
//! entry, with a receipt signed by the server's receipt key over the entry's digest.

use sha2::{Digest, Sha256};
use tokendist_core::auditlog::watch::Denial;
use tokendist_core::receipt::Receipt;
use tokendist_store::records::{EventKind, EventRecord};
use tokendist_store::{EventDetail, EventId, Revocation, RevokedDetail, StoreError};

use crate::state::ServerState;

/// The actor of watch revocations.
pub const ACTOR: &str = "server:audit-watch";

/// Revokes for every denial (once per approval: an already revoked approval is left alone).
pub async fn revoke_all(state: &ServerState, denials: Vec<Denial>) {
    for denial in denials {
        if let Err(error) = revoke(state, &denial).await {
            tracing::error!(instance_id = denial.instance_id, %error, "audit watch: could not revoke after a denied method");
        }
    }
}

async fn revoke(state: &ServerState, denial: &Denial) -> Result<(), StoreError> {
    let Some(approval) = state.store.get_approval(&denial.instance_id).await? else {
        return Ok(());
    };
    if approval.revoked_at.is_some() {
        return Ok(());
    }
    let now = state.now();
    let reason = format!("revoked by the audit watch: {}", denial.reason);
    let revoked = match state
        .store
        .revoke(
            &denial.instance_id,
            Revocation::new(reason.clone(), now, approval.revision),
        )
        .await
    {
        Ok(revoked) => revoked,
        // Another replica (or Alice) revoked first.
        Err(StoreError::Conflict { .. }) => return Ok(()),
        Err(other) => return Err(other),
    };
    let event_id = EventId::generate(now);
    let mut event = EventRecord::new(
        now,
        EventKind::Revoked,
        denial.instance_id.clone(),
        ACTOR,
        EventDetail::Revoked(RevokedDetail {
            instance_name: revoked.instance_name.clone(),
            reason,
            revision: revoked.revision,
            previous_revision: approval.revision,
            audit_entry: Some(denial.entry.clone()),
        }),
    );
    event.id = event_id;
    let entry_json = serde_json::to_vec(&denial.entry).unwrap_or_default();
    let digest: [u8; 32] = Sha256::digest(&entry_json).into();
    let receipt = Receipt::issue(
        &state.live().keys.receipt_key,
        &event.id.to_string(),
        &denial.instance_id,
        Vec::new(),
        digest,
        now,
    );
    event.receipt = serde_json::to_value(&receipt).ok();
    state.store.append_event(&event).await?;
    tracing::warn!(
        instance_id = denial.instance_id,
        method = denial.entry.method_name,
        principal = denial.entry.principal_email.as_deref().unwrap_or(""),
        event = %event.id,
        "audit watch revoked an approval after a denied method"
    );
    Ok(())
}
