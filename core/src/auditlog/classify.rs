//! Classification of one audit-log entry for one VM: first its [`Relation`] to the VM (the instance,
//! its boot disk, its project, a copy made from the disk or the instance, or something else), then
//! its method against the [`AuditMethods`] allow/deny table. Unknown methods fail.

use serde::{Deserialize, Serialize};

use super::{AuditEntry, AuditMethods, MethodVerdict};

/// What an audit-log entry means for the approved instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "classification", rename_all = "snake_case")]
pub enum Classification {
    /// An event on this instance, its boot disk or its project that the allow-list calls harmless.
    Allowed,
    /// A denied method; `reason` is operator-safe text for the console and the verdict.
    Denied { reason: String },
    /// A method on neither list: fails closed, shown apart from denials.
    Unknown { reason: String },
    /// An entry about another instance or resource: not part of this VM's history.
    OtherInstance,
}

impl Classification {
    /// True for the classifications that fail `auditlog.clean`.
    pub fn fails(&self) -> bool {
        matches!(self, Self::Denied { .. } | Self::Unknown { .. })
    }

    /// The failure text, if it fails.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Denied { reason } | Self::Unknown { reason } => Some(reason),
            _ => None,
        }
    }
}

/// The VM an entry is judged for: its instance and (when known) its boot disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditScope<'a> {
    pub instance_id: &'a str,
    /// Empty when unknown: then only the id identifies the instance.
    pub instance_name: &'a str,
    pub boot_disk_id: Option<&'a str>,
    pub boot_disk_name: Option<&'a str>,
}

impl<'a> AuditScope<'a> {
    /// A scope that knows only the instance id.
    pub fn instance(instance_id: &'a str) -> Self {
        Self {
            instance_id,
            ..Self::default()
        }
    }
}

/// How an entry relates to the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Instance,
    BootDisk,
    Project,
    /// A snapshot, image or disk made from the boot disk, or the disk attached elsewhere
    /// (`request.sourceDisk`, `request.source`).
    CopyOfBootDisk,
    /// A machine image or template made from the instance (`request.sourceInstance`).
    CopyOfInstance,
    Other,
}

impl Relation {
    fn place(self) -> &'static str {
        match self {
            Self::Instance => "on the instance",
            Self::BootDisk => "on its boot disk",
            Self::Project => "in the project",
            Self::CopyOfBootDisk => "using its boot disk",
            Self::CopyOfInstance => "using the instance",
            Self::Other => "elsewhere",
        }
    }

    /// True for entries about the boot disk's history (`instance.boot_disk`).
    pub fn concerns_boot_disk(self) -> bool {
        matches!(
            self,
            Self::BootDisk | Self::CopyOfBootDisk | Self::CopyOfInstance
        )
    }
}

/// Drops a leading API version segment (`v1.`, `beta.`, `alpha.`, `v1beta1.`, ...).
pub(crate) fn strip_version(method: &str) -> &str {
    match method.split_once('.') {
        Some((first, rest)) if is_version_segment(first) => rest,
        _ => method,
    }
}

/// Normalises a method name for comparison: drops a leading API version segment
/// (`v1.`, `beta.`, `alpha.`, `v1beta1.`, ...) and lower-cases it.
/// `v1.compute.instances.setMetadata` → `compute.instances.setmetadata`.
pub fn normalize_method(method: &str) -> String {
    strip_version(method.trim()).to_ascii_lowercase()
}

