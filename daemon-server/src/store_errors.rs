//! How store failures reach callers: session races and expiry are a [`SessionRefusal`]
//! (FAILED_PRECONDITION: the client begins a new session), decided on the store's typed record kind;
//! every other store failure — an outage, a file that is not writable, a record that cannot be read —
//! is UNAVAILABLE, so the client retries and the server heals without a restart once the store does.
//! The store's own text (SQLite or Firestore messages, paths, record names) goes to the log only,
//! never to the caller.

use tokendist_core::terminal_text::printable_line;
use tokendist_store::{RecordKind, StoreError};

use crate::sessions::SessionRefusal;
use crate::status::{Dependency, ServiceError};

pub fn from_store(error: StoreError) -> ServiceError {
    match error {
        StoreError::SessionExpired { .. } => SessionRefusal::Expired.into(),
        StoreError::Conflict { what, .. } if what.kind == RecordKind::Session => {
            SessionRefusal::UsedOrOutOfOrder.into()
        }
        StoreError::InvalidTransition { .. } => SessionRefusal::UsedOrOutOfOrder.into(),
        StoreError::NotFound { what } if what.kind == RecordKind::Session => {
            SessionRefusal::Unknown.into()
        }
        other => {
            tracing::error!(
                error = %printable_line(&other.to_string()),
                retryable = other.is_retryable(),
                "store operation failed"
            );
            ServiceError::Unavailable(Dependency::Store)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokendist_store::{Outage, Record};

    #[test]
    fn store_failures_are_unavailable_without_the_stores_text() {
        let errors = [
            StoreError::Unavailable {
                outage: Outage::Io,
                detail: "SQLite error (SQLITE_IOERR): disk I/O error".into(),
            },
            StoreError::Config("SQLite database /var/lib/x.db not writable".into()),
            StoreError::Corrupt {
                what: Record::new(RecordKind::Approval, "42"),
                reason: "bad JSON".into(),
            },
            StoreError::Conflict {
                what: Record::new(RecordKind::Approval, "42"),
                detail: "revision 3".into(),
            },
            // A session's name in another record kind's key decides nothing.
            StoreError::NotFound {
                what: Record::new(RecordKind::Event, "session-1"),
            },
        ];
        for error in errors {
            let status: tonic::Status = from_store(error).into();
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
            for leak in [
                "SQLite",
                "/var/lib",
                "approval",
                "42",
                "revision",
                "session-1",
            ] {
                assert!(!status.message().contains(leak), "{status:?}");
            }
        }
    }

    #[test]
    fn session_races_are_refusals_decided_on_the_record_kind() {
        let session = || Record::new(RecordKind::Session, "abc");
        let cases = [
            (
                StoreError::NotFound { what: session() },
                SessionRefusal::Unknown,
            ),
            (
                StoreError::Conflict {
                    what: session(),
                    detail: "step taken".into(),
                },
                SessionRefusal::UsedOrOutOfOrder,
            ),
            (
                StoreError::SessionExpired {
                    session_id: "abc".into(),
                },
                SessionRefusal::Expired,
            ),
        ];
        for (error, refusal) in cases {
            assert!(
                matches!(from_store(error), ServiceError::Session(r) if r == refusal),
                "{refusal:?}"
            );
        }
    }
}
