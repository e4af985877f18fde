//! tokendist-store: where tokendist keeps its state (DESIGN §6): Alice's signed approvals, pending
//! VMs, the latest TPM attestation per VM, protocol sessions, and the append-only event trail (each
//! event's detail typed by [`event_detail`]).
//!
//! One async [`Store`] trait, two backends chosen by URL with [`open`]:
//! - `sqlite:///path/tokendist.db`: embedded default; several processes (console and server) may share
//!   the file. See [`store_url`] for every accepted URL form.
//! - `firestore://PROJECT/DATABASE?collection_prefix=P`: production; `FIRESTORE_EMULATOR_HOST` is passed
//!   in through [`StoreOptions`] (or read once by [`open_from_env`]).
//!
//! Racing writes never overwrite each other: approvals are compare-and-swapped on their `revision`,
//! sessions move forward one step at a time and are consumed exactly once, pending attempts are
//! counted atomically. Records are stored whole as JSON; an undecodable one is reported as
//! [`StoreError::Corrupt`], never a panic.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::watch::WatchState;

mod codec;
mod deadline;
pub mod error;
pub mod event_detail;
pub mod event_id;
mod firestore;
pub mod records;
mod sqlite;
pub mod store_url;
mod transitions;

pub use error::{Outage, Record, RecordKind, StoreError};
pub use event_detail::{
    ApprovedDetail, AttestedDetail, DeniedDetail, EventDetail, PcrPolicySource,
    PendingRemovedDetail, ReleasedDetail, RevokedDetail, SecretDetail,
};
pub use event_id::EventId;
pub use records::{
    AttestationRecord, EventKind, EventQuery, EventRecord, FailedCheck, PendingAttempt,
    PendingRecord, Revocation, SessionAttestation, SessionQuote, SessionRecord, SessionStep,
    SessionUpdate, StepChange,
};
pub use store_url::StoreLocation;

/// The environment variable naming a Firestore emulator (`host:port`).
pub const FIRESTORE_EMULATOR_HOST_ENV: &str = "FIRESTORE_EMULATOR_HOST";

/// Settings for [`open`] that do not belong in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// `host:port` of a Firestore emulator; when set, Firestore URLs talk to it without credentials.
    pub firestore_emulator_host: Option<String>,
    /// How long a SQLite write waits for another process's lock before failing with
    /// [`StoreError::Unavailable`]. Default [`DEFAULT_SQLITE_BUSY_TIMEOUT`].
    pub sqlite_busy_timeout: Duration,
    /// How long any operation but the session purge may take before it fails with
    /// [`StoreError::Unavailable`] (a backend that never answers). Default
    /// [`DEFAULT_OPERATION_DEADLINE`]; longer than the SQLite busy timeout, so a lock is reported
    /// as a lock.
    pub operation_deadline: Duration,
}

/// Expired sessions the purge handles at a time: one SQLite write transaction (so a release waits
/// at most one batch), one page of Firestore ids (so a backlog is never in memory at once).
pub(crate) const PURGE_BATCH: usize = 100;

/// The default [`StoreOptions::operation_deadline`].
pub const DEFAULT_OPERATION_DEADLINE: Duration = Duration::from_secs(8);

/// The default [`StoreOptions::sqlite_busy_timeout`].
pub const DEFAULT_SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            firestore_emulator_host: None,
            sqlite_busy_timeout: DEFAULT_SQLITE_BUSY_TIMEOUT,
            operation_deadline: DEFAULT_OPERATION_DEADLINE,
        }
    }
}

