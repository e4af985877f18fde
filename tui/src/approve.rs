//! `tokendist approve`: review a VM's live evidence, refuse on failed checks (unless `--force
//! --reason`), confirm, seal every secret — by default to the VM's vTPM ([`crate::tpm_target`]: EK
//! from the shielded identity, PCR policy from `--pcr` or the last verified quote), with `--no-tpm`
//! to the token server (HPKE) — bound to the instance and the secret's name, sign the approval and
//! write it with compare-and-swap, remove the VM's pending record and append an `approved` event.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::json;
use tokendist_core::approval::{Approval, StoredSecret, sign, verify};
use tokendist_core::boot_image::normalize_image;
use tokendist_core::network::{names_a_serial, normalize_serial};
use tokendist_core::server_seal::{binding, seal};
use tokendist_core::settings::Settings;
use tokendist_store::{EventKind, EventRecord};

use crate::cli::{ApproveArgs, GlobalOptions};
use crate::confirm;
use crate::context::{collector, gcp_config, load_settings, open_store};
use crate::error::ConsoleError;
use crate::expiry::parse_expiry;
use crate::never_approvable::{refuse_dangerous_allow_keys, refuse_dangerous_instance_metadata};
use crate::output::emit;
use crate::pcr_values::parse_pcr_args;
use crate::render;
use crate::review::{self, Against, Review, failed_names};
use crate::secrets_file::{self, PlainSecret};
use crate::signing_keys::{
    ApproverKey, load_approver_key, load_receipt_public, load_server_public,
};
use crate::target::resolve;
use crate::tpm_target::SealingTarget;

/// How secrets encrypted to the token server are marked in the approval.
pub const PROTECTION_SERVER_HPKE: &str = "hpke-x25519";

/// The message when `--no-tpm` is given without the server's key.
pub const SERVER_KEY_NEEDED: &str = "--no-tpm encrypts the secrets to the token server: pass its \
public key with --server-key secrets.pub (from `tokendist keygen --server`)";

/// Pins from the command line, checked before anything is fetched.
#[derive(Debug)]
struct Pins {
    peer_address: Option<String>,
    client_cert_serial: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

fn pins(args: &ApproveArgs, now: DateTime<Utc>) -> Result<Pins, ConsoleError> {
    let peer_address = match &args.peer_address {
        Some(text) => Some(
            text.trim()
                .parse::<IpAddr>()
                .map_err(|_| {
                    ConsoleError::Usage(format!("--peer-address {text:?} is not an IP address"))
                })?
                .to_string(),
        ),
        None => None,
    };
    let client_cert_serial = match &args.client_cert_serial {
        Some(text) if names_a_serial(text) => Some(normalize_serial(text)),
        Some(text) => {
            return Err(ConsoleError::Usage(format!(
                "--client-cert-serial {text:?} is not a hex serial (as `tokendist certs` prints it)"
            )));
        }
        None => None,
    };
    let expires_at = args
        .expires
        .as_deref()
        .map(|text| parse_expiry(text, now))
        .transpose()
        .map_err(ConsoleError::Usage)?;
    Ok(Pins {
        peer_address,
        client_cert_serial,
        expires_at,
    })
}

/// The unsigned approval the checks run against: the proposal from live evidence plus the pins.
fn build_approval(
    review: &Review,
    settings: &Settings,
    approver: &ApproverKey,
    args: &ApproveArgs,
    pins: &Pins,
    now: DateTime<Utc>,
) -> Approval {
    let mut approval = review.proposal(settings, &approver.id);
    approval.approved_at = now;
    approval
        .allowed_metadata_keys
        .extend(args.allow_metadata_keys.iter().cloned());
    approval.peer_address = pins.peer_address.clone();
    approval.client_cert_serial = pins.client_cert_serial.clone();
    approval.expires_at = pins.expires_at;
    approval.require_tpm = false;
    approval.require_data_access = args.require_data_access;
    approval.ek_public_pem = review
        .shielded_identity
        .as_ref()
        .ok()
        .and_then(|s| s.ek_pub_pem.clone());
    approval
}

/// What the secrets are sealed to: the VM's vTPM, or (`--no-tpm`) the token server's key.
#[derive(Debug)]
enum Sealing {
    Tpm(SealingTarget),
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
            Sealing::Server(key) => seal_all(secrets, key, instance_id),
        }
    }

    fn pin(&self, approval: &mut Approval) {
        if let Sealing::Tpm(target) = self {
            approval.require_tpm = true;
            approval.pcr_policy = Some(target.pcrs.policy());
            approval.ek_public_pem = Some(target.ek_public_pem.clone());
        }
    }

    fn summary(&self) -> String {
        match self {
            Sealing::Tpm(target) => format!(
                "sealed to the VM's vTPM (EK {}, PCRs {})",
                target.ek_fingerprint,
                target
                    .pcrs
                    .values
                    .keys()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Sealing::Server(_) => "encrypted to the token server".to_owned(),
        }
    }
}

