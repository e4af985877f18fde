//! Approving a VM in two steps both front ends share: [`plan_approval`] collects the live evidence,
//! builds the unsigned approval, runs every check and decides what the secrets are sealed to — by
//! default the VM's vTPM ([`crate::tpm_target`]: EK from the shielded identity, PCR policy given or
//! from the last verified quote), or the token server's HPKE key (`no_tpm`) — and refuses metadata
//! no approval may allow; [`commit_approval`] refuses failed checks without a forced reason, seals,
//! signs, compare-and-swaps the approval, removes the pending record and appends the typed event.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::{Approval, PcrPolicy, StoredSecret, sign, verify};
use tokendist_core::boot_image::normalize_image;
use tokendist_core::network::{names_a_serial, normalize_serial};
use tokendist_core::server_seal::{binding, seal};
use tokendist_core::verdict::CheckResult;
use tokendist_store::{ApprovedDetail, EventDetail, EventKind, EventRecord, SecretDetail};

use crate::error::ConsoleError;
use crate::never_approvable::{refuse_dangerous_allow_keys, refuse_dangerous_instance_metadata};
use crate::operations::context::Context;
use crate::operations::target::VmRef;
use crate::pcr_values::PcrSource;
use crate::review::{self, Against, Review, failed_names};
use crate::secrets_file::{self, PlainSecret};
use crate::signing_keys::{ApproverKey, load_approver_key, load_server_public};
use crate::tpm_target::SealingTarget;

/// How secrets encrypted to the token server are marked in the approval.
pub const PROTECTION_SERVER_HPKE: &str = "hpke-x25519";

/// Where the PCR values the secrets are sealed to come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PcrValues {
    /// The VM's last verified quote in the store (signed by the token server's receipt key).
    #[default]
    LastVerifiedQuote,
    /// These values (index to SHA-256 digest).
    Given(BTreeMap<u32, Vec<u8>>),
}

/// Everything an approval needs, as plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub vm: VmRef,
    /// secrets.json: `[{"name","type":"RAW|TPM|TINK","data":base64}]`.
    pub secrets_file: PathBuf,
    /// Alice's Ed25519 approval private key (PKCS#8 PEM from `tokendist keygen`).
    pub approver_key_file: PathBuf,
    /// Ignored with `no_tpm`.
    pub pcrs: PcrValues,
    /// Encrypt the secrets to the token server instead of sealing them to the vTPM.
    pub no_tpm: bool,
    /// The token server's X25519 public key (required with `no_tpm`).
    pub server_key_file: Option<PathBuf>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The TCP address the VM must connect from (an IP address).
    pub peer_address: Option<String>,
    /// The serial of the VM's mTLS client certificate (hex).
    pub client_cert_serial: Option<String>,
    pub allow_metadata_keys: Vec<String>,
    pub require_data_access: bool,
    /// Why failed checks are acceptable; signed into the approval and recorded in the event.
    pub forced_reason: Option<String>,
}

/// What the secrets are sealed to, as shown before the approval is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SealingSummary {
    /// Sealed to the VM's vTPM: its EK and the PCR policy.
    Tpm {
        ek_fingerprint: String,
        pcr_policy: PcrPolicy,
        pcr_source: PcrSource,
        /// The EK and PCR policy, in words (the `TPM sealing` section both front ends show).
        description: String,
    },
    /// Encrypted to the token server (HPKE X25519).
    Server,
}

impl SealingSummary {
    /// One phrase, e.g. "sealed to the VM's vTPM (EK ab12…, PCRs 0,7)".
    pub fn phrase(&self) -> String {
        match self {
            SealingSummary::Tpm {
                ek_fingerprint,
                pcr_policy,
                ..
            } => format!(
                "sealed to the VM's vTPM (EK {ek_fingerprint}, PCRs {})",
                pcr_policy
                    .pcrs
                    .keys()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            SealingSummary::Server => "encrypted to the token server".to_owned(),
        }
    }
}

/// What the secrets are sealed with (kept in the plan for the commit).
#[derive(Debug)]
enum Sealing {
    Tpm(Box<SealingTarget>),
    Server([u8; 32]),
}

impl Sealing {
    fn seal_all(
        &self,
        secrets: &[PlainSecret],
        instance_id: &str,
    ) -> Result<Vec<StoredSecret>, ConsoleError> {
        match self {
            Sealing::Tpm(target) => target.seal_all(secrets),
            Sealing::Server(key) => seal_to_server(secrets, key, instance_id),
        }
    }

