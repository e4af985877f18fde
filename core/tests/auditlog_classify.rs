//! Audit-log classification against the default deny-list, on entries decoded from real Cloud Logging
//! fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::auditlog::{AuditEntry, Classification, DenyList, classify, timeline};

const VM: &str = "8939838129032687278";

/// A fixture entry re-labelled as an event on the good VM.
fn on_vm(name: &str) -> AuditEntry {
    let mut entry = audit_entry(name);
    entry.instance_id = Some(VM.to_owned());
    entry
}

fn with_method(method: &str) -> AuditEntry {
    let mut entry =
        on_vm("logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json");
    entry.method_name = method.to_owned();
    entry
}

fn is_denied(c: &Classification) -> bool {
    matches!(c, Classification::Denied { .. })
}

#[test]
fn each_denied_instance_method_is_denied_in_every_version() {
    let deny = DenyList::default();
    for method in [
        "setMetadata",
        "setServiceAccount",
        "attachDisk",
        "detachDisk",
        "setMachineType",
        "updateShieldedInstanceConfig",
        "setShieldedInstanceIntegrityPolicy",
        "getSerialPortOutput",
        "updateNetworkInterface",
        "addAccessConfig",
        "update",
        "setIamPolicy",
    ] {
        for version in ["v1.", "beta.", "alpha.", ""] {
            let name = format!("{version}compute.instances.{method}");
            let c = classify(&with_method(&name), &deny, VM);
            assert!(is_denied(&c), "{name}: {c:?}");
        }
    }
}

#[test]
fn denied_fixture_entries_are_denied_with_who_and_when() {
    let deny = DenyList::default();
    for name in [
        "logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json",
        "logging-entry-v1-compute-instances-setMetadata-first.json",
        "logging-entry-v1-compute-instances-setServiceAccount-assembled.json",
        "logging-entry-v1-compute-instances-attachDisk-assembled.json",
        "logging-entry-data-access-v1-compute-instances-getSerialPortOutput-assembled.json",
    ] {
        let entry = on_vm(name);
        let Classification::Denied { reason } = classify(&entry, &deny, VM) else {
            panic!("{name} not denied")
        };
        assert!(reason.contains(&entry.timestamp.to_rfc3339()), "{reason}");
    }
    let Classification::Denied { reason } = classify(
        &on_vm("logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json"),
        &deny,
        VM,
    ) else {
        panic!()
    };
    assert!(
        reason.contains("admin@esodemoapp2.com") && reason.contains("setmetadata"),
        "{reason}"
    );
}

#[test]
fn project_level_metadata_change_is_denied_for_any_instance() {
    let deny = DenyList::default();
    for name in [
        "logging-entry-v1-compute-projects-setCommonInstanceMetadata-first.json",
        "logging-entry-v1-compute-projects-setCommonInstanceMetadata-last.json",
    ] {
        let entry = audit_entry(name);
        assert_eq!(entry.resource_type, "gce_project");
        assert!(is_denied(&classify(&entry, &deny, VM)), "{name}");
    }
}

#[test]
fn insert_start_and_stop_are_allowed() {
    let deny = DenyList::default();
    for name in [
        "logging-entry-beta-compute-instances-insert-seed-tokenclient-assembled.json",
        "logging-entry-v1-compute-instances-insert-first.json",
        "logging-entry-v1-compute-instances-insert-last-real-2024.json",
        "logging-entry-v1-compute-instances-start.json",
        "logging-entry-v1-compute-instances-stop.json",
        "logging-entry-data-access-beta-compute-instances-listReferrers.json",
    ] {
        assert_eq!(
            classify(&on_vm(name), &deny, VM),
            Classification::Allowed,
            "{name}"
        );
    }
}

#[test]
fn entries_for_another_instance_are_ignored() {
    // The seed's tamper event was on an earlier VM (6332740435730784933).
    let entry = audit_entry(
        "logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json",
    );
    assert_eq!(
        classify(&entry, &DenyList::default(), VM),
        Classification::OtherInstance
    );
    assert!(timeline(&[entry], &DenyList::default(), VM).is_empty());
}

#[test]
fn denied_method_without_instance_label_fails_closed() {
    let mut entry = with_method("v1.compute.instances.setMetadata");
    entry.instance_id = None;
    assert!(is_denied(&classify(&entry, &DenyList::default(), VM)));
}

#[test]
fn configured_deny_list_replaces_the_default() {
    let deny: DenyList = serde_json::from_str(
        r#"{"instance_methods":["v1.compute.instances.stop"],"project_methods":[]}"#,
    )
    .unwrap();
    assert!(is_denied(&classify(
        &with_method("beta.compute.instances.stop"),
        &deny,
        VM
    )));
    assert_eq!(
        classify(&with_method("v1.compute.instances.setMetadata"), &deny, VM),
        Classification::Allowed
    );
    let project =
        audit_entry("logging-entry-v1-compute-projects-setCommonInstanceMetadata-last.json");
    assert_eq!(classify(&project, &deny, VM), Classification::Allowed);
}

#[test]
fn timeline_is_oldest_first_and_marks_denials() {
    let insert =
        on_vm("logging-entry-beta-compute-instances-insert-seed-tokenclient-assembled.json");
    let serial =
        on_vm("logging-entry-data-access-v1-compute-instances-getSerialPortOutput-assembled.json");
    let events = timeline(&[serial, insert], &DenyList::default(), VM);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].method, "compute.instances.insert");
    assert!(!events[0].is_denied());
    assert_eq!(events[1].log_kind, "data_access");
    assert!(events[1].is_denied());
    assert!(
        events[1]
            .line()
            .contains("DENIED compute.instances.getSerialPortOutput"),
        "{}",
        events[1].line()
    );
}
