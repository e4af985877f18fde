//! [`history`]: a VM's audit trail for the History tab — approvals, revocations, releases with their
//! receipt ids, denials with their failed checks — newest first, read from the typed event details.
//! An event whose detail does not decode is listed by its kind only ([`HistoryKind::Unrecognized`]).

use tokendist_store::{EventDetail, EventQuery, EventRecord, Store};

use crate::error::ConsoleError;
use crate::operations::model::{HistoryEntry, HistoryKind};

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
                reason: "decommissioned".into()
            }
        );
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
