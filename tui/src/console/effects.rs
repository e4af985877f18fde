//! The effects runner: carries out the update function's [`Command`]s in background tokio tasks with
//! the shared [`crate::operations`], and sends each result back as an [`Event`] through a channel —
//! the UI loop never waits for the store or Google. A newer detail load aborts the older one; an
//! approval commits exactly the plan Alice was shown (kept here by its generation number, with the
//! loaded secrets and key, never in the model).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokendist_core::boot_image::normalize_image;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::command::Command;
use super::event::Event;
use super::failure::{Failure, FailureKind};
use super::model::{ApprovalInputs, PlanSummary, VmTarget};
use crate::expiry::parse_expiry;
use crate::operations::{
    self, ApprovalPlan, ApprovalRequest, Context, SealingSummary, VmRef, commit_approval,
    commit_revocation, load_detail, plan_approval, plan_revocation,
};
use crate::signing_keys::load_approver_key;

/// What the runner needs besides the operations' context: the files the command line named.
#[derive(Debug, Clone, Default)]
pub struct EffectFiles {
    /// Alice's approval private key (`--key`).
    pub approver_key: Option<PathBuf>,
    /// The token server's X25519 public key (`--server-key`, for approvals without TPM sealing).
    pub server_key: Option<PathBuf>,
    /// Where the secrets file picker looks for `*.json` files.
    pub secrets_dir: PathBuf,
}

/// Runs commands in the background; results arrive on the channel given to [`Effects::new`].
#[derive(Debug)]
pub struct Effects {
    ctx: Context,
    files: EffectFiles,
    events: UnboundedSender<Event>,
    detail: Option<JoinHandle<()>>,
    /// The last plan computed, by generation (older ones are dropped when a newer one arrives).
    plans: Arc<Mutex<HashMap<u64, ApprovalPlan>>>,
}

