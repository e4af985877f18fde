//! Cloud Audit Log entries reduced to what the `auditlog.clean` / `instance.boot_disk` checks and the
//! console timeline need. The allow/deny table of methods lives in [`methods`](mod@methods) (its
//! defaults in [`method_table`](mod@method_table)), classification in [`classify`](mod@classify),
//! the console timeline in [`timeline`](mod@timeline), the audit watch's per-project state in
//! [`watch`](mod@watch).

pub mod classify;
pub mod method_table;
pub mod methods;
pub mod timeline;
pub mod watch;

pub use classify::{AuditScope, Classification, Relation, classify, normalize_method, relation};
pub use methods::{AuditMethods, MethodTables, MethodVerdict};
pub use timeline::{TimelineEvent, timeline};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audit-log entry (`LogEntry` with an `AuditLog` protoPayload), decoded by `tokendist-gcp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub insert_id: String,
    pub timestamp: DateTime<Utc>,
    /// e.g. `projects/p/logs/cloudaudit.googleapis.com%2Factivity`.
    pub log_name: String,
    /// `gce_instance`, `gce_project`, ...
    pub resource_type: String,
    /// `resource.labels.instance_id` when present.
    pub instance_id: Option<String>,
    /// `resource.labels.disk_id` when present (`gce_disk` entries).
    #[serde(default)]
    pub disk_id: Option<String>,
    /// `protoPayload.request.sourceDisk` when present: the disk a snapshot, image or disk was made from.
    #[serde(default)]
    pub source_disk: Option<String>,
    /// `protoPayload.request.sourceInstance` when present: the instance a machine image or template
    /// was made from.
    #[serde(default)]
    pub source_instance: Option<String>,
    /// `protoPayload.methodName`, e.g. `v1.compute.instances.setMetadata`.
    pub method_name: String,
    /// `protoPayload.serviceName`, e.g. `compute.googleapis.com`.
    pub service_name: String,
    /// `protoPayload.resourceName`, e.g. `projects/p/zones/z/instances/vm`.
    pub resource_name: String,
    /// `protoPayload.authenticationInfo.principalEmail` (may be absent for system events).
    pub principal_email: Option<String>,
    /// `severity` as text (`NOTICE`, `ERROR`, ...).
    pub severity: String,
    /// `operation.first` / `operation.last` flags when the entry belongs to a long-running operation.
    pub operation_first: bool,
    pub operation_last: bool,
    /// A short, operator-safe summary of `protoPayload.request` (e.g. metadata keys modified).
    pub request_summary: String,
}
