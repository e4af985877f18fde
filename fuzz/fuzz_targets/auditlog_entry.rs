//! Fuzzes audit-log entries as Cloud Logging returns them and a Logging sink publishes them
//! (`gcp::auditlog_decode::audit_entry_from_json`: `LogEntry` JSON, its `AuditLog` protoPayload, the
//! request summary), then what core does with one (`auditlog::classify`, `timeline`, the watch's
//! `set_baseline` and `apply`). Never panics; a decoded entry survives a serde round trip (the watch
//! state is stored as JSON), and applying an entry the baseline already judged denies nothing new
//! (the watch is idempotent).
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use tokendist_core::auditlog::watch::{InstanceWatch, WatchState};
use tokendist_core::auditlog::{AuditEntry, AuditMethods, AuditScope, classify, timeline};
use tokendist_gcp::auditlog_decode::audit_entry_from_json;

fuzz_target!(|data: &[u8]| {
    let Ok(entry) = audit_entry_from_json(data) else {
        return;
    };
    let json = serde_json::to_vec(&entry).unwrap();
    let back: AuditEntry = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, entry);

    let methods = AuditMethods::default();
    let instance_id = entry.instance_id.clone().unwrap_or_else(|| "1".to_owned());
    let scope = AuditScope {
        instance_id: &instance_id,
        instance_name: "vm",
        boot_disk_id: entry.disk_id.as_deref(),
        boot_disk_name: Some("vm"),
    };
    let classification = classify(&entry, &methods, &scope);
    let _ = classification.reason();
    for event in timeline(std::slice::from_ref(&entry), &methods, &scope) {
        let _ = event.line();
    }

    let mut state = WatchState::new("p");
    let watched = InstanceWatch {
        instance_name: "vm".to_owned(),
        boot_disk_id: entry.disk_id.clone(),
        boot_disk_name: Some("vm".to_owned()),
        approved_at: DateTime::UNIX_EPOCH,
        ..InstanceWatch::default()
    };
    let at = entry.timestamp;
    let _ = state.set_baseline(
        &instance_id,
        watched,
        std::slice::from_ref(&entry),
        &methods,
        at,
    );
    let again = state.apply(std::slice::from_ref(&entry), &methods);
    assert!(again.is_empty(), "{again:?}");
});
