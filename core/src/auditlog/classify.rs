//! Classification of one audit-log entry for one instance against the [`DenyList`].

use serde::{Deserialize, Serialize};

use super::{AuditEntry, DenyList};

/// What an audit-log entry means for the approved instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "classification", rename_all = "snake_case")]
pub enum Classification {
    /// An event on this instance (or its project) that does not deny release.
    Allowed,
    /// A denied method; `reason` is operator-safe text for the console and the verdict.
    Denied { reason: String },
    /// An entry about another instance: not part of this VM's history.
    OtherInstance,
}

/// Normalises a method name for comparison: drops a leading API version segment
/// (`v1.`, `beta.`, `alpha.`, `v1beta1.`, ...) and lower-cases it.
/// `v1.compute.instances.setMetadata` → `compute.instances.setmetadata`.
pub fn normalize_method(method: &str) -> String {
    let trimmed = method.trim();
    let without_version = match trimmed.split_once('.') {
        Some((first, rest)) if is_version_segment(first) => rest,
        _ => trimmed,
    };
    without_version.to_ascii_lowercase()
}

fn is_version_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    lower == "beta"
        || lower == "alpha"
        || (lower.starts_with('v') && lower[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Classifies `entry` for the instance with numeric id `instance_id`.
///
/// Instance-scoped denied methods deny when the entry names this instance, and also when the entry
/// names no instance at all (fail closed: the server only asks for this instance's entries).
/// Project-scoped denied methods deny whatever the entry's instance. Failed calls (severity ERROR)
/// deny too: the attempt shows someone tried to change the VM; Alice can re-approve after reading it.
pub fn classify(entry: &AuditEntry, deny: &DenyList, instance_id: &str) -> Classification {
    let method = normalize_method(&entry.method_name);
    if deny.denies_in_project(&entry.method_name) {
        return Classification::Denied {
            reason: format!(
                "{method} in the project at {} by {}",
                entry.timestamp.to_rfc3339(),
                principal(entry)
            ),
        };
    }
    match entry.instance_id.as_deref() {
        Some(id) if id != instance_id => Classification::OtherInstance,
        _ if deny.denies_on_instance(&entry.method_name) => Classification::Denied {
            reason: format!(
                "{method} on the instance at {} by {}",
                entry.timestamp.to_rfc3339(),
                principal(entry)
            ),
        },
        _ => Classification::Allowed,
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
}
