//! `tokendist revoke`: after the operator types the VM's name (or `--yes`), writes the approval back
//! re-signed with `revoked_at` and the reason, with compare-and-swap on its revision, and appends a
//! `revoked` event. (`Store::revoke` is not used: it cannot sign, and an unsigned change would make
//! the record fail `approval.signature` instead of `approval.state`.)

use chrono::Utc;
use serde_json::json;
use tokendist_core::approval::{Approval, sign};
use tokendist_store::{EventKind, EventRecord, Store};

use crate::cli::{GlobalOptions, RevokeArgs};
use crate::confirm;
use crate::context::open_store;
use crate::error::ConsoleError;
use crate::output::emit;
use crate::signing_keys::load_approver_key;

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
        0 => Err(ConsoleError::Failed(format!(
            "no approval for {wanted:?} in the store; `tokendist list` shows the approved VMs"
        ))),
        1 => Ok(matches.remove(0)),
        n => Err(ConsoleError::Usage(format!(
            "{n} approvals are for VMs named {wanted:?}; give the instance id instead"
        ))),
    }
}

pub async fn run(global: &GlobalOptions, args: &RevokeArgs) -> Result<(), ConsoleError> {
    let reason = args.reason.trim();
    if reason.is_empty() {
        return Err(ConsoleError::Usage(
            "--reason is empty; say why the approval is revoked".into(),
        ));
    }
    let approver = load_approver_key(&args.key)?;
    let store = open_store(&global.store).await?;
    let current = find_approval(&*store, args.instance.trim()).await?;
    if let Some(at) = current.revoked_at {
        return Err(ConsoleError::Failed(format!(
            "the approval of {} (id {}) was already revoked at {}",
            current.instance_name,
            current.instance_id,
            at.to_rfc3339()
        )));
    }
    if !args.yes {
        confirm::type_to_confirm(&current.instance_name, "revoke")?;
    }
    let now = Utc::now();
    let expected = current.revision;
    let mut revoked = current;
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
        json!({
            "instance_name": stored.instance_name,
            "reason": reason,
            "revision": stored.revision,
            "previous_revision": expected,
        }),
    );
    store.append_event(&event).await?;
    emit(&format!(
        "Revoked {} (id {}): revision {}, signed by key {}. The server denies its next request.\n",
        stored.instance_name, stored.instance_id, stored.revision, approver.id
    ))
}
