//! Cloud Audit Log entries as Compute Engine writes them (`LogEntry` with an `AuditLog` protoPayload).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::fingerprint::{new_token, operation_name};
use crate::scenario::{AuditLogKind, VmSpec};

/// What an entry is about: an instance (`gce_instance`), a disk (`gce_disk`) or a project
/// (`gce_project`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuditResource {
    Disk {
        id: String,
        project: String,
        zone: String,
        name: String,
    },
    Instance {
        id: u64,
        project: String,
        zone: String,
        name: String,
    },
    Project {
        project: String,
    },
}

impl AuditResource {
    pub(crate) fn instance(spec: &VmSpec) -> AuditResource {
        AuditResource::Instance {
            id: spec.id,
            project: spec.project.clone(),
            zone: spec.zone.clone(),
            name: spec.name.clone(),
        }
    }

    fn resource_name(&self) -> String {
        match self {
            AuditResource::Instance {
                project,
                zone,
                name,
                ..
            } => {
                format!("projects/{project}/zones/{zone}/instances/{name}")
            }
            AuditResource::Disk {
                project,
                zone,
                name,
                ..
            } => format!("projects/{project}/zones/{zone}/disks/{name}"),
            AuditResource::Project { project } => format!("projects/{project}"),
        }
    }

    fn zone(&self) -> Option<&str> {
        match self {
            AuditResource::Instance { zone, .. } | AuditResource::Disk { zone, .. } => Some(zone),
            _ => None,
        }
    }

    fn monitored_resource(&self) -> Value {
        match self {
            AuditResource::Instance {
                id, project, zone, ..
            } => json!({
                "type": "gce_instance",
                "labels": { "instance_id": id.to_string(), "project_id": project, "zone": zone },
            }),
            // As Compute writes them for disks: `disk_id`, `project_id`, `zone`.
            AuditResource::Disk {
                id, project, zone, ..
            } => json!({
                "type": "gce_disk",
                "labels": { "disk_id": id, "project_id": project, "zone": zone },
            }),
            AuditResource::Project { project } => json!({
                "type": "gce_project",
                "labels": { "project_id": project },
            }),
        }
    }
}

/// One stored entry with its parsed timestamp (for ordering and filtering).
#[derive(Debug, Clone)]
pub(crate) struct AuditRecord {
    pub time: DateTime<Utc>,
    /// Insertion sequence, the tie-breaker for equal timestamps.
    pub sequence: u64,
    pub entry: Value,
}

/// How metadata keys changed (for `GceInstanceAuditMetadata` / `GceProjectAuditMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MetadataDelta {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

impl MetadataDelta {
    /// All keys touched, sorted (the `Metadata Keys Modified` request field).
    pub(crate) fn all_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .added
            .iter()
            .chain(&self.modified)
            .chain(&self.deleted)
            .cloned()
            .collect();
        keys.sort();
        keys
    }
}

/// Everything needed to build one entry.
#[derive(Debug)]
pub(crate) struct EntryInput<'a> {
    pub project: &'a str,
    pub resource: &'a AuditResource,
    pub method: &'a str,
    pub time: DateTime<Utc>,
    pub principal: &'a str,
    pub log: AuditLogKind,
    /// Extra `request` fields besides `@type`.
    pub request: Option<&'a Map<String, Value>>,
    pub delta: Option<&'a MetadataDelta>,
    pub operation_id: Option<&'a str>,
}

/// RFC 3339 with microseconds and `Z`, as Logging writes `timestamp`.
pub(crate) fn log_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Builds the entry. Activity entries are `NOTICE` with an `operation` (single entry: first and last);
/// data-access entries are `INFO` without one.
pub(crate) fn entry(input: &EntryInput<'_>) -> AuditRecord {
    // `v1.compute.instances.setMetadata` -> request @type `type.googleapis.com/compute.instances.setMetadata`.
    let short_method = input
        .method
        .split_once('.')
        .map(|(_, rest)| rest)
        .unwrap_or(input.method);
    let mut request = Map::new();
    request.insert(
        "@type".into(),
        json!(format!("type.googleapis.com/{short_method}")),
    );
    if let Some(extra) = input.request {
        for (key, value) in extra {
            request.insert(key.clone(), value.clone());
        }
    }
    let mut payload = Map::new();
    payload.insert(
        "@type".into(),
        json!("type.googleapis.com/google.cloud.audit.AuditLog"),
    );
    payload.insert(
        "authenticationInfo".into(),
        json!({ "principalEmail": input.principal }),
    );
    payload.insert(
        "requestMetadata".into(),
        json!({
            "callerIp": "203.0.113.7",
            "callerSuppliedUserAgent": "gcpsim",
        }),
    );
    payload.insert("serviceName".into(), json!("compute.googleapis.com"));
    payload.insert("methodName".into(), json!(input.method));
    payload.insert("resourceName".into(), json!(input.resource.resource_name()));
    if let Some(delta) = input.delta {
        request.insert("Metadata Keys Modified".into(), json!(delta.all_keys()));
        let mut keys = Map::new();
        for (name, list) in [
            ("addedMetadataKeys", &delta.added),
            ("modifiedMetadataKeys", &delta.modified),
            ("deletedMetadataKeys", &delta.deleted),
        ] {
            if !list.is_empty() {
                keys.insert(name.into(), json!(list));
            }
        }
        let (type_name, delta_name) = match input.resource {
            AuditResource::Project { .. } => ("GceProjectAuditMetadata", "projectMetadataDelta"),
            _ => ("GceInstanceAuditMetadata", "instanceMetadataDelta"),
        };
        payload.insert(
            "metadata".into(),
            json!({
                "@type": format!("type.googleapis.com/google.cloud.audit.{type_name}"),
                delta_name: Value::Object(keys),
            }),
        );
    }
    payload.insert("request".into(), Value::Object(request));
    if let Some(zone) = input.resource.zone() {
        payload.insert(
            "resourceLocation".into(),
            json!({ "currentLocations": [zone] }),
        );
    }
    let mut entry = Map::new();
    entry.insert("protoPayload".into(), Value::Object(payload));
    entry.insert("insertId".into(), json!(new_token(12)));
    entry.insert("resource".into(), input.resource.monitored_resource());
    entry.insert("timestamp".into(), json!(log_time(input.time)));
    let receive = input.time + chrono::Duration::milliseconds(613);
    entry.insert(
        "receiveTimestamp".into(),
        json!(receive.to_rfc3339_opts(SecondsFormat::Nanos, true)),
    );
    entry.insert(
        "logName".into(),
        json!(format!(
            "projects/{}/logs/{}",
            input.project,
            input.log.log_id()
        )),
    );
    match input.log {
        AuditLogKind::Activity => {
            entry.insert("severity".into(), json!("NOTICE"));
            let operation_id = input
                .operation_id
                .map(str::to_string)
                .unwrap_or_else(|| operation_name(input.time));
            entry.insert(
                "operation".into(),
                json!({
                    "id": operation_id,
                    "producer": "compute.googleapis.com",
                    "first": true,
                    "last": true,
                }),
            );
        }
        AuditLogKind::DataAccess => {
            entry.insert("severity".into(), json!("INFO"));
        }
    }
    AuditRecord {
        time: input.time,
        sequence: 0,
        entry: Value::Object(entry),
    }
}
