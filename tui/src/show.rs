//! `tokendist show`: a VM's live evidence, every check (against its stored approval if it has one,
//! else against the approval `approve` would propose) and its TPM section ([`TpmView`]: EK, AK, the
//! last quote's PCRs against the approval's policy). `--json` prints [`ShowJson`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::TimelineEvent;
use tokendist_core::cloudconfig::user_data_sha256_b64;
use tokendist_core::evidence::{
    DiskEvidence, FetchError, InstanceEvidence, ProjectEvidence, ShieldedIdentity,
};
use tokendist_core::verdict::CheckResult;

use crate::cli::{GlobalOptions, ShowArgs};
use crate::error::ConsoleError;
use crate::operations::{Context, load_detail};
use crate::output::{ApprovalJson, CheckJson, checks_json, emit, emit_json};
use crate::render;
use crate::review::{Against, Review, failed_names};
use crate::target::Target;
use crate::tpm_view::TpmView;

/// `show --json`.
#[derive(Debug, Serialize)]
pub struct ShowJson<'a> {
    pub target: &'a Target,
    pub gathered_at: DateTime<Utc>,
    pub instance: Option<&'a InstanceEvidence>,
    /// base64 SHA-256 of the live user-data (what an approval signs; Bob's Terraform outputs the same
    /// as `user_data_sha256`); null when the instance or its user-data could not be read.
    pub user_data_sha256: Option<String>,
    pub boot_disk: Option<&'a DiskEvidence>,
    /// The project's common instance metadata (null when it could not be read).
    pub project: Option<&'a ProjectEvidence>,
    pub shielded_identity: Option<&'a ShieldedIdentity>,
    /// Every Google API call that failed (the checks needing it fail closed).
    pub errors: Vec<&'a FetchError>,
    pub cloud_config_review: Vec<CheckJson>,
    /// Null when the audit log could not be read.
    pub timeline: Option<&'a [TimelineEvent]>,
    pub evaluated_against: Against,
    pub approval: Option<ApprovalJson>,
    pub checks: Vec<CheckJson>,
    pub failed_checks: Vec<String>,
    /// EK, AK and the last quote's PCR values against the approval's policy.
    pub tpm: TpmView,
}

impl<'a> ShowJson<'a> {
    pub fn new(
        review: &'a Review,
        against: Against,
        approval: Option<&Approval>,
        checks: &[CheckResult],
        tpm: TpmView,
    ) -> Self {
        Self {
            target: &review.target,
            gathered_at: review.gathered_at(),
            instance: review.instance().ok(),
            user_data_sha256: review
                .instance()
                .ok()
                .and_then(|i| i.metadata.get("user-data"))
                .map(|text| user_data_sha256_b64(text)),
            boot_disk: review.boot_disk().ok(),
            project: review.project().ok(),
            shielded_identity: review.shielded_identity.as_ref().ok(),
            errors: review.fetch_errors(),
            cloud_config_review: checks_json(&review.cloud_config_review),
            timeline: review.timeline.as_ref().ok().map(Vec::as_slice),
            evaluated_against: against,
            approval: approval.map(ApprovalJson::from),
            checks: checks_json(checks),
            failed_checks: failed_names(checks),
            tpm,
        }
    }
}

pub async fn run(global: &GlobalOptions, args: &ShowArgs) -> Result<(), ConsoleError> {
    let ctx = Context::open(&global.context_options(&args.trust_keys)).await?;
    let detail = load_detail(&ctx, &args.target.vm_ref()).await?;
    let review = &detail.review;
    if args.output.json {
        emit_json(&ShowJson::new(
            review,
            detail.against,
            detail.approval.as_ref(),
            &detail.checks,
            detail.tpm.clone(),
        ))?;
    } else {
        let mut text = render::evidence(review);
        if let Some(a) = &detail.approval {
            text.push_str(&render::approval_summary(a));
        }
        text.push_str(&detail.tpm.render());
        text.push_str(&render::checks(&detail.checks, detail.against));
        emit(&text)?;
    }
    match review.instance() {
        Ok(_) => Ok(()),
        Err(e) => Err(ConsoleError::InstanceUnreadable(e.to_string())),
    }
}
