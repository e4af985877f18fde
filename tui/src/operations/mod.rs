//! The console's operations, shared by both front ends (the subcommands in `dispatch` and the
//! full-screen console in `console`): each takes plain values and returns data — no printing, no
//! prompts, no clap types. What Alice sees is computed by the same functions the server enforces.
//!
//! - [`model`]: the data the operations return (rows, a VM's detail, plans and outcomes).
//! - [`cloud_config_view`]: the Cloud-config tab's data (diffs against the filled template and the
//!   approved text, hole values, flagged lines), from the same checks the server runs.
//! - [`context`]: [`Context`], the opened store, settings, Google clients and receipt key.
//! - [`target`]: [`VmRef`], which VM an operation is about.
//! - [`list`](mod@list): every VM, sorted by need of attention; [`detail`]: one VM's detail
//!   (`show`); [`history`](mod@history): its events, newest first.
//! - [`approval`]: plan and commit an approval; [`revocation`]: plan and commit a revocation;
//!   [`seal`](mod@seal): one secret sealed to a VM's vTPM.

pub mod approval;
pub mod cloud_config_view;
pub mod context;
pub mod detail;
pub mod history;
pub mod list;
pub mod model;
pub mod revocation;
pub mod seal;
pub mod target;

pub use approval::{
    ApprovalOutcome, ApprovalPlan, ApprovalRequest, PcrValues, SealingSummary, commit_approval,
    plan_approval,
};
pub use context::{Context, ContextOptions};
pub use detail::load_detail;
pub use history::history;
pub use list::list;
pub use revocation::{RevocationOutcome, RevocationPlan, commit_revocation, plan_revocation};
pub use seal::{SealReport, SealRequest, seal};
pub use target::VmRef;

/// The operations run in the console's background tasks (`tokio::spawn`): their futures must be
/// `Send`. Checked at compile time; never called.
fn _operations_are_send(
    ctx: &Context,
    request: &ApprovalRequest,
    plan: ApprovalPlan,
    revocation: RevocationPlan,
    approver: &crate::signing_keys::ApproverKey,
) {
    fn send<T: Send>(_: T) {}
    let store = &*ctx.store;
    send(list(store, chrono::Utc::now()));
    send(load_detail(ctx, &request.vm));
    send(history(store, ""));
    send(plan_approval(ctx, request));
    send(commit_approval(ctx, plan));
    send(plan_revocation(store, ""));
    send(commit_revocation(store, revocation, "", approver));
    send(seal(ctx, &SealRequest::default()));
    send(ctx.clone());
}
