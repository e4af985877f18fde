//! How store failures reach callers: outages are UNAVAILABLE (retry), session races and expiry are
//! FAILED_PRECONDITION, anything else is internal (logged, not returned).

use tokendist_store::StoreError;

use crate::status::ServiceError;

pub fn from_store(error: StoreError) -> ServiceError {
    match error {
        StoreError::Unavailable(detail) => {
            ServiceError::Unavailable(format!("store unavailable: {detail}"))
        }
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
        other => ServiceError::Internal(other.to_string()),
    }
}