fn is_version_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    lower == "beta"
        || lower == "alpha"
        || (lower.starts_with('v') && lower[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The last path segment of a resource reference (`.../disks/NAME` → `NAME`), and the project and
/// zone it names, if it names them.
fn reference_parts(reference: &str) -> (Option<&str>, Option<&str>, &str) {
    let segments: Vec<&str> = reference.trim().trim_end_matches('/').split('/').collect();
    let after = |word: &str| {
        segments
            .iter()
            .position(|s| *s == word)
            .and_then(|i| segments.get(i + 1).copied())
    };
    let last = segments.last().copied().unwrap_or("");
    (after("projects"), after("zones"), last)
}

/// True when `reference` names the resource with this name or numeric id. A reference to another
/// project or zone never matches; a reference that names neither is judged by its last segment.
fn names(reference: &str, name: Option<&str>, id: Option<&str>, entry: &AuditEntry) -> bool {
    let (project, _zone, last) = reference_parts(reference);
    let project_ok = project.is_none_or(|p| entry.log_name.starts_with(&format!("projects/{p}/")));
    let matches_name = name.is_some_and(|n| !n.is_empty() && n == last);
    let matches_id = id.is_some_and(|i| !i.is_empty() && i == last);
    project_ok && (matches_name || matches_id)
}

/// How `entry` relates to the VM in `scope`.
pub fn relation(entry: &AuditEntry, scope: &AuditScope<'_>) -> Relation {
    if entry
        .source_disk
        .as_deref()
        .is_some_and(|s| names(s, scope.boot_disk_name, scope.boot_disk_id, entry))
    {
        return Relation::CopyOfBootDisk;
    }
    if entry
        .source_instance
        .as_deref()
        .is_some_and(|s| names(s, Some(scope.instance_name), Some(scope.instance_id), entry))
    {
        return Relation::CopyOfInstance;
    }
    if entry.resource_type == "gce_project" {
        return Relation::Project;
    }
    if let Some(id) = entry.instance_id.as_deref() {
        return if id == scope.instance_id {
            Relation::Instance
        } else {
            Relation::Other
        };
    }
    if let Some(id) = entry.disk_id.as_deref() {
        return if scope.boot_disk_id == Some(id) {
            Relation::BootDisk
        } else {
            Relation::Other
        };
    }
    // Fail closed: the server asks only for this VM's entries, so an instance or disk entry that
    // names no resource id is taken to be about this VM.
    match entry.resource_type.as_str() {
        "gce_disk" => Relation::BootDisk,
        "gce_instance" | "" => Relation::Instance,
        _ => Relation::Other,
    }
}

/// Classifies `entry` for the VM in `scope` against `methods`.
///
/// Entries on the instance, its boot disk and its project are judged by their method: allowed,
/// denied (with the table's reason) or unknown. Any entry that made a copy of the boot disk or of the
/// instance fails whatever its method. Failed calls (severity ERROR) are judged like successful
/// ones: the attempt shows someone tried; Alice can re-approve after reading it.
pub fn classify(
    entry: &AuditEntry,
    methods: &AuditMethods,
    scope: &AuditScope<'_>,
) -> Classification {
    let relation = relation(entry, scope);
    if relation == Relation::Other {
        return Classification::OtherInstance;
    }
    let method = normalize_method(&entry.method_name);
    let when_who = format!(
        "at {} by {}",
        entry.timestamp.to_rfc3339(),
        principal(entry)
    );
    let place = relation.place();
    match (methods.verdict(&entry.method_name), relation) {
        (MethodVerdict::Denied { reason }, _) => Classification::Denied {
            reason: format!("{method} {place} {when_who}: {reason}"),
        },
        (_, Relation::CopyOfBootDisk | Relation::CopyOfInstance) => Classification::Denied {
            reason: format!(
                "{method} {place} {when_who}: used it as its source (a copy, or another VM reading it)"
            ),
        },
        (MethodVerdict::Allowed { .. }, _) => Classification::Allowed,
        (MethodVerdict::Unknown, _) => Classification::Unknown {
            reason: format!(
                "unknown method {method} {place} {when_who}: not on the allow-list of harmless methods"
            ),
        },
    }
}

fn principal(entry: &AuditEntry) -> &str {
    entry
        .principal_email
        .as_deref()
        .unwrap_or("an unnamed principal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes_are_ignored() {
        for m in [
            "v1.compute.instances.setMetadata",
            "beta.compute.instances.setMetadata",
            "alpha.compute.instances.setMetadata",
            "compute.instances.setMetadata",
        ] {
            assert_eq!(normalize_method(m), "compute.instances.setmetadata", "{m}");
        }
    }

    #[test]
    fn references_match_by_name_or_id_within_the_project() {
        let entry = AuditEntry {
            insert_id: "x".into(),
            timestamp: chrono::DateTime::UNIX_EPOCH,
            log_name: "projects/p/logs/cloudaudit.googleapis.com%2Factivity".into(),
            resource_type: "gce_snapshot".into(),
            instance_id: None,
            disk_id: None,
            source_disk: None,
            source_instance: None,
            method_name: "v1.compute.snapshots.insert".into(),
            service_name: "compute.googleapis.com".into(),
            resource_name: String::new(),
            principal_email: None,
            severity: "NOTICE".into(),
            operation_first: true,
            operation_last: true,
            request_summary: String::new(),
        };
        for (reference, matches) in [
            ("projects/p/zones/z/disks/vm", true),
            (
                "https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/vm",
                true,
            ),
            ("zones/z/disks/vm", true),
            ("projects/p/zones/z/disks/123", true),
            ("projects/p/zones/z/disks/vm-other", false),
            ("projects/q/zones/z/disks/vm", false),
        ] {
            assert_eq!(
                names(reference, Some("vm"), Some("123"), &entry),
                matches,
                "{reference}"
            );
        }
    }
}
