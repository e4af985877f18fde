//! Audit-log classification against the default allow/deny table, on entries decoded from real Cloud
//! Logging fixtures: denied methods fail with their reason, unknown ones fail as unknown, harmless ones
//! pass; entries on the boot disk and copies made from it are judged too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::auditlog::{
    AuditEntry, AuditMethods, AuditScope, Classification, classify, method_table, timeline,
};

const VM: &str = "8939838129032687278";
const DISK: &str = "4416311952730862183";

/// The good VM: the seed's instance and its boot disk.
fn scope() -> AuditScope<'static> {
    AuditScope {
        instance_id: VM,
        instance_name: "tokenclient",
        boot_disk_id: Some(DISK),
        boot_disk_name: Some("tokenclient"),
    }
}

/// `classify` with the default table for the good VM.
fn judge(entry: &AuditEntry, methods: &AuditMethods) -> Classification {
    classify(entry, methods, &scope())
}

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
    let deny = AuditMethods::default();
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
            let c = judge(&with_method(&name), &deny);
            assert!(is_denied(&c), "{name}: {c:?}");
        }
    }
}

#[test]
fn denied_fixture_entries_are_denied_with_who_and_when() {
    let deny = AuditMethods::default();
    for name in [
        "logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json",
        "logging-entry-v1-compute-instances-setMetadata-first.json",
        "logging-entry-v1-compute-instances-setServiceAccount-assembled.json",
        "logging-entry-v1-compute-instances-attachDisk-assembled.json",
        "logging-entry-data-access-v1-compute-instances-getSerialPortOutput-assembled.json",
    ] {
        let entry = on_vm(name);
        let Classification::Denied { reason } = judge(&entry, &deny) else {
            panic!("{name} not denied")
        };
        assert!(reason.contains(&entry.timestamp.to_rfc3339()), "{reason}");
    }
    let Classification::Denied { reason } = judge(
        &on_vm("logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json"),
        &deny,
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
    let deny = AuditMethods::default();
    for name in [
        "logging-entry-v1-compute-projects-setCommonInstanceMetadata-first.json",
        "logging-entry-v1-compute-projects-setCommonInstanceMetadata-last.json",
    ] {
        let entry = audit_entry(name);
        assert_eq!(entry.resource_type, "gce_project");
        assert!(is_denied(&judge(&entry, &deny)), "{name}");
    }
}

#[test]
fn insert_start_and_stop_are_allowed() {
    let deny = AuditMethods::default();
    for name in [
        "logging-entry-beta-compute-instances-insert-seed-tokenclient-assembled.json",
        "logging-entry-v1-compute-instances-insert-first.json",
        "logging-entry-v1-compute-instances-insert-last-real-2024.json",
        "logging-entry-v1-compute-instances-start.json",
        "logging-entry-v1-compute-instances-stop.json",
        "logging-entry-data-access-beta-compute-instances-listReferrers.json",
    ] {
        assert_eq!(
            judge(&on_vm(name), &deny),
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
        judge(&entry, &AuditMethods::default()),
        Classification::OtherInstance
    );
    assert!(timeline(&[entry], &AuditMethods::default(), &scope()).is_empty());
}

#[test]
fn denied_method_without_instance_label_fails_closed() {
    let mut entry = with_method("v1.compute.instances.setMetadata");
    entry.instance_id = None;
    assert!(is_denied(&judge(&entry, &AuditMethods::default())));
}

#[test]
fn configured_tables_replace_the_defaults() {
    let methods: AuditMethods = serde_json::from_str(
        r#"{"allow":{"v1.compute.instances.setMetadata":"trusted here"},"deny":{"v1.compute.instances.stop":"no stops"}}"#,
    )
    .unwrap();
    assert!(is_denied(&judge(
        &with_method("beta.compute.instances.stop"),
        &methods
    )));
    assert_eq!(
        judge(&with_method("v1.compute.instances.setMetadata"), &methods),
        Classification::Allowed
    );
    // Not in the configured allow-list any more: unknown, so it fails.
    let project =
        audit_entry("logging-entry-v1-compute-projects-setCommonInstanceMetadata-last.json");
    assert!(matches!(
        judge(&project, &methods),
        Classification::Unknown { .. }
    ));
}

#[test]
fn every_default_method_is_judged_as_listed_in_every_version_and_case() {
    let methods = AuditMethods::default();
    for (method, _) in method_table::ALLOWED {
        for version in ["v1.", "beta.", "alpha.", ""] {
            let name = format!("{version}{method}");
            assert_eq!(
                judge(&with_method(&name), &methods),
                Classification::Allowed,
                "{name}"
            );
            let upper = name.to_ascii_uppercase();
            assert_eq!(
                judge(&with_method(&upper), &methods),
                Classification::Allowed,
                "{upper}"
            );
        }
    }
    for (method, reason) in method_table::DENIED {
        for version in ["v1.", "beta.", "alpha.", ""] {
            let name = format!("{version}{method}");
            let Classification::Denied { reason: text } = judge(&with_method(&name), &methods)
            else {
                panic!("{name} not denied")
            };
            assert!(text.contains(reason), "{text}");
        }
    }
}

#[test]
fn unknown_methods_fail_as_unknown_on_the_instance_disk_and_project() {
    let methods = AuditMethods::default();
    for method in [
        "v1.compute.instances.performMaintenance",
        "v1.compute.instances.setMetadataX",
        "compute.instances",
        "",
    ] {
        let c = judge(&with_method(method), &methods);
        let Classification::Unknown { reason } = &c else {
            panic!("{method}: {c:?}")
        };
        assert!(reason.contains("unknown method"), "{reason}");
    }
    let mut on_disk = with_method("v1.compute.disks.frobnicate");
    on_disk.resource_type = "gce_disk".into();
    on_disk.instance_id = None;
    on_disk.disk_id = Some(DISK.into());
    assert!(matches!(
        judge(&on_disk, &methods),
        Classification::Unknown { .. }
    ));
    let mut in_project = with_method("v1.compute.projects.setDefaultServiceAccount");
    in_project.resource_type = "gce_project".into();
    in_project.instance_id = None;
    assert!(matches!(
        judge(&in_project, &methods),
        Classification::Unknown { .. }
    ));
}

#[test]
fn disk_entries_count_for_the_boot_disk_only() {
    let methods = AuditMethods::default();
    let mut snapshot = with_method("v1.compute.disks.createSnapshot");
    snapshot.resource_type = "gce_disk".into();
    snapshot.instance_id = None;
    snapshot.disk_id = Some(DISK.into());
    assert!(is_denied(&judge(&snapshot, &methods)));
    snapshot.disk_id = Some("1".into());
    assert_eq!(judge(&snapshot, &methods), Classification::OtherInstance);
    let mut labels = with_method("v1.compute.disks.setLabels");
    labels.resource_type = "gce_disk".into();
    labels.instance_id = None;
    labels.disk_id = Some(DISK.into());
    assert_eq!(judge(&labels, &methods), Classification::Allowed);
}

#[test]
fn anything_made_from_the_boot_disk_or_instance_fails_whatever_its_method() {
    let methods = AuditMethods::default();
    for (method, source_disk, source_instance) in [
        (
            "v1.compute.snapshots.insert",
            Some("projects/tc-4f4f5a70/zones/us-central1-a/disks/tokenclient"),
            None,
        ),
        (
            "v1.compute.images.insert",
            Some(
                "https://www.googleapis.com/compute/v1/projects/tc-4f4f5a70/zones/us-central1-a/disks/4416311952730862183",
            ),
            None,
        ),
        (
            "v1.compute.disks.insert",
            Some("zones/us-central1-a/disks/tokenclient"),
            None,
        ),
        (
            "v1.compute.instances.attachDisk",
            Some("zones/us-central1-a/disks/tokenclient"),
            None,
        ),
        (
            "v1.compute.machineImages.insert",
            None,
            Some("projects/tc-4f4f5a70/zones/us-central1-a/instances/tokenclient"),
        ),
        (
            "v1.compute.disks.setLabels",
            Some("zones/us-central1-a/disks/tokenclient"),
            None,
        ),
    ] {
        let mut entry = with_method(method);
        entry.resource_type = "gce_other".into();
        entry.instance_id = Some("1".into());
        entry.source_disk = source_disk.map(str::to_owned);
        entry.source_instance = source_instance.map(str::to_owned);
        assert!(is_denied(&judge(&entry, &methods)), "{method}");
    }
    let mut other = with_method("v1.compute.snapshots.insert");
    other.resource_type = "gce_snapshot".into();
    other.instance_id = None;
    other.source_disk = Some("projects/tc-4f4f5a70/zones/us-central1-a/disks/tokenclient-2".into());
    assert_eq!(judge(&other, &methods), Classification::OtherInstance);
}

#[test]
fn timeline_is_oldest_first_and_marks_denials() {
    let insert =
        on_vm("logging-entry-beta-compute-instances-insert-seed-tokenclient-assembled.json");
    let serial =
        on_vm("logging-entry-data-access-v1-compute-instances-getSerialPortOutput-assembled.json");
    let mut unknown = on_vm("logging-entry-v1-compute-instances-start.json");
    unknown.method_name = "v1.compute.instances.performMaintenance".into();
    unknown.timestamp = serial.timestamp + chrono::Duration::days(1);
    let events = timeline(
        &[serial, insert, unknown],
        &AuditMethods::default(),
        &scope(),
    );
    assert_eq!(events.len(), 3);
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
    let unknown = events.iter().find(|e| e.is_unknown()).unwrap();
    assert!(
        unknown
            .line()
            .contains("UNKNOWN compute.instances.performMaintenance"),
        "{}",
        unknown.line()
    );
}