    fn pin(&self, approval: &mut Approval) {
        if let Sealing::Tpm(target) = self {
            approval.require_tpm = true;
            approval.pcr_policy = Some(target.pcrs.policy());
            approval.ek_public_pem = Some(target.ek_public_pem.clone());
        }
    }

    fn summary(&self) -> SealingSummary {
        match self {
            Sealing::Tpm(target) => SealingSummary::Tpm {
                ek_fingerprint: target.ek_fingerprint.clone(),
                pcr_policy: target.pcrs.policy(),
                pcr_source: target.pcrs.source.clone(),
                description: target.describe(),
            },
            Sealing::Server(_) => SealingSummary::Server,
        }
    }
}

/// A reviewed, not yet signed approval: what Alice confirms. Holds the loaded secrets and key
/// until [`commit_approval`] consumes it (its `Debug` shows neither).
#[derive(Debug)]
pub struct ApprovalPlan {
    pub review: Review,
    /// The approval that will be signed (before the boot image is pinned and secrets are sealed).
    pub approval: Approval,
    pub checks: Vec<CheckResult>,
    /// Names of the failed checks, in order.
    pub failed: Vec<String>,
    /// What the secrets will be sealed to (None when the plan is blocked before it was decided).
    pub sealing: Option<SealingSummary>,
    /// Why the VM cannot be approved whatever reason is given: metadata that runs code or opens
    /// access, no EK or no verified PCR values to seal to. [`commit_approval`] refuses it.
    pub blocked: Option<ConsoleError>,
    /// The stored approval's revision this one replaces (None: a first approval).
    pub expected_revision: Option<u64>,
    /// The secrets' names, types and sizes (never their values).
    pub secrets: Vec<SecretDetail>,
    /// Why the failed checks are acceptable; the console sets it when Alice types a reason.
    pub forced_reason: Option<String>,
    sealing_with: Option<Sealing>,
    plaintext: Vec<PlainSecret>,
    approver: ApproverKey,
}

impl ApprovalPlan {
    /// Whether failed checks still need a reason (none given yet).
    pub fn needs_reason(&self) -> bool {
        let reason = self.forced_reason.as_deref().map(str::trim);
        !self.failed.is_empty() && reason.is_none_or(str::is_empty)
    }

    /// The plan back when it can be committed, else why not: what blocks it, or the failed checks
    /// without a reason. [`commit_approval`] runs it first.
    pub fn approvable(mut self) -> Result<ApprovalPlan, ConsoleError> {
        if let Some(blocked) = self.blocked.take() {
            return Err(blocked);
        }
        if self.needs_reason() {
            return Err(ConsoleError::ChecksFailed {
                failed: self.failed,
            });
        }
        Ok(self)
    }

    pub fn instance_id(&self) -> &str {
        &self.approval.instance_id
    }

    pub fn instance_name(&self) -> &str {
        &self.approval.instance_name
    }

    /// The approver key id that will sign.
    pub fn approver_id(&self) -> &str {
        &self.approver.id
    }
}

/// What a committed approval did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOutcome {
    pub instance_id: String,
    pub instance_name: String,
    pub revision: u64,
    pub secrets: usize,
    pub sealing: SealingSummary,
    pub key_id: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub forced_reason: Option<String>,
    /// Whether a pending record was removed.
    pub pending_removed: bool,
}

impl ApprovalOutcome {
    /// The outcome line both front ends show.
    pub fn line(&self) -> String {
        format!(
            "Approved {} (id {}): revision {}, {} secret(s) {}, signed by key {}{}.",
            self.instance_name,
            self.instance_id,
            self.revision,
            self.secrets,
            self.sealing.phrase(),
            self.key_id,
            self.expires_at
                .map(|t| format!(", expires {}", t.to_rfc3339()))
                .unwrap_or_default()
        )
    }
}

/// The pins of `request`, validated before anything is fetched.
struct Pins {
    peer_address: Option<String>,
    client_cert_serial: Option<String>,
}

