//! `tokendist revoke`: plans the revocation (the approval by id or name), asks the operator to type
//! the VM's name on the terminal (or `--yes`), then commits it ([`crate::operations::revocation`]:
//! re-signed with `revoked_at` and the reason, compare-and-swap, typed `revoked` event).

use crate::cli::{GlobalOptions, RevokeArgs};
use crate::confirm;
use crate::context::open_store;
use crate::error::ConsoleError;
use crate::operations::{commit_revocation, plan_revocation};
use crate::output::emit;
use crate::signing_keys::load_approver_key;

pub async fn run(global: &GlobalOptions, args: &RevokeArgs) -> Result<(), ConsoleError> {
    if args.reason.trim().is_empty() {
        return Err(ConsoleError::EmptyReason);
    }
    let approver = load_approver_key(&args.key)?;
    let store = open_store(&global.store, global.create).await?;
    let plan = plan_revocation(&*store, &args.instance).await?;
    if !args.yes {
        confirm::type_to_confirm(plan.instance_name(), "revoke")?;
    }
    let outcome = commit_revocation(&*store, plan, &args.reason, &approver).await?;
    emit(&format!("{}\n", outcome.line()))
}
