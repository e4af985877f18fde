//! The audit-log timeline the console shows for one VM: its events oldest first, each classified
//! (allowed, denied, or unknown to the allow-list).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AuditEntry, AuditMethods, AuditScope, Classification, classify};

/// One line of the console's audit-log tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub timestamp: DateTime<Utc>,
    /// The method without version prefix, as logged (e.g. `compute.instances.setMetadata`).
    pub method: String,
    pub principal: Option<String>,
    pub severity: String,
    /// `activity`, `data_access`, `system_event` or the raw log name.
    pub log_kind: String,
    pub request_summary: String,
    pub classification: Classification,
}

impl TimelineEvent {
    /// True when this event is a denied method.
    pub fn is_denied(&self) -> bool {
        matches!(self.classification, Classification::Denied { .. })
    }

    /// True when this event's method is on neither list (it fails too, shown apart).
    pub fn is_unknown(&self) -> bool {
        matches!(self.classification, Classification::Unknown { .. })
    }

    /// A one-line rendering, e.g. `2021-06-22T12:51:46Z DENIED compute.instances.setMetadata by bob@x`
    /// (`UNKNOWN` for a method the allow-list does not know).
    pub fn line(&self) -> String {
        let mark = if self.is_denied() {
            "DENIED"
        } else if self.is_unknown() {
            "UNKNOWN"
        } else {
            "ok"
        };
        let by = self.principal.as_deref().unwrap_or("-");
        let mut line = format!(
            "{} {mark} {} by {by} [{}]",
            self.timestamp.format("%Y-%m-%dT%H:%M:%SZ"),
            self.method,
            self.log_kind
        );
        if !self.request_summary.is_empty() {
            line.push_str(": ");
            line.push_str(&self.request_summary);
        }
        line
    }
}

/// The events of the VM in `scope` (its instance, boot disk, project, copies) oldest first; entries
/// of other resources are left out.
pub fn timeline(
    entries: &[AuditEntry],
    methods: &AuditMethods,
    scope: &AuditScope<'_>,
) -> Vec<TimelineEvent> {
    let mut events: Vec<TimelineEvent> = entries
        .iter()
        .filter_map(|entry| {
            let classification = classify(entry, methods, scope);
            if classification == Classification::OtherInstance {
                return None;
            }
            Some(TimelineEvent {
                timestamp: entry.timestamp,
                method: method_without_version(&entry.method_name).to_owned(),
                principal: entry.principal_email.clone(),
                severity: entry.severity.clone(),
                log_kind: log_kind(&entry.log_name).to_owned(),
                request_summary: entry.request_summary.clone(),
                classification,
            })
        })
        .collect();
    events.sort_by_key(|e| e.timestamp);
    events
}

fn method_without_version(method: &str) -> &str {
    match method.split_once('.') {
        Some((first, rest)) if !first.eq_ignore_ascii_case("compute") && rest.contains('.') => rest,
        _ => method,
    }
}

fn log_kind(log_name: &str) -> &str {
    ["cloudaudit.googleapis.com%2F", "cloudaudit.googleapis.com/"]
        .iter()
        .find_map(|marker| log_name.split_once(marker).map(|(_, kind)| kind))
        .unwrap_or(log_name)
}