/// Encrypts every secret to the server; the plaintext stays in zeroizing buffers.
fn seal_all(
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

pub async fn run(global: &GlobalOptions, args: &ApproveArgs) -> Result<(), ConsoleError> {
    let now = Utc::now();
    let pins = pins(args, now)?;
    let given_pcrs = parse_pcr_args(&args.pcrs)?;
    let server_public = match (&args.server_key, args.no_tpm) {
        (Some(path), true) => Some(load_server_public(path)?),
        (None, true) => return Err(ConsoleError::Usage(SERVER_KEY_NEEDED.to_owned())),
        (_, false) => None,
    };
    refuse_dangerous_allow_keys(&args.allow_metadata_keys)?;
    let settings = load_settings(global.settings.as_deref())?;
    let receipt_key = load_receipt_public(global.server_receipt_key.as_deref())?;
    let secrets = secrets_file::load(&args.secrets)?;
    let approver = load_approver_key(&args.key)?;
    let store = open_store(&global.store).await?;
    let target = resolve(&*store, &args.target).await?;
    let collector = collector(&gcp_config(global)).await?;
    let review = review::collect(&collector, target, &settings, now).await;
    let instance = review.instance().map_err(|e| {
        ConsoleError::Failed(format!(
            "cannot approve: the instance could not be read ({e}); check the name, project, zone and your access"
        ))
    })?;
    let (id, name) = (instance.instance_id.clone(), instance.name.clone());
    let existing = store.get_approval(&id).await?;

    let mut approval = build_approval(&review, &settings, &approver, args, &pins, now);
    let checks = review.checks(&approval, Against::Proposal, &settings);
    let mut text = render::evidence(&review);
    text.push_str(&render::checks(&checks, Against::Proposal));
    emit(&text)?;
    refuse_dangerous_instance_metadata(instance, &failed_names(&checks))?;
    let sealing = match server_public {
        Some(key) => Sealing::Server(key),
        None => {
            let record = store.get_attestation(&id).await?;
            let target = SealingTarget::new(
                &id,
                &name,
                &review.shielded_identity,
                record.as_ref(),
                given_pcrs.as_ref(),
                receipt_key.as_ref(),
            )?;
            emit(&target.describe())?;
            Sealing::Tpm(target)
        }
    };
    sealing.pin(&mut approval);
    let failed = failed_names(&checks);
    let forced_reason = match (&args.reason, failed.is_empty()) {
        (_, true) => None,
        (Some(reason), false) if args.force => {
            tracing::warn!(instance_id = %id, failed = ?failed, "approving despite failed checks (--force)");
            Some(reason.clone())
        }
        _ => {
            return Err(ConsoleError::Refused(format!(
                "{} check(s) failed: {}; fix the VM, or pass --force --reason TEXT to approve anyway",
                failed.len(),
                failed.join(", ")
            )));
        }
    };
    if !args.yes {
        confirm::yes_no(&format!("Approve {name} (id {id})?"), "approve")?;
    }

    // The live boot image is pinned only now, so an unexpected image showed as a failure above.
    if let Ok(Some(image)) = review.boot_disk().map(|d| d.source_image.as_deref()) {
        approval.boot_images = vec![normalize_image(image)];
    }
    // Signed with the approval: why Alice approved despite the failed checks (e.g. no template).
    approval.forced_reason = forced_reason.clone();
    approval.secrets = sealing.seal_all(&secrets, &id)?;
    drop(secrets);
    let expected = existing.as_ref().map(|a| a.revision);
    approval.revision = expected.map_or(1, |r| r.saturating_add(1));
    sign(&mut approval, &approver.signing);
    verify(&approval, &[approver.verifying()])
        .map_err(|e| ConsoleError::Failed(format!("the new approval does not verify: {e}")))?;
    let secrets_detail: Vec<serde_json::Value> = approval
        .secrets
        .iter()
        .map(|s| json!({"name": s.name, "type": s.secret_type, "plaintext_len": s.plaintext_len, "protection": s.protection}))
        .collect();
    let signed_revision = approval.revision;
    let stored = store.put_approval(approval, expected).await?;
    if stored.revision != signed_revision {
        return Err(ConsoleError::Failed(format!(
            "the store wrote revision {} but the signature covers revision {signed_revision}; the approval will not verify, approve again",
            stored.revision
        )));
    }
    let had_pending = store.remove_pending(&id).await?;
    let event = EventRecord::new(
        now,
        EventKind::Approved,
        id.clone(),
        approver.id.clone(),
        json!({
            "instance_name": name,
            "project": stored.project,
            "zone": stored.zone,
            "revision": stored.revision,
            "previous_revision": expected,
            "require_tpm": stored.require_tpm,
            "require_data_access": stored.require_data_access,
            "pcr_policy": stored.pcr_policy,
            "ek_fingerprint": match &sealing {
                Sealing::Tpm(target) => Some(target.ek_fingerprint.clone()),
                Sealing::Server(_) => None,
            },
            "expires_at": stored.expires_at,
            "secrets": secrets_detail,
            "forced": forced_reason.is_some(),
            "reason": forced_reason,
            "failed_checks": failed,
            "pending_removed": had_pending,
        }),
    );
    store.append_event(&event).await?;
    emit(&format!(
        "\nApproved {name} (id {id}): revision {}, {} secret(s) {}, signed by key {}{}.\n",
        stored.revision,
        stored.secrets.len(),
        sealing.summary(),
        approver.id,
        stored
            .expires_at
            .map(|t| format!(", expires {}", t.to_rfc3339()))
            .unwrap_or_default()
    ))
}
