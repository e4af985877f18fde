//! How store failures reach callers: session races and expiry are FAILED_PRECONDITION (the client
//! begins a new session); every other store failure — an outage, a file that is not writable, a
//! record that cannot be read — is UNAVAILABLE, so the client retries and the server heals without a
//! restart once the store does. The store's own text (SQLite or Firestore messages, paths, record
//! names) goes to the log only, never to the caller.

use tokendist_core::terminal_text::printable_line;
use tokendist_store::StoreError;

use crate::status::ServiceError;

/// What every caller is told when the store fails.
pub const STORE_UNAVAILABLE: &str = "the token server's store is unavailable; retry later";

pub fn from_store(error: StoreError) -> ServiceError {
    match error {
        StoreError::SessionExpired { .. } => {
            ServiceError::FailedPrecondition("session expired; call BeginSession again".into())
        }
        StoreError::Conflict { what, .. } if what.starts_with("session") => {
            ServiceError::FailedPrecondition(
                "session already used or out of order; call BeginSession again".into(),
            )
        }
        StoreError::InvalidTransition { .. } => ServiceError::FailedPrecondition(
            "session already used or out of order; call BeginSession again".into(),
        ),
        StoreError::NotFound { what } if what.starts_with("session") => {
            ServiceError::FailedPrecondition("unknown session; call BeginSession".into())
        }
        other => {
            tracing::error!(
                error = %printable_line(&other.to_string()),
                retryable = other.is_retryable(),
                "store operation failed"
            );
            ServiceError::Unavailable(STORE_UNAVAILABLE.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_are_unavailable_without_the_stores_text() {
        let errors = [
            StoreError::Unavailable("SQLite error (SQLITE_IOERR): disk I/O error".into()),
            StoreError::Config("SQLite database /var/lib/x.db not writable".into()),
            StoreError::Corrupt {
                what: "approval 42".into(),
                reason: "bad JSON".into(),
            },
            StoreError::Conflict {
                what: "approval 42".into(),
                detail: "revision 3".into(),
            },
        ];
        for error in errors {
            let status: tonic::Status = from_store(error).into();
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
            for leak in ["SQLite", "/var/lib", "approval 42", "revision"] {
                assert!(!status.message().contains(leak), "{status:?}");
            }
        }
    }
}
