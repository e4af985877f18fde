//! The audit watch's pure state: judgement through the shared allow-list, idempotent application,
//! denials only after the approval, staleness, baselines and merging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use tokendist_core::auditlog::watch::{InstanceWatch, WatchState};
use tokendist_core::auditlog::{AuditEntry, AuditMethods};

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + second, 0).unwrap()
}

fn entry(id: &str, instance: &str, method: &str, second: i64) -> AuditEntry {
    AuditEntry {
        insert_id: id.into(),
        timestamp: at(second),
        log_name: "projects/p/logs/cloudaudit.googleapis.com%2Factivity".into(),
        resource_type: "gce_instance".into(),
        instance_id: Some(instance.into()),
        disk_id: None,
        source_disk: None,
        source_instance: None,
        method_name: method.into(),
        service_name: "compute.googleapis.com".into(),
        resource_name: format!("projects/p/zones/z/instances/{instance}"),
        principal_email: Some("bob@example.com".into()),
        severity: "NOTICE".into(),
        operation_first: true,
        operation_last: true,
        request_summary: String::new(),
    }
}

fn watched(approved_second: i64) -> WatchState {
    let mut state = WatchState::new("p");
    let approved = BTreeMap::from([
        ("1".to_string(), ("vm-1".to_string(), at(approved_second))),
        ("2".to_string(), ("vm-2".to_string(), at(approved_second))),
    ]);
    state.track(&approved);
    for id in ["1", "2"] {
        let watch = state.instances[id].clone();
        state.set_baseline(
            id,
            watch,
            &[],
            &AuditMethods::default(),
            at(approved_second),
        );
    }
    state
}

#[test]
fn a_denied_method_after_the_approval_is_a_denial_of_that_vm_only_and_only_once() {
    let methods = AuditMethods::default();
    let mut state = watched(10);
    let tamper = entry("x", "1", "v1.compute.instances.setMetadata", 20);
    let denials = state.apply(std::slice::from_ref(&tamper), &methods);
    assert_eq!(denials.len(), 1);
    assert_eq!(denials[0].instance_id, "1");
    assert_eq!(denials[0].entry, tamper);
    assert!(
        denials[0].reason.contains("setmetadata"),
        "{}",
        denials[0].reason
    );
    assert_eq!(state.instances["1"].failing, vec![tamper.clone()]);
    assert!(state.instances["2"].failing.is_empty());
    // Redelivered: nothing new.
    assert!(state.apply(&[tamper], &methods).is_empty());
    assert_eq!(state.instances["1"].failing.len(), 1);
}

#[test]
fn allowed_methods_pass_and_unknown_ones_fail_without_revoking() {
    let methods = AuditMethods::default();
    let mut state = watched(10);
    let start = entry("a", "1", "v1.compute.instances.start", 20);
    let unknown = entry("b", "1", "v1.compute.instances.frobnicate", 21);
    assert!(state.apply(&[start, unknown.clone()], &methods).is_empty());
    assert_eq!(state.instances["1"].failing, vec![unknown]);
}

#[test]
fn denied_entries_before_the_approval_fail_but_do_not_revoke() {
    let methods = AuditMethods::default();
    let mut state = watched(10);
    let old = entry("o", "1", "v1.compute.instances.setMetadata", 5);
    assert!(state.apply(std::slice::from_ref(&old), &methods).is_empty());
    assert_eq!(state.instances["1"].failing, vec![old]);
}

#[test]
fn releases_use_the_state_only_while_it_is_fresh_and_the_baseline_is_read() {
    let mut state = watched(10);
    assert!(
        state
            .evidence_for("1", at(30), Duration::seconds(60))
            .is_none()
    );
    state.last_reconciled = Some(at(30));
    assert!(
        state
            .evidence_for("1", at(60), Duration::seconds(60))
            .is_some()
    );
    assert!(
        state
            .evidence_for("1", at(91), Duration::seconds(60))
            .is_none()
    );
    assert!(
        state
            .evidence_for("3", at(60), Duration::seconds(60))
            .is_none()
    );
    let approved = BTreeMap::from([("3".to_string(), ("vm-3".to_string(), at(40)))]);
    state.track(&approved);
    assert!(
        !state.instances.contains_key("1"),
        "no longer approved: dropped"
    );
    assert!(
        state
            .evidence_for("3", at(60), Duration::seconds(60))
            .is_none()
    );
    assert_eq!(
        state.without_baseline(),
        vec![("3".to_string(), "vm-3".to_string())]
    );
}

#[test]
fn merging_a_concurrent_view_keeps_every_failing_entry_and_the_newer_watermark() {
    let methods = AuditMethods::default();
    let mut ours = watched(10);
    let mut theirs = ours.clone();
    ours.apply(
        &[entry("x", "1", "v1.compute.instances.setMetadata", 20)],
        &methods,
    );
    theirs.apply(
        &[entry("y", "1", "v1.compute.instances.frobnicate", 21)],
        &methods,
    );
    theirs.watermark = Some(at(50));
    ours.merge(&theirs, &methods);
    let ids: Vec<&str> = ours.instances["1"]
        .failing
        .iter()
        .map(|e| e.insert_id.as_str())
        .collect();
    assert_eq!(ids, ["x", "y"]);
    assert_eq!(ours.watermark, Some(at(50)));
    let _ = InstanceWatch::default();
}
