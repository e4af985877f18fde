//! Decoding Cloud Audit Log entries (`LogEntry` with an `AuditLog` protoPayload) into core
//! [`AuditEntry`] values. No Rust type ships for `google.cloud.audit.AuditLog`, so this module owns a
//! serde struct for the fields we read and plugs it into `wkt::Any` via `wkt::message::Message`.
//! Pure: unit-tested on real Google entries.

use chrono::{DateTime, Utc};
use google_cloud_logging_v2::model::LogEntry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokendist_core::auditlog::AuditEntry;
use tokendist_core::evidence::FetchError;

use crate::fetch_error::malformed;

/// API name used in [`FetchError::api`].
pub const API_ENTRIES_LIST: &str = "logging.entries.list";

/// The `google.cloud.audit.AuditLog` fields tokendist reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditLog {
    pub service_name: String,
    pub method_name: String,
    pub resource_name: String,
    pub authentication_info: Option<AuthenticationInfo>,
    /// The audited request; only key names and a few identifiers of it are ever shown.
    pub request: Option<Value>,
    /// Service-specific metadata, e.g. `GceInstanceAuditMetadata.instanceMetadataDelta`.
    pub metadata: Option<Value>,
    /// `google.rpc.Status` when the call failed.
    pub status: Option<Value>,
}

/// `AuditLog.authenticationInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthenticationInfo {
    pub principal_email: Option<String>,
}

impl google_cloud_wkt::message::Message for AuditLog {
    fn typename() -> &'static str {
        "type.googleapis.com/google.cloud.audit.AuditLog"
    }
}

/// Decodes one log entry. An entry whose payload is not an `AuditLog` is an error: the audit-log
/// check must not silently skip what it cannot read.
pub fn audit_entry(entry: &LogEntry) -> Result<AuditEntry, FetchError> {
    let any = entry.proto_payload().ok_or_else(|| {
        malformed(
            API_ENTRIES_LIST,
            format!(
                "log entry {} has no protoPayload (not an audit log entry)",
                entry.insert_id
            ),
        )
    })?;
    let log: AuditLog = any.to_msg().map_err(|e| {
        malformed(
            API_ENTRIES_LIST,
            format!(
                "log entry {} protoPayload is not a readable AuditLog: {e}",
                entry.insert_id
            ),
        )
    })?;
    let timestamp = entry
        .timestamp
        .as_ref()
        .and_then(|t| {
            DateTime::<Utc>::from_timestamp(t.seconds(), u32::try_from(t.nanos()).unwrap_or(0))
        })
        .ok_or_else(|| {
            malformed(
                API_ENTRIES_LIST,
                format!("log entry {} has no valid timestamp", entry.insert_id),
            )
        })?;
    let resource = entry.resource.as_ref();
    Ok(AuditEntry {
        insert_id: entry.insert_id.clone(),
        timestamp,
        log_name: entry.log_name.clone(),
        resource_type: resource.map(|r| r.r#type.clone()).unwrap_or_default(),
        instance_id: resource
            .and_then(|r| r.labels.get("instance_id"))
            .filter(|id| !id.is_empty())
            .cloned(),
        disk_id: resource
            .and_then(|r| r.labels.get("disk_id"))
            .filter(|id| !id.is_empty())
            .cloned(),
        source_disk: source_disk(&log),
        source_instance: request_text(&log, "sourceInstance"),
        request_summary: summarise_request(&log),
        method_name: log.method_name,
        service_name: log.service_name,
        resource_name: log.resource_name,
        principal_email: log.authentication_info.and_then(|a| a.principal_email),
        severity: entry.severity.name().unwrap_or("DEFAULT").to_owned(),
        operation_first: entry.operation.as_ref().is_some_and(|o| o.first),
        operation_last: entry.operation.as_ref().is_some_and(|o| o.last),
    })
}

/// Decodes one LogEntry given as its JSON (as a Logging sink publishes it to Pub/Sub).
pub fn audit_entry_from_json(json: &[u8]) -> Result<AuditEntry, FetchError> {
    let entry: LogEntry = serde_json::from_slice(json).map_err(|e| {
        malformed(
            API_ENTRIES_LIST,
            format!("a published log entry is not LogEntry JSON: {e}"),
        )
    })?;
    audit_entry(&entry)
}

fn request_text(log: &AuditLog, field: &str) -> Option<String> {
    log.request
        .as_ref()?
        .get(field)?
        .as_str()
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// The disk a call read as its source: `sourceDisk` (snapshots, images, disk clones), or the disk an
/// `attachDisk` attaches (`source`, a `.../disks/NAME` reference).
fn source_disk(log: &AuditLog) -> Option<String> {
    request_text(log, "sourceDisk")
        .or_else(|| request_text(log, "source").filter(|s| s.contains("disks/")))
}

/// A short, operator-safe summary of what the audited call did: metadata key names, the service
/// account or disk involved, the error status. Never metadata values (user-data may hold secrets).
pub fn summarise_request(log: &AuditLog) -> String {
    let mut parts = Vec::new();
    let request = log.request.as_ref();
    if let Some(keys) = request.and_then(|r| string_list(r.get("Metadata Keys Modified"))) {
        parts.push(format!("Metadata Keys Modified: {keys}"));
    }
    if let Some(meta) = &log.metadata {
        for delta_name in ["instanceMetadataDelta", "projectMetadataDelta"] {
            let Some(delta) = meta.get(delta_name) else {
                continue;
            };
            for (field, label) in [
                ("addedMetadataKeys", "added"),
                ("modifiedMetadataKeys", "modified"),
                ("deletedMetadataKeys", "deleted"),
            ] {
                if let Some(keys) = string_list(delta.get(field)) {
                    parts.push(format!("{label} keys: {keys}"));
                }
            }
        }
    }
    for (field, label) in [
        ("email", "service account"),
        ("source", "disk"),
        ("sourceDisk", "source disk"),
        ("sourceInstance", "source instance"),
        ("machineType", "machine type"),
    ] {
        if let Some(value) = request.and_then(|r| r.get(field)).and_then(Value::as_str) {
            parts.push(format!("{label}: {value}"));
        }
    }
    if let Some(status) = &log.status {
        let code = status.get("code").and_then(Value::as_i64).unwrap_or(0);
        if code != 0 {
            let message = status.get("message").and_then(Value::as_str).unwrap_or("");
            parts.push(
                format!("failed: code {code} {message}")
                    .trim_end()
                    .to_owned(),
            );
        }
    }
    parts.join("; ")
}

fn string_list(value: Option<&Value>) -> Option<String> {
    let items: Vec<&str> = value?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!items.is_empty()).then(|| items.join(", "))
}

#[cfg(test)]
mod tests;