/// tokendist's persistent state. Every method is one atomic operation on the backend.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Succeeds when the backend answers (readiness checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The approval of `instance_id`, revoked or not.
    async fn get_approval(&self, instance_id: &str) -> Result<Option<Approval>, StoreError>;
    /// Every approval, ordered by instance id.
    async fn list_approvals(&self) -> Result<Vec<Approval>, StoreError>;
    /// Compare-and-swap write of `approval` under its instance id. `expected_revision: None` creates it
    /// and requires that none exists; `Some(r)` replaces it and requires the stored revision to be `r`.
    /// The stored revision becomes `r + 1` (1 on creation), whatever `approval.revision` said; the
    /// stored record is returned. Losing the race is [`StoreError::Conflict`]; updating a missing
    /// approval is [`StoreError::NotFound`].
    async fn put_approval(
        &self,
        approval: Approval,
        expected_revision: Option<u64>,
    ) -> Result<Approval, StoreError>;
    /// Marks the approval revoked (`revoked_at`, `revoke_reason`) if its revision is still
    /// `expected_revision`; the revision increases by one. Revoking twice is a `Conflict`.
    async fn revoke(
        &self,
        instance_id: &str,
        revocation: Revocation,
    ) -> Result<Approval, StoreError>;

    /// Records a denied attempt: creates the pending record or atomically counts one more attempt,
    /// keeping `first_seen` (see [`PendingRecord::after_attempt`]). Returns the stored record.
    async fn upsert_pending(&self, attempt: &PendingAttempt) -> Result<PendingRecord, StoreError>;
    async fn get_pending(&self, instance_id: &str) -> Result<Option<PendingRecord>, StoreError>;
    /// Every pending record, ordered by instance id.
    async fn list_pending(&self) -> Result<Vec<PendingRecord>, StoreError>;
    /// Removes the pending record (on approval); returns whether one existed.
    async fn remove_pending(&self, instance_id: &str) -> Result<bool, StoreError>;

    /// Stores (replaces) the latest attestation of its instance.
    async fn put_attestation(&self, record: &AttestationRecord) -> Result<(), StoreError>;
    async fn get_attestation(
        &self,
        instance_id: &str,
    ) -> Result<Option<AttestationRecord>, StoreError>;

    /// Creates a session; an existing id is a `Conflict`.
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Atomically moves the session from `change.from` to `change.to` (forward only) and applies
    /// `change.update`. Fails with `Conflict` when the session is not at `from` (the step was already
    /// taken), `SessionExpired` when `now` is at or past its expiry, `NotFound` when it does not exist.
    async fn advance_session(
        &self,
        id: &str,
        change: StepChange,
    ) -> Result<SessionRecord, StoreError>;
    /// Spends a `Proven` session: succeeds for exactly one caller, across processes.
    async fn consume_session(
        &self,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, StoreError> {
        let change = StepChange {
            from: SessionStep::Proven,
            to: SessionStep::Consumed,
            update: SessionUpdate::default(),
            now,
        };
        self.advance_session(session_id, change).await
    }

    /// Deletes every session that expired before `before` and returns how many went. An expired session
    /// is refused by every step, so nothing usable is lost; a consumed session stays until it expires
    /// (its token's replay then meets "already used", and afterwards "unknown session").
    async fn purge_expired_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Appends an event; an existing id is a `Conflict`.
    async fn append_event(&self, event: &EventRecord) -> Result<(), StoreError>;
    /// A release's writes as ONE atomic write: appends `event` (an existing id is a `Conflict`) and
    /// removes its instance's pending record, if any. Nothing is written when either fails.
    async fn record_release(&self, event: &EventRecord) -> Result<(), StoreError>;
    /// Events matching `query`, newest first.
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, StoreError>;

    /// The audit watch's state of `project` (DESIGN §6 `watch`).
    async fn get_watch(&self, project: &str) -> Result<Option<WatchState>, StoreError>;
    /// Compare-and-set write of a project's watch state, like [`Store::put_approval`]:
    /// `expected_revision: None` creates it, `Some(r)` replaces revision `r`; the stored revision
    /// (returned in the record) is one more. Losing the race is [`StoreError::Conflict`].
    async fn put_watch(
        &self,
        state: WatchState,
        expected_revision: Option<u64>,
    ) -> Result<WatchState, StoreError>;
}

/// Opens the store at `url` (see [`store_url`]): creates or migrates the SQLite schema, or connects
/// to Firestore (the emulator when `options.firestore_emulator_host` is set). Every operation but
/// the session purge is bounded by `options.operation_deadline`.
pub async fn open(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    let backend = open_backend(url, options).await?;
    Ok(deadline::WithDeadline::wrap(
        backend,
        options.operation_deadline,
    ))
}

async fn open_backend(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    match StoreLocation::parse(url)? {
        StoreLocation::Sqlite { path } => Ok(Arc::new(
            sqlite::SqliteStore::open(path, options.sqlite_busy_timeout).await?,
        )),
        StoreLocation::Firestore {
            project,
            database,
            collection_prefix,
        } => Ok(Arc::new(
            firestore::FirestoreStore::connect(
                project,
                database,
                collection_prefix,
                options.firestore_emulator_host.clone(),
            )
            .await?,
        )),
    }
}

/// [`open`] with `FIRESTORE_EMULATOR_HOST` read from the process environment (for binaries' edges).
pub async fn open_from_env(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let options = StoreOptions {
        firestore_emulator_host: std::env::var(FIRESTORE_EMULATOR_HOST_ENV)
            .ok()
            .filter(|h| !h.is_empty()),
        ..StoreOptions::default()
    };
    open(url, &options).await
}
