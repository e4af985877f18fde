//! `StoreError`: every way a store operation can fail, classified so callers know whether to retry
//! (`Unavailable`), re-read and retry their own logic (`Conflict`), or report (`Corrupt`, `Config`).
//! Messages name the record and what to do; they never contain record contents (which may hold secrets).

use crate::records::SessionStep;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached right now (SQLite locked longer than the busy timeout, Firestore
    /// or its emulator down). Retryable: callers map it to gRPC `UNAVAILABLE`.
    #[error("store unavailable: {0}; retry later, and check that the database is reachable")]
    Unavailable(String),

    /// A compare-and-swap lost: the record already exists, or changed since it was read (its revision
    /// or session step is not the one expected). Re-read the record and decide again.
    #[error("store conflict on {what}: {detail}; re-read the record and retry the decision")]
    Conflict { what: String, detail: String },

    /// The record does not exist.
    #[error("{what} not found in the store")]
    NotFound { what: String },

    /// A session's expiry has passed: it can no longer advance or be consumed.
    #[error("session {session_id} expired; begin a new session")]
    SessionExpired { session_id: String },

    /// A session step transition that goes backwards or stays put (a caller bug).
    #[error("invalid session transition from {from:?} to {to:?}: steps only move forward")]
    InvalidTransition { from: SessionStep, to: SessionStep },

    /// A stored record cannot be decoded. Nothing is overwritten; inspect or remove the record by hand.
    #[error(
        "corrupt record {what}: {reason}; inspect or remove it by hand, the store did not change it"
    )]
    Corrupt { what: String, reason: String },

    /// The store URL or options are wrong (unknown scheme, missing path or project, bad parameter).
    #[error("store configuration error: {0}")]
    Config(String),
}

impl StoreError {
    /// Whether retrying the same operation later may succeed without changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    pub(crate) fn conflict(what: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::Conflict {
            what: what.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn corrupt(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}