impl Effects {
    pub fn new(ctx: Context, files: EffectFiles, events: UnboundedSender<Event>) -> Effects {
        Effects {
            ctx,
            files,
            events,
            detail: None,
            plans: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Starts `command` in the background.
    pub fn run(&mut self, command: Command) {
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        match command {
            Command::RefreshList => {
                tokio::spawn(async move {
                    let result = operations::list(&*ctx.store, Utc::now())
                        .await
                        .map_err(|e| Failure::from_console_error(&e));
                    let _ = events.send(Event::ListLoaded(result));
                });
            }
            Command::LoadHistory(instance_id) => {
                tokio::spawn(async move {
                    let result = operations::history(&*ctx.store, &instance_id)
                        .await
                        .map_err(|e| Failure::from_console_error(&e));
                    let _ = events.send(Event::HistoryLoaded {
                        instance_id,
                        result,
                    });
                });
            }
            Command::LoadDetail(target) => {
                if let Some(previous) = self.detail.take() {
                    previous.abort();
                }
                self.detail = Some(tokio::spawn(async move {
                    let result = load_detail(&ctx, &vm_ref(&target))
                        .await
                        .map(Box::new)
                        .map_err(|e| Failure::from_console_error(&e));
                    let _ = events.send(Event::DetailLoaded {
                        instance_id: target.instance_id,
                        result,
                    });
                }));
            }
            Command::PlanApproval {
                target,
                inputs,
                generation,
            } => {
                let request = self.approval_request(&target, &inputs);
                let plans = Arc::clone(&self.plans);
                tokio::spawn(async move {
                    let result = match request {
                        Ok(request) => plan_approval(&ctx, &request)
                            .await
                            .map_err(|e| Failure::from_console_error(&e)),
                        Err(failure) => Err(failure),
                    };
                    let result = result.map(|plan| {
                        let summary = Box::new(summarize(&plan));
                        if let Ok(mut plans) = plans.lock() {
                            plans.retain(|g, _| *g > generation);
                            plans.insert(generation, plan);
                        }
                        summary
                    });
                    let _ = events.send(Event::ApprovalPlanned { generation, result });
                });
            }
            Command::FindSecretsFiles => {
                let dir = self.files.secrets_dir.clone();
                tokio::task::spawn_blocking(move || {
                    let _ = events.send(Event::SecretsFilesFound(json_files(&dir)));
                });
            }
            Command::CommitApproval {
                target,
                generation,
                reason,
            } => {
                let plan = self
                    .plans
                    .lock()
                    .ok()
                    .and_then(|mut plans| plans.remove(&generation));
                tokio::spawn(async move {
                    let result = match plan {
                        Some(mut plan) => {
                            plan.forced_reason = (!reason.is_empty()).then_some(reason);
                            commit_approval(&ctx, plan)
                                .await
                                .map(|outcome| outcome.line())
                                .map_err(|e| Failure::from_console_error(&e))
                        }
                        None => Err(Failure::new(
                            FailureKind::Other,
                            "the reviewed plan is gone; press a to review the VM again",
                        )),
                    };
                    let _ = events.send(Event::Approved {
                        instance_id: target.instance_id,
                        result,
                    });
                });
            }
            Command::CommitRevocation { target, reason } => {
                let key = self.files.approver_key.clone();
                tokio::spawn(async move {
                    let result = revoke(&ctx, key, &target, &reason).await;
                    let _ = events.send(Event::Revoked {
                        instance_id: target.instance_id,
                        result,
                    });
                });
            }
        }
    }

    /// The operations' approval request for what Alice entered.
    fn approval_request(
        &self,
        target: &VmTarget,
        inputs: &ApprovalInputs,
    ) -> Result<ApprovalRequest, Failure> {
        let approver_key_file = self.files.approver_key.clone().ok_or_else(no_key)?;
        let expires_at = match inputs.expiry.trim() {
            "" => None,
            text => Some(parse_expiry(text, Utc::now()).map_err(|e| {
                Failure::new(FailureKind::Refused, format!("expiry {text:?}: {e}"))
            })?),
        };
        Ok(ApprovalRequest {
            vm: vm_ref(target),
            secrets_file: self.files.secrets_dir.join(inputs.secrets_file.trim()),
            approver_key_file,
            no_tpm: !inputs.require_tpm,
            server_key_file: self.files.server_key.clone(),
            expires_at,
            ..ApprovalRequest::default()
        })
    }
}

fn no_key() -> Failure {
    Failure::new(FailureKind::KeyFile, "no approval key")
}

async fn revoke(
    ctx: &Context,
    key: Option<PathBuf>,
    target: &VmTarget,
    reason: &str,
) -> Result<String, Failure> {
    let key = key.ok_or_else(no_key)?;
    let fail = |e: crate::error::ConsoleError| Failure::from_console_error(&e);
    let approver = load_approver_key(&key).map_err(fail)?;
    let plan = plan_revocation(&*ctx.store, &target.instance_id)
        .await
        .map_err(fail)?;
    let outcome = commit_revocation(&*ctx.store, plan, reason, &approver)
        .await
        .map_err(fail)?;
    Ok(outcome.line())
}

/// The operations' reference to a listed VM: its instance id, where the store says it lives.
fn vm_ref(target: &VmTarget) -> VmRef {
    VmRef {
        instance: target.instance_id.clone(),
        project: Some(target.project.clone()),
        zone: Some(target.zone.clone()),
    }
}

/// What the approve dialog shows of a plan.
pub fn summarize(plan: &ApprovalPlan) -> PlanSummary {
    let approval = &plan.approval;
    // The live boot image is what commit pins.
    let boot_images = match plan.review.boot_disk() {
        Ok(disk) => match disk.source_image.as_deref() {
            Some(image) => vec![normalize_image(image)],
            None => approval.boot_images.clone(),
        },
        Err(_) => approval.boot_images.clone(),
    };
    let (pcrs, ek_fingerprint, pcr_problem) = match &plan.sealing {
        Some(SealingSummary::Tpm {
            ek_fingerprint,
            pcr_policy,
            ..
        }) => (
            pcr_policy
                .pcrs
                .iter()
                .map(|(i, v)| (*i, v.clone()))
                .collect(),
            Some(ek_fingerprint.clone()),
            None,
        ),
        Some(SealingSummary::Server) => (
            Vec::new(),
            None,
            Some("none: the secrets are encrypted to the token server".to_owned()),
        ),
        None => (
            Vec::new(),
            None,
            Some("undecided: the plan is blocked".to_owned()),
        ),
    };
    PlanSummary {
        instance_id: approval.instance_id.clone(),
        name: approval.instance_name.clone(),
        project: approval.project.clone(),
        zone: approval.zone.clone(),
        user_data_sha256: approval.user_data_sha256.clone(),
        fingerprint: approval.fingerprint.clone(),
        boot_images,
        pcrs,
        pcr_problem,
        ek_fingerprint,
        secrets: plan
            .secrets
            .iter()
            .map(|s| (s.name.clone(), s.secret_type.clone(), s.plaintext_len))
            .collect(),
        failed_checks: plan.failed.clone(),
        approver: Some(plan.approver_id().to_owned()),
        blocked: plan.blocked.as_ref().map(ToString::to_string),
    }
}

/// The `*.json` files of `dir`, sorted (nothing when it cannot be read).
fn json_files(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    files
}
