//! [`history`]: a VM's audit trail for the History tab — approvals, revocations, releases with their
//! receipt ids, denials with their failed checks — newest first, read from the typed event details.
//! An event whose detail does not decode is listed by its kind only ([`HistoryKind::Unrecognized`]).

use tokendist_store::{EventDetail, EventQuery, EventRecord, Store};

use crate::error::ConsoleError;
use crate::operations::model::{HistoryEntry, HistoryKind, RevocationCause};

/// How many events History reads per VM.
pub const HISTORY_LIMIT: usize = 500;

/// The VM's events, newest first (at most [`HISTORY_LIMIT`]).
pub async fn history(
    store: &dyn Store,
    instance_id: &str,
) -> Result<Vec<HistoryEntry>, ConsoleError> {
    let events = store
        .list_events(&EventQuery::latest(HISTORY_LIMIT).for_instance(instance_id))
        .await?;
    Ok(events.iter().map(entry).collect())
}

/// One event as History shows it.
pub fn entry(event: &EventRecord) -> HistoryEntry {
    let what = match &event.detail {
        EventDetail::Approved(d) => HistoryKind::Approved {
            revision: d.revision,
            forced_reason: d.forced_reason.clone(),
            secrets: d.secrets.len(),
        },
        EventDetail::Revoked(d) => HistoryKind::Revoked {
            revision: d.revision,
            reason: d.reason.clone(),
            cause: d.audit_entry.as_ref().map(|entry| RevocationCause {
                method: entry.method_name.clone(),
                principal: entry.principal_email.clone(),
                time: entry.timestamp,
            }),
        },
        EventDetail::Released(d) => HistoryKind::Released {
            receipt_id: d.receipt_id.clone(),
            secrets: d.secrets.len(),
        },
        EventDetail::Denied(d) => HistoryKind::Denied {
            failed_checks: d.failed_checks.iter().map(|c| c.name.clone()).collect(),
        },
        EventDetail::Attested(_) => HistoryKind::Attested,
        EventDetail::PendingRemoved(_) => HistoryKind::PendingRemoved,
        EventDetail::Unrecognized(_) => HistoryKind::Unrecognized {
            event_kind: event.kind.as_str().to_owned(),
        },
    };
    HistoryEntry {
        time: event.time,
        actor: event.actor.clone(),
        what,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use tokendist_store::{EventKind, RevokedDetail};

    use super::*;

    #[test]
    fn a_typed_detail_becomes_its_history_kind() {
        let event = EventRecord::new(
            Utc::now(),
            EventKind::Revoked,
            "1",
            "alice",
            EventDetail::Revoked(RevokedDetail {
                instance_name: "vm".into(),
                reason: "decommissioned".into(),
                revision: 2,
                previous_revision: 1,
                audit_entry: None,
            }),
        );
        assert_eq!(
            entry(&event).what,
            HistoryKind::Revoked {
                revision: 2,
                reason: "decommissioned".into(),
                cause: None,
            }
        );
    }

    #[test]
    fn an_audit_watch_revocation_carries_its_entry_method_principal_and_time() {
        let at = Utc::now();
        let entry = tokendist_core::auditlog::AuditEntry {
            insert_id: "e1".into(),
            timestamp: at,
            log_name: "projects/p/logs/cloudaudit.googleapis.com%2Factivity".into(),
            resource_type: "gce_instance".into(),
            instance_id: Some("1".into()),
            disk_id: None,
            source_disk: None,
            source_instance: None,
            method_name: "v1.compute.instances.setMetadata".into(),
            service_name: "compute.googleapis.com".into(),
            resource_name: "projects/p/zones/z/instances/vm".into(),
            principal_email: Some("bob@example.com".into()),
            severity: "NOTICE".into(),
            operation_first: true,
            operation_last: false,
            request_summary: String::new(),
        };
        let event = EventRecord::new(
            at,
            EventKind::Revoked,
            "1",
            "server:audit-watch",
            EventDetail::Revoked(RevokedDetail {
                instance_name: "vm".into(),
                reason: "denied method".into(),
                revision: 2,
                previous_revision: 1,
                audit_entry: Some(entry),
            }),
        );
        let HistoryKind::Revoked { cause, .. } = entry_of(&event) else {
            panic!("not a revocation");
        };
        assert_eq!(
            cause,
            Some(RevocationCause {
                method: "v1.compute.instances.setMetadata".into(),
                principal: Some("bob@example.com".into()),
                time: at,
            })
        );
    }

    fn entry_of(event: &EventRecord) -> HistoryKind {
        entry(event).what
    }

    #[test]
    fn an_undecodable_detail_is_listed_by_its_kind() {
        let event = EventRecord::new(
            Utc::now(),
            EventKind::Released,
            "1",
            "server",
            EventDetail::Unrecognized(serde_json::json!({"secrets": ["a"]})),
        );
        assert_eq!(
            entry(&event).what,
            HistoryKind::Unrecognized {
                event_kind: "released".into()
            }
        );
    }
}
