//! `tokendist approve`: clap arguments → [`ApprovalRequest`] → [`plan_approval`] → print the
//! evidence, checks and what the secrets are sealed to → refuse failed checks without `--force
//! --reason` → confirm on the terminal → [`commit_approval`] → print the outcome. The operations in
//! [`crate::operations::approval`] do the work; the full-screen console calls the same ones.

use chrono::Utc;

use crate::cli::{ApproveArgs, GlobalOptions, pcr_values};
use crate::confirm;
use crate::error::ConsoleError;
use crate::expiry::parse_expiry;
use crate::operations::{ApprovalRequest, Context, SealingSummary, commit_approval, plan_approval};
use crate::output::emit;
use crate::render;
use crate::review::Against;

/// The request the command line describes (validated by the plan).
fn request(args: &ApproveArgs) -> Result<ApprovalRequest, ConsoleError> {
    let expires_at = args
        .expires
        .as_deref()
        .map(|text| parse_expiry(text, Utc::now()))
        .transpose()
        .map_err(ConsoleError::Usage)?;
    Ok(ApprovalRequest {
        vm: args.target.vm_ref(),
        secrets_file: args.secrets.clone(),
        approver_key_file: args.key.clone(),
        pcrs: pcr_values(&args.pcrs)?,
        no_tpm: args.no_tpm,
        server_key_file: args.server_key.clone(),
        expires_at,
        peer_address: args.peer_address.clone(),
        client_cert_serial: args.client_cert_serial.clone(),
        allow_metadata_keys: args.allow_metadata_keys.clone(),
        require_data_access: args.require_data_access,
        forced_reason: if args.force {
            args.reason.clone()
        } else {
            None
        },
    })
}

pub async fn run(global: &GlobalOptions, args: &ApproveArgs) -> Result<(), ConsoleError> {
    let request = request(args)?;
    let ctx = Context::open(&global.context_options(&[])).await?;
    let plan = plan_approval(&ctx, &request).await?;
    let mut text = render::evidence(&plan.review);
    text.push_str(&render::checks(&plan.checks, Against::Proposal));
    if let Some(SealingSummary::Tpm { description, .. }) = &plan.sealing {
        text.push_str(description);
    }
    if plan.blocked.is_none() {
        text.push_str(&render::plan(&plan));
    }
    emit(&text)?;
    let plan = plan.approvable()?;
    if !args.yes {
        confirm::yes_no(
            &format!(
                "Approve {} (id {})?",
                plan.instance_name(),
                plan.instance_id()
            ),
            "approve",
        )?;
    }
    let outcome = commit_approval(&ctx, plan).await?;
    emit(&format!("\n{}\n", outcome.line()))
}