fn pins(request: &ApprovalRequest) -> Result<Pins, ConsoleError> {
    let peer_address = match &request.peer_address {
        Some(text) => Some(
            text.trim()
                .parse::<IpAddr>()
                .map_err(|_| {
                    ConsoleError::Usage(format!("peer address {text:?} is not an IP address"))
                })?
                .to_string(),
        ),
        None => None,
    };
    let client_cert_serial = match &request.client_cert_serial {
        Some(text) if names_a_serial(text) => Some(normalize_serial(text)),
        Some(text) => {
            return Err(ConsoleError::Usage(format!(
                "client certificate serial {text:?} is not a hex serial (as `tokendist certs` prints it)"
            )));
        }
        None => None,
    };
    Ok(Pins {
        peer_address,
        client_cert_serial,
    })
}

/// Reviews the VM and prepares its approval; nothing is written.
pub async fn plan_approval(
    ctx: &Context,
    request: &ApprovalRequest,
) -> Result<ApprovalPlan, ConsoleError> {
    let now = Utc::now();
    let pins = pins(request)?;
    let server_public = match (&request.server_key_file, request.no_tpm) {
        (Some(path), true) => Some(load_server_public(path)?),
        (None, true) => return Err(ConsoleError::ServerKeyNeeded),
        (_, false) => None,
    };
    refuse_dangerous_allow_keys(&request.allow_metadata_keys)?;
    let plaintext = secrets_file::load(&request.secrets_file)?;
    let approver = load_approver_key(&request.approver_key_file)?;
    let target = request.vm.resolve(&*ctx.store).await?;
    let review = review::collect(ctx.collector().await?, target, &ctx.settings, now).await;
    let instance = review
        .instance()
        .map_err(|e| ConsoleError::InstanceUnreadable(e.to_string()))?;
    let (id, name) = (instance.instance_id.clone(), instance.name.clone());
    let existing = ctx.store.get_approval(&id).await?;

    let mut approval = review.proposal(&ctx.settings, &approver.id);
    approval.approved_at = now;
    approval
        .allowed_metadata_keys
        .extend(request.allow_metadata_keys.iter().cloned());
    approval.peer_address = pins.peer_address;
    approval.client_cert_serial = pins.client_cert_serial;
    approval.expires_at = request.expires_at;
    approval.require_tpm = false;
    approval.require_data_access = request.require_data_access;
    approval.ek_public_pem = review
        .shielded_identity
        .as_ref()
        .ok()
        .and_then(|s| s.ek_pub_pem.clone());
    let checks = review.checks(&approval, Against::Proposal, &ctx.settings);
    let failed = failed_names(&checks);
    let mut blocked = refuse_dangerous_instance_metadata(instance, &failed).err();
    let sealing_with = match (server_public, &blocked) {
        (_, Some(_)) => None,
        (Some(key), None) => Some(Sealing::Server(key)),
        (None, None) => {
            let record = ctx.store.get_attestation(&id).await?;
            let given = match &request.pcrs {
                PcrValues::Given(values) => Some(values),
                PcrValues::LastVerifiedQuote => None,
            };
            match SealingTarget::new(
                &id,
                &name,
                &review.shielded_identity,
                record.as_ref(),
                given,
                ctx.receipt_key.as_ref(),
            ) {
                Ok(target) => Some(Sealing::Tpm(Box::new(target))),
                Err(refused) => {
                    blocked = Some(refused);
                    None
                }
            }
        }
    };
    if let Some(sealing) = &sealing_with {
        sealing.pin(&mut approval);
    }
    let protection = match &sealing_with {
        Some(Sealing::Tpm(_)) => crate::tpm_target::PROTECTION_TPM_ENVELOPE,
        Some(Sealing::Server(_)) => PROTECTION_SERVER_HPKE,
        None => "",
    };
    let secrets = plaintext
        .iter()
        .map(|s| SecretDetail {
            name: s.name.clone(),
            secret_type: s.secret_type.to_owned(),
            plaintext_len: u64::try_from(s.data.len()).unwrap_or(u64::MAX),
            protection: protection.to_owned(),
        })
        .collect();
    Ok(ApprovalPlan {
        sealing: sealing_with.as_ref().map(Sealing::summary),
        blocked,
        expected_revision: existing.map(|a| a.revision),
        forced_reason: request.forced_reason.clone(),
        review,
        approval,
        checks,
        failed,
        secrets,
        sealing_with,
        plaintext,
        approver,
    })
}

