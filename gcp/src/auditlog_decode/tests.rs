//! Fixture tests for `auditlog_decode`: real Cloud Logging entries deserialised into the client
//! library's `LogEntry`, decoded, and compared with what the fixture says.

use chrono::TimeZone as _;
use google_cloud_logging_v2::model::{ListLogEntriesResponse, LogEntry};
use tokendist_core::evidence::FetchErrorKind;

use super::*;
use crate::test_fixtures::fixture;

fn decoded(name: &str) -> AuditEntry {
    audit_entry(&fixture::<LogEntry>(name)).unwrap()
}

#[test]
fn set_metadata_last_entry_decodes_with_metadata_keys_modified_summary() {
    let entry = decoded("logging-entry-v1-compute-instances-setMetadata-last.json");
    assert_eq!(entry.insert_id, "r7acnzdkgve");
    assert_eq!(entry.method_name, "v1.compute.instances.setMetadata");
    assert_eq!(entry.service_name, "compute.googleapis.com");
    assert_eq!(
        entry.resource_name,
        "projects/project-1/zones/us-central1-a/instances/instance-1"
    );
    assert_eq!(entry.principal_email.as_deref(), Some("user@example.com"));
    assert_eq!(entry.resource_type, "gce_instance");
    assert_eq!(entry.instance_id.as_deref(), Some("20008111111111111"));
    assert_eq!(entry.severity, "NOTICE");
    assert_eq!(
        entry.log_name,
        "projects/project-1/logs/cloudaudit.googleapis.com%2Factivity"
    );
    assert!(!entry.operation_first);
    assert!(entry.operation_last);
    assert_eq!(
        entry.timestamp,
        Utc.with_ymd_and_hms(2020, 10, 7, 5, 52, 24).unwrap()
            + chrono::Duration::microseconds(332_835)
    );
    assert_eq!(
        entry.request_summary,
        "Metadata Keys Modified: windows-keys; added keys: windows-keys"
    );
}

#[test]
fn seed_tamper_entry_names_user_data_as_modified() {
    let entry =
        decoded("logging-entry-v1-compute-instances-setMetadata-seed-tokenclient-assembled.json");
    assert_eq!(entry.instance_id.as_deref(), Some("6332740435730784933"));
    assert_eq!(
        entry.request_summary,
        "Metadata Keys Modified: user-data; modified keys: user-data"
    );
}

#[test]
fn project_metadata_change_decodes_as_gce_project_without_instance_id() {
    let entry = decoded("logging-entry-v1-compute-projects-setCommonInstanceMetadata-last.json");
    assert_eq!(
        entry.method_name,
        "v1.compute.projects.setCommonInstanceMetadata"
    );
    assert_eq!(entry.resource_type, "gce_project");
    assert_eq!(entry.instance_id, None);
    assert_eq!(entry.resource_name, "projects/project-1");
    assert_eq!(
        entry.request_summary,
        "added keys: foo; modified keys: ssh-keys"
    );
}

#[test]
fn set_service_account_and_attach_disk_summaries_name_the_account_and_disk() {
    let sa = decoded("logging-entry-v1-compute-instances-setServiceAccount-assembled.json");
    assert_eq!(sa.method_name, "v1.compute.instances.setServiceAccount");
    assert_eq!(
        sa.request_summary,
        "service account: tokenclient-2@tc-4f4f5a70.iam.gserviceaccount.com"
    );
    assert!(sa.operation_first);
    let disk = decoded("logging-entry-v1-compute-instances-attachDisk-assembled.json");
    assert_eq!(
        disk.request_summary,
        "disk: projects/tc-4f4f5a70/zones/us-central1-a/disks/exfil-disk"
    );
}

#[test]
fn data_access_serial_port_read_decodes_with_info_severity() {
    let entry = decoded(
        "logging-entry-data-access-v1-compute-instances-getSerialPortOutput-assembled.json",
    );
    assert_eq!(
        entry.method_name,
        "v1.compute.instances.getSerialPortOutput"
    );
    assert_eq!(entry.severity, "INFO");
    assert!(
        entry
            .log_name
            .ends_with("cloudaudit.googleapis.com%2Fdata_access")
    );
    assert_eq!(entry.instance_id.as_deref(), Some("8939838129032687278"));
    assert!(!entry.operation_first && !entry.operation_last);
}

#[test]
fn failed_insert_summary_carries_the_error_status() {
    let entry = decoded("logging-entry-v1-compute-instances-insert-error.json");
    assert_eq!(entry.severity, "ERROR");
    assert_eq!(entry.request_summary, "failed: code 3 INVALID_ARGUMENT");
}

#[test]
fn every_single_entry_fixture_decodes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/gce");
    let mut count = 0;
    for file in std::fs::read_dir(dir).unwrap() {
        let name = file.unwrap().file_name().into_string().unwrap();
        if name.starts_with("logging-entry-") && name.ends_with(".json") {
            let entry = decoded(&name);
            assert!(
                entry.method_name.contains("compute."),
                "{name}: {}",
                entry.method_name
            );
            count += 1;
        }
    }
    assert_eq!(count, 16);
}

#[test]
fn list_response_page_decodes_entries_and_next_page_token() {
    let page: ListLogEntriesResponse = fixture("logging-entries-list-response.json");
    assert_eq!(page.next_page_token, "EAE4oeeNuZes8rwyStsEIhoiCgoIZ");
    let entries: Vec<AuditEntry> = page
        .entries
        .iter()
        .map(|e| audit_entry(e).unwrap())
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].method_name,
        "beta.compute.instances.listReferrers"
    );
    // An empty instance_id label means "no instance", not an instance called "".
    assert_eq!(entries[0].instance_id, None);
}

#[test]
fn last_list_response_page_has_no_token_and_two_entries() {
    let page: ListLogEntriesResponse = fixture("logging-entries-list-response-two-entries.json");
    assert!(page.next_page_token.is_empty());
    let methods: Vec<String> = page
        .entries
        .iter()
        .map(|e| audit_entry(e).unwrap().method_name)
        .collect();
    assert_eq!(
        methods,
        ["v1.compute.instances.delete", "v1.compute.instances.start"]
    );
    let first = audit_entry(&page.entries[0]).unwrap();
    assert_eq!(first.principal_email, None);
    assert_eq!(first.instance_id.as_deref(), Some("3771111960822"));
    assert!(first.operation_first);
}

#[test]
fn entry_without_proto_payload_is_malformed() {
    let entry: LogEntry = serde_json::from_str(
        r#"{"insertId":"x1","logName":"projects/p/logs/syslog","timestamp":"2024-01-01T00:00:00Z","textPayload":"hello"}"#,
    )
    .unwrap();
    let err = audit_entry(&entry).unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Malformed);
    assert_eq!(err.api, API_ENTRIES_LIST);
    assert!(err.message.contains("x1"), "{}", err.message);
}

#[test]
fn entry_with_a_non_audit_payload_type_is_malformed() {
    let entry: LogEntry = serde_json::from_str(
        r#"{"insertId":"x2","timestamp":"2024-01-01T00:00:00Z","protoPayload":{"@type":"type.googleapis.com/google.appengine.logging.v1.RequestLog"}}"#,
    )
    .unwrap();
    assert_eq!(
        audit_entry(&entry).unwrap_err().kind,
        FetchErrorKind::Malformed
    );
}
