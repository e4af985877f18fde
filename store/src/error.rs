//! `StoreError`: every way a store operation can fail, classified so callers know whether to retry
//! (`Unavailable`, with its typed [`Outage`]), re-read and retry their own logic (`Conflict`), or
//! report (`Corrupt`, `Refused`, `Config`). Errors about a record name it as a typed [`Record`]
//! (kind and key), so callers decide on the kind, never on text.
//! Messages name the record and what to do; they never contain record contents (which may hold secrets).

use crate::records::SessionStep;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot serve right now (SQLite locked longer than the busy timeout, a file not
    /// writable, an I/O error, Firestore or its emulator down). Retryable: callers map it to gRPC
    /// `UNAVAILABLE`. `outage` decides; `detail` is for operators' logs.
    #[error("store unavailable: {detail}; retry later, and check that the database is reachable")]
    Unavailable { outage: Outage, detail: String },

    /// A compare-and-swap lost: the record already exists, or changed since it was read (its revision
    /// or session step is not the one expected). Re-read the record and decide again.
    #[error("store conflict on {what}: {detail}; re-read the record and retry the decision")]
    Conflict { what: Record, detail: String },

    /// The record does not exist.
    #[error("{what} not found in the store")]
    NotFound { what: Record },

    /// A session's expiry has passed: it can no longer advance or be consumed.
    #[error("session {session_id} expired; begin a new session")]
    SessionExpired { session_id: String },

    /// A session step transition that goes backwards or stays put (a caller bug).
    #[error("invalid session transition from {from:?} to {to:?}: steps only move forward")]
    InvalidTransition { from: SessionStep, to: SessionStep },

    /// A stored record (or the database file itself) cannot be decoded. Nothing is overwritten;
    /// inspect or remove it by hand.
    #[error(
        "corrupt record {what}: {reason}; inspect or remove it by hand, the store did not change it"
    )]
    Corrupt { what: Record, reason: String },

    /// The backend refused the operation, and retrying it will not change that (a constraint
    /// violated, a statement the database rejects): a bug or a store changed by hand.
    #[error("store refused the operation: {0}")]
    Refused(String),

    /// The store URL or options are wrong (unknown scheme, missing path or project, bad parameter).
    #[error("store configuration error: {0}")]
    Config(String),
}

/// Why the backend is unavailable: what decides whether a connection is still usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Another writer held the lock for longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED):
    /// the connection itself is fine.
    Locked,
    /// The database file, its journal or its directory cannot be opened or written right now.
    NotWritable,
    /// An I/O error, or the disk is full.
    Io,
    /// A remote backend (Firestore) did not answer, or lost too many races in a row.
    Unreachable,
    /// The worker that ran the operation failed.
    Worker,
}

/// The kinds of record the store keeps (and the database itself, for failures of the whole store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Approval,
    Pending,
    Attestation,
    Session,
    Event,
    /// The audit watch's state of one project.
    Watch,
    /// The SQLite schema version.
    Schema,
    /// The database as a whole (a damaged file, an unreachable Firestore database).
    Database,
}

impl RecordKind {
    /// The table or collection (without a prefix) that holds records of this kind.
    pub fn collection(self) -> &'static str {
        match self {
            RecordKind::Approval => "approvals",
            RecordKind::Pending => "pending",
            RecordKind::Attestation => "attestations",
            RecordKind::Session => "sessions",
            RecordKind::Event => "events",
            RecordKind::Watch => "watch",
            RecordKind::Schema => "schema_version",
            RecordKind::Database => "database",
        }
    }
}

/// The record an error is about: its kind (what callers decide on) and key (for operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordKind,
    /// The record's key (instance id, session id, event id); empty for a whole collection.
    pub key: String,
}

impl Record {
    pub fn new(kind: RecordKind, key: impl Into<String>) -> Self {
        Record {
            kind,
            key: key.into(),
        }
    }
}

impl std::fmt::Display for Record {
    /// `approvals/123`, or the collection alone for an empty key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let collection = self.kind.collection();
        if self.key.is_empty() {
            f.write_str(collection)
        } else {
            write!(f, "{collection}/{}", self.key)
        }
    }
}

impl StoreError {
    /// Whether retrying the same operation later may succeed without changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    pub(crate) fn unavailable(outage: Outage, detail: impl Into<String>) -> Self {
        StoreError::Unavailable {
            outage,
            detail: detail.into(),
        }
    }

    pub(crate) fn conflict(what: Record, detail: impl Into<String>) -> Self {
        StoreError::Conflict {
            what,
            detail: detail.into(),
        }
    }

    pub(crate) fn not_found(what: Record) -> Self {
        StoreError::NotFound { what }
    }

    pub(crate) fn corrupt(what: Record, reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what,
            reason: reason.to_string(),
        }
    }
}