/// Seals the secrets, signs the approval, writes it with compare-and-swap, removes the pending
/// record and appends the `approved` event. Refuses failed checks without a forced reason.
pub async fn commit_approval(
    ctx: &Context,
    plan: ApprovalPlan,
) -> Result<ApprovalOutcome, ConsoleError> {
    let ApprovalPlan {
        review,
        mut approval,
        failed,
        sealing,
        expected_revision,
        forced_reason,
        sealing_with,
        plaintext,
        approver,
        ..
    } = plan.approvable()?;
    let (Some(sealing), Some(sealing_with)) = (sealing, sealing_with) else {
        return Err(ConsoleError::Failed(
            "the plan decided nothing to seal the secrets to; plan the approval again".into(),
        ));
    };
    let forced_reason = if failed.is_empty() {
        None
    } else {
        tracing::warn!(instance_id = %approval.instance_id, failed = ?failed, "approving despite failed checks");
        forced_reason.map(|r| r.trim().to_owned())
    };
    let now = Utc::now();
    // The live boot image is pinned only now, so an unexpected image showed as a failure before.
    if let Ok(Some(image)) = review.boot_disk().map(|d| d.source_image.as_deref()) {
        approval.boot_images = vec![normalize_image(image)];
    }
    approval.approved_at = now;
    // Signed with the approval: why Alice approved despite the failed checks (e.g. no template).
    approval.forced_reason = forced_reason.clone();
    approval.secrets = sealing_with.seal_all(&plaintext, &approval.instance_id)?;
    drop(plaintext);
    approval.revision = expected_revision.map_or(1, |r| r.saturating_add(1));
    sign(&mut approval, &approver.signing);
    verify(&approval, &[approver.verifying()])
        .map_err(|e| ConsoleError::Failed(format!("the new approval does not verify: {e}")))?;
    let signed_revision = approval.revision;
    let stored = ctx.store.put_approval(approval, expected_revision).await?;
    if stored.revision != signed_revision {
        return Err(ConsoleError::Failed(format!(
            "the store wrote revision {} but the signature covers revision {signed_revision}; the approval will not verify, approve again",
            stored.revision
        )));
    }
    let pending_removed = ctx.store.remove_pending(&stored.instance_id).await?;
    let detail = EventDetail::Approved(ApprovedDetail {
        instance_name: stored.instance_name.clone(),
        project: stored.project.clone(),
        zone: stored.zone.clone(),
        revision: stored.revision,
        previous_revision: expected_revision,
        require_tpm: stored.require_tpm,
        require_data_access: stored.require_data_access,
        pcr_policy: stored.pcr_policy.clone(),
        ek_fingerprint: match &sealing {
            SealingSummary::Tpm { ek_fingerprint, .. } => Some(ek_fingerprint.clone()),
            SealingSummary::Server => None,
        },
        expires_at: stored.expires_at,
        secrets: stored.secrets.iter().map(SecretDetail::from).collect(),
        forced_reason: forced_reason.clone(),
        failed_checks: failed,
        pending_removed,
    });
    let event = EventRecord::new(
        now,
        EventKind::Approved,
        stored.instance_id.clone(),
        approver.id.clone(),
        detail,
    );
    ctx.store.append_event(&event).await?;
    Ok(ApprovalOutcome {
        instance_id: stored.instance_id,
        instance_name: stored.instance_name,
        revision: stored.revision,
        secrets: stored.secrets.len(),
        sealing,
        key_id: approver.id,
        expires_at: stored.expires_at,
        forced_reason,
        pending_removed,
    })
}

/// Encrypts every secret to the server; the plaintext stays in zeroizing buffers.
fn seal_to_server(
    secrets: &[PlainSecret],
    server_public: &[u8; 32],
    instance_id: &str,
) -> Result<Vec<StoredSecret>, ConsoleError> {
    secrets
        .iter()
        .map(|secret| {
            let sealed = seal(
                server_public,
                &secret.data,
                &binding(instance_id, &secret.name),
                &mut rand::rng(),
            )
            .map_err(|e| {
                ConsoleError::Failed(format!("cannot encrypt secret {:?}: {e}", secret.name))
            })?;
            Ok(StoredSecret {
                name: secret.name.clone(),
                secret_type: secret.secret_type.to_owned(),
                protection: PROTECTION_SERVER_HPKE.to_owned(),
                data: STANDARD.encode(sealed),
                plaintext_len: u64::try_from(secret.data.len()).unwrap_or(u64::MAX),
            })
        })
        .collect()
}
