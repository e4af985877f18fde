//! [`load_detail`]: everything the console's detail tabs (and `tokendist show`) show about one VM —
//! its live review, every check against its approval (or the proposal `approve` would sign), the
//! TPM section, whether the fingerprint changed since approval, the Cloud-config data and History.

use chrono::Utc;
use tokendist_core::approval::Approval;

use crate::error::ConsoleError;
use crate::operations::cloud_config_view;
use crate::operations::context::Context;
use crate::operations::history::history;
use crate::operations::model::{CloudConfigView, VmDetail};
use crate::operations::target::VmRef;
use crate::review::{self, Against, Review};
use crate::tpm_view::TpmView;

/// The approver name used for proposals that nobody signs.
pub const PROPOSAL_APPROVER: &str = "(proposal)";

/// The reviewed VM's instance id: live, else from the store's record.
pub fn review_instance_id(review: &Review) -> Option<String> {
    review
        .instance()
        .ok()
        .map(|i| i.instance_id.clone())
        .or_else(|| review.target.known_id.clone())
}

/// Collects the VM's live evidence and reads its approval, attestation and events. Google errors
/// do not fail it (they are in `review` and fail the checks that need the data); store errors do.
pub async fn load_detail(ctx: &Context, vm: &VmRef) -> Result<VmDetail, ConsoleError> {
    let store = &*ctx.store;
    let target = vm.resolve(store).await?;
    let review = review::collect(ctx.collector().await?, target, &ctx.settings, Utc::now()).await;
    let instance_id = review_instance_id(&review);
    let (stored, record, history) = match &instance_id {
        Some(id) => (
            store.get_approval(id).await?,
            store.get_attestation(id).await?,
            history(store, id).await?,
        ),
        None => (None, None, Vec::new()),
    };
    let (approval, against) = match &stored {
        Some(a) => (a.clone(), Against::Approval),
        None => (
            review.proposal(&ctx.settings, PROPOSAL_APPROVER),
            Against::Proposal,
        ),
    };
    let checks = review.checks(&approval, against, &ctx.settings);
    let tpm = TpmView::new(
        &review.shielded_identity,
        stored.as_ref(),
        record.as_ref(),
        ctx.receipt_key.as_ref(),
    );
    let fingerprint_changed = match (&stored, review.instance()) {
        (Some(a), Ok(instance)) => Some(a.fingerprint != instance.fingerprint),
        _ => None,
    };
    let live = review
        .instance()
        .ok()
        .and_then(|i| i.metadata.get("user-data").cloned());
    let (approved_text, approved_text_problem) = approved_text(stored.as_ref());
    let cloud_config = CloudConfigView {
        approved_text_problem,
        ..cloud_config_view::build(live.as_deref(), &ctx.settings, approved_text)
    };
    Ok(VmDetail {
        review,
        against,
        approval: stored,
        checks,
        fingerprint_changed,
        tpm,
        cloud_config,
        history,
    })
}

/// The approval's kept user-data text once it hashes to the signed value, else why there is none
/// (None and None without an approval).
pub fn approved_text(approval: Option<&Approval>) -> (Option<&str>, Option<String>) {
    match approval.map(Approval::verified_user_data) {
        None => (None, None),
        Some(Ok(text)) => (Some(text), None),
        Some(Err(problem)) => (None, Some(problem.to_string())),
    }
}
