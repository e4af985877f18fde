//! The `instance.*` checks: live Compute state (user-data hash, metadata keys, fingerprint, boot image,
//! service account, shielded/confidential options) against the approval. A fetch error fails every
//! check that needs the missing evidence, with the fetch error as the reason.

use crate::approval::Approval;
use crate::auditlog::{AuditEntry, Classification, classify};
use crate::boot_image::{matches_prefix, normalize_image};
use crate::checks::{
    INSTANCE_BOOT_IMAGE, INSTANCE_FINGERPRINT, INSTANCE_METADATA, INSTANCE_SERVICE_ACCOUNT,
    INSTANCE_SHIELDED, INSTANCE_USER_DATA,
};
use crate::cloudconfig::user_data_sha256_b64;
use crate::evidence::{DiskEvidence, Evidence, Fetched, InstanceEvidence};
use crate::metadata_keys::{blocks_project_ssh_keys, clearly_on, instance_findings, shown};
use crate::policy::audit_scope;
use crate::settings::{FingerprintPolicy, Settings};
use crate::verdict::CheckResult;

pub(super) fn run(
    approval: &Approval,
    evidence: &Evidence,
    settings: &Settings,
) -> Vec<CheckResult> {
    let instance = match &evidence.instance {
        Ok(instance) => instance,
        Err(e) => {
            let mut checks: Vec<CheckResult> =
                [INSTANCE_USER_DATA, INSTANCE_METADATA, INSTANCE_FINGERPRINT]
                    .iter()
                    .map(|name| CheckResult::fail(name, e.to_string()))
                    .collect();
            checks.push(boot_image(approval, &evidence.boot_disk, settings));
            checks.push(CheckResult::fail(INSTANCE_SERVICE_ACCOUNT, e.to_string()));
            checks.push(CheckResult::fail(INSTANCE_SHIELDED, e.to_string()));
            return checks;
        }
    };
    vec![
        user_data(approval, instance),
        metadata(approval, instance, settings),
        fingerprint(approval, instance, evidence, settings),
        boot_image(approval, &evidence.boot_disk, settings),
        service_account(approval, instance),
        shielded(approval, instance),
    ]
}

fn user_data(approval: &Approval, instance: &InstanceEvidence) -> CheckResult {
    let Some(text) = instance.metadata.get("user-data") else {
        return CheckResult::fail(INSTANCE_USER_DATA, "the instance has no user-data metadata");
    };
    if approval.user_data_sha256.is_empty() {
        return CheckResult::fail(INSTANCE_USER_DATA, "the approval pins no user-data hash");
    }
    let live = user_data_sha256_b64(text);
    if live == approval.user_data_sha256 {
        CheckResult::pass(INSTANCE_USER_DATA)
    } else {
        CheckResult::fail(
            INSTANCE_USER_DATA,
            format!(
                "live user-data SHA-256 is {live}, approved {}",
                approval.user_data_sha256
            ),
        )
    }
}

/// Keys outside the approved set fail; keys that run code or open access fail even when an approval
/// (an older one, or one signed by hand) or the settings list them; project SSH keys must be blocked.
fn metadata(approval: &Approval, instance: &InstanceEvidence, settings: &Settings) -> CheckResult {
    let findings = instance_findings(&instance.metadata);
    let mut problems = Vec::new();
    for key in instance.metadata.keys() {
        if let Some(finding) = findings.iter().find(|finding| finding.key == *key) {
            problems.push(format!("{finding} (never approvable)"));
        } else if !(key == "user-data"
            || settings.always_allowed_metadata_keys.contains(key)
            || approval.allowed_metadata_keys.contains(key))
        {
            problems.push(format!("key {key:?} is not approved"));
        }
    }
    if !blocks_project_ssh_keys(&instance.metadata) {
        match instance.metadata.get("block-project-ssh-keys") {
            Some(value) if clearly_on(value) => problems.push(
                "block-project-ssh-keys is TRUE, but another spelling of the key may override it"
                    .to_owned(),
            ),
            Some(value) => {
                problems.push(format!(
                    "block-project-ssh-keys is {}, not TRUE",
                    shown(value)
                ));
            }
            None => problems.push("block-project-ssh-keys is not set to TRUE".to_owned()),
        }
    }
    if problems.is_empty() {
        CheckResult::pass(INSTANCE_METADATA)
    } else {
        CheckResult::fail(INSTANCE_METADATA, problems.join("; "))
    }
}

