//! `tokendist show`: a VM's live evidence, every check (against its stored approval if it has one,
//! else against the approval `approve` would propose) and its TPM section ([`TpmView`]: EK, AK, the
//! last quote's PCRs against the approval's policy). `--json` prints [`ShowJson`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::TimelineEvent;
use tokendist_core::evidence::{
    DiskEvidence, FetchError, InstanceEvidence, ProjectEvidence, ShieldedIdentity,
};
use tokendist_core::keys::ed25519_public_from_pem;
use tokendist_core::settings::{Settings, encode_verifying_key};
use tokendist_core::verdict::CheckResult;
use tokendist_store::Store;

use crate::cli::{GlobalOptions, ShowArgs};
use crate::context::{collector, gcp_config, load_settings, open_store};
use crate::error::ConsoleError;
use crate::files::read_text;
use crate::output::{ApprovalJson, CheckJson, checks_json, emit, emit_json};
use crate::render;
use crate::review::{self, Against, Review, failed_names};
use crate::signing_keys::load_receipt_public;
use crate::target::{Target, resolve};
use crate::tpm_view::TpmView;

/// The approver name used for proposals that nobody signs.
pub const PROPOSAL_APPROVER: &str = "(proposal)";

/// `show --json`.
#[derive(Debug, Serialize)]
pub struct ShowJson<'a> {
    pub target: &'a Target,
    pub gathered_at: DateTime<Utc>,
    pub instance: Option<&'a InstanceEvidence>,
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

/// Adds the `--trust-key` files to the settings' trusted approver keys.
pub fn trust_keys(
    settings: &mut Settings,
    files: &[std::path::PathBuf],
) -> Result<(), ConsoleError> {
    for path in files {
        let pem = read_text(path, "read trusted key")?;
        let key = ed25519_public_from_pem(&pem)
            .map_err(|e| ConsoleError::bad_input(path, e.to_string()))?;
        settings
            .trusted_approver_keys
            .push(encode_verifying_key(&key));
    }
    Ok(())
}

/// The reviewed VM's instance id: live, else from the store's record.
fn review_instance_id(review: &Review) -> Option<String> {
    review
        .instance()
        .ok()
        .map(|i| i.instance_id.clone())
        .or_else(|| review.target.known_id.clone())
}

/// The stored approval of the reviewed VM, if any.
pub async fn stored_approval(
    store: &dyn Store,
    review: &Review,
) -> Result<Option<Approval>, ConsoleError> {
    match review_instance_id(review) {
        Some(id) => Ok(store.get_approval(&id).await?),
        None => Ok(None),
    }
}

pub async fn run(global: &GlobalOptions, args: &ShowArgs) -> Result<(), ConsoleError> {
    let mut settings = load_settings(global.settings.as_deref())?;
    trust_keys(&mut settings, &args.trust_keys)?;
    let store = open_store(&global.store).await?;
    let target = resolve(&*store, &args.target).await?;
    let collector = collector(&gcp_config(global)).await?;
    let review = review::collect(&collector, target, &settings, Utc::now()).await;
    let stored = stored_approval(&*store, &review).await?;
    let (approval, against) = match &stored {
        Some(a) => (a.clone(), Against::Approval),
        None => (
            review.proposal(&settings, PROPOSAL_APPROVER),
            Against::Proposal,
        ),
    };
    let checks = review.checks(&approval, against, &settings);
    let record = match review_instance_id(&review) {
        Some(id) => store.get_attestation(&id).await?,
        None => None,
    };
    let receipt_key = load_receipt_public(global.server_receipt_key.as_deref())?;
    let tpm = TpmView::new(
        &review.shielded_identity,
        stored.as_ref(),
        record.as_ref(),
        receipt_key.as_ref(),
    );
    if global.json {
        emit_json(&ShowJson::new(
            &review,
            against,
            stored.as_ref(),
            &checks,
            tpm,
        ))?;
    } else {
        let mut text = render::evidence(&review);
        if let Some(a) = &stored {
            text.push_str(&render::approval_summary(a));
        }
        text.push_str(&tpm.render());
        text.push_str(&render::checks(&checks, against));
        emit(&text)?;
    }
    match review.instance() {
        Ok(_) => Ok(()),
        Err(e) => Err(ConsoleError::Failed(format!(
            "the instance could not be read ({e}); check the name, project, zone and your access"
        ))),
    }
}
