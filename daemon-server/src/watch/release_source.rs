//! What a release takes from the audit watch: the VM's failing entries and Data Access evidence,
//! when the watch runs and its state of the VM's project was reconciled within `watch.max_age_secs`
//! (and the VM's baseline is read). Otherwise `None`: the release reads the audit log directly.

use tokendist_core::approval::Approval;
use tokendist_core::auditlog::watch::WatchedEvidence;

use crate::state::ServerState;

/// The watch's evidence for `approval`'s VM, if fresh enough.
pub async fn fresh_evidence(state: &ServerState, approval: &Approval) -> Option<WatchedEvidence> {
    let max_age = state.live().watch_max_age?;
    let watch = match state.store.get_watch(&approval.project).await {
        Ok(watch) => watch?,
        Err(error) => {
            tracing::warn!(project = approval.project, %error, "cannot read the audit watch; reading the audit log directly");
            return None;
        }
    };
    watch.evidence_for(&approval.instance_id, state.now(), max_age)
}