fn fingerprint(
    approval: &Approval,
    instance: &InstanceEvidence,
    evidence: &Evidence,
    settings: &Settings,
) -> CheckResult {
    let audit_log: &Fetched<Vec<AuditEntry>> = &evidence.audit_log;
    if approval.fingerprint.is_empty() {
        return CheckResult::fail(INSTANCE_FINGERPRINT, "the approval pins no fingerprint");
    }
    if instance.fingerprint == approval.fingerprint {
        return CheckResult::pass(INSTANCE_FINGERPRINT);
    }
    let changed = format!(
        "live fingerprint {} differs from approved {}",
        instance.fingerprint, approval.fingerprint
    );
    match settings.fingerprint_policy {
        FingerprintPolicy::Exact => CheckResult::fail(INSTANCE_FINGERPRINT, changed),
        FingerprintPolicy::AuditedChangesOnly => {
            let entries = match audit_log {
                Ok(entries) => entries,
                Err(e) => {
                    return CheckResult::fail(
                        INSTANCE_FINGERPRINT,
                        format!("{changed}, and the audit log is unavailable: {e}"),
                    );
                }
            };
            let since_approval: Vec<Classification> = entries
                .iter()
                .filter(|e| e.timestamp >= approval.approved_at)
                .filter(|e| e.instance_id.as_deref() == Some(approval.instance_id.as_str()))
                .map(|e| classify(e, &settings.audit_methods, &audit_scope(approval, evidence)))
                .collect();
            if since_approval.iter().any(Classification::fails) {
                CheckResult::fail(
                    INSTANCE_FINGERPRINT,
                    format!(
                        "{changed}, and the audit log shows denied changes (see auditlog.clean)"
                    ),
                )
            } else if since_approval.is_empty() {
                CheckResult::fail(
                    INSTANCE_FINGERPRINT,
                    format!(
                        "{changed}, and no audit-logged instance event since the approval explains it"
                    ),
                )
            } else {
                CheckResult::pass(INSTANCE_FINGERPRINT)
            }
        }
    }
}

fn boot_image(
    approval: &Approval,
    disk: &Fetched<DiskEvidence>,
    settings: &Settings,
) -> CheckResult {
    let disk = match disk {
        Ok(disk) => disk,
        Err(e) => return CheckResult::fail(INSTANCE_BOOT_IMAGE, e.to_string()),
    };
    let Some(image) = &disk.source_image else {
        return CheckResult::fail(
            INSTANCE_BOOT_IMAGE,
            format!(
                "boot disk {} has no source image (made from a snapshot or another disk)",
                disk.name
            ),
        );
    };
    let accepted = if approval.boot_images.is_empty() {
        settings
            .approved_boot_image_prefixes
            .iter()
            .any(|prefix| matches_prefix(image, prefix))
    } else {
        let live = normalize_image(image);
        approval
            .boot_images
            .iter()
            .any(|approved| normalize_image(approved) == live)
    };
    if accepted {
        CheckResult::pass(INSTANCE_BOOT_IMAGE)
    } else {
        let approved = if approval.boot_images.is_empty() {
            &settings.approved_boot_image_prefixes
        } else {
            &approval.boot_images
        };
        CheckResult::fail(
            INSTANCE_BOOT_IMAGE,
            format!(
                "boot image {} is not in the approved set [{}]",
                normalize_image(image),
                approved.join(", ")
            ),
        )
    }
}

fn service_account(approval: &Approval, instance: &InstanceEvidence) -> CheckResult {
    match instance.service_accounts.as_slice() {
        [only] if *only == approval.service_account && !only.is_empty() => {
            CheckResult::pass(INSTANCE_SERVICE_ACCOUNT)
        }
        [] => CheckResult::fail(
            INSTANCE_SERVICE_ACCOUNT,
            "the VM runs without a service account",
        ),
        accounts => CheckResult::fail(
            INSTANCE_SERVICE_ACCOUNT,
            format!(
                "the VM runs as [{}], approved {:?}",
                accounts.join(", "),
                approval.service_account
            ),
        ),
    }
}

fn shielded(approval: &Approval, instance: &InstanceEvidence) -> CheckResult {
    let s = &instance.shielded;
    let mut off: Vec<&str> = [
        ("secure boot", s.secure_boot),
        ("vTPM", s.vtpm),
        ("integrity monitoring", s.integrity_monitoring),
    ]
    .into_iter()
    .filter(|(_, on)| !on)
    .map(|(name, _)| name)
    .collect();
    if approval.require_confidential && !instance.confidential_compute {
        off.push("confidential computing (required by the approval)");
    }
    if off.is_empty() {
        CheckResult::pass(INSTANCE_SHIELDED)
    } else {
        CheckResult::fail(INSTANCE_SHIELDED, format!("off: {}", off.join(", ")))
    }
}
