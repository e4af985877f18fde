//! The SQLite backend: one database file in WAL mode that several processes may share. Every
//! read-modify-write runs in a `BEGIN IMMEDIATE` transaction, so the write lock is taken before the
//! read and racing processes are serialised by SQLite itself.

mod pool;
mod schema;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::watch::WatchState;

use self::pool::{ConnectionPool, map_error};
use crate::Store;
use crate::codec::{decode, encode};
use crate::error::{Record, RecordKind, StoreError};
use crate::event_id::EventId;
use crate::records::{
    AttestationRecord, EventQuery, EventRecord, PendingAttempt, PendingRecord, Revocation,
    SessionRecord, StepChange,
};
use crate::transitions::{
    advanced_session, next_approval_revision, next_revision, revoked_approval,
};

/// A store in one SQLite file.
#[derive(Debug)]
pub(crate) struct SqliteStore {
    pool: Arc<ConnectionPool>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates its schema.
    pub(crate) async fn open(path: PathBuf, busy_timeout: Duration) -> Result<Self, StoreError> {
        // A missing directory is a configuration mistake, not an outage that heals by itself.
        if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !directory.is_dir()
        {
            return Err(StoreError::Config(format!(
                "cannot open SQLite database {}: the directory {} does not exist; create it",
                path.display(),
                directory.display()
            )));
        }
        let pool = Arc::new(ConnectionPool::new(path, busy_timeout));
        pool.write(schema::migrate).await?;
        tracing::debug!(path = %pool.path().display(), "opened SQLite store");
        Ok(SqliteStore { pool })
    }

    /// One record of `kind` by key, read with `sql`.
    async fn get<T>(
        &self,
        sql: &'static str,
        kind: RecordKind,
        key: &str,
    ) -> Result<Option<T>, StoreError>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let key = key.to_string();
        self.pool
            .run(move |conn| read_record(conn, sql, kind, &key))
            .await
    }

    /// Every record of `kind`, read with `sql` (which selects key and record).
    async fn list<T>(&self, sql: &'static str, kind: RecordKind) -> Result<Vec<T>, StoreError>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        self.pool
            .run(move |conn| read_records(conn, sql, [], kind))
            .await
    }
}

/// Reads one record of `kind` by key with `sql`.
fn read_record<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    kind: RecordKind,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let json: Option<String> = conn
        .prepare_cached(sql)
        .map_err(map_error)?
        .query_row([key], |row| row.get(0))
        .optional()
        .map_err(map_error)?;
    json.map(|json| decode(&Record::new(kind, key), &json))
        .transpose()
}

/// Reads every (key, record) row of a query and decodes the records.
fn read_records<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    kind: RecordKind,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(map_error)?;
    let rows = statement
        .query_map(params, |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(map_error)?;
    let mut records = Vec::new();
    for row in rows {
        let (key, json) = row.map_err(map_error)?;
        records.push(decode(&Record::new(kind, key), &json)?);
    }
    Ok(records)
}

/// Runs one statement through the connection's prepared-statement cache (`prepare_cached`).
fn execute_cached(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .map_err(map_error)?
        .execute(params)
        .map_err(map_error)
}

/// Runs `body` in a `BEGIN IMMEDIATE` transaction, committing only when it succeeds.
fn immediate<T>(
    conn: &mut Connection,
    body: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_error)?;
    let value = body(&tx)?;
    tx.commit().map_err(map_error)?;
    Ok(value)
}

const GET_APPROVAL: &str = "SELECT record FROM approvals WHERE instance_id = ?1";
const GET_PENDING: &str = "SELECT record FROM pending WHERE instance_id = ?1";
const GET_SESSION: &str = "SELECT record FROM sessions WHERE session_id = ?1";

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .run(|conn| {
                conn.query_row("SELECT count(*) FROM schema_version", [], |_| Ok(()))
                    .map_err(map_error)
            })
            .await
    }

    async fn get_approval(&self, instance_id: &str) -> Result<Option<Approval>, StoreError> {
        self.get(GET_APPROVAL, RecordKind::Approval, instance_id)
            .await
    }

    async fn list_approvals(&self) -> Result<Vec<Approval>, StoreError> {
        let sql = "SELECT instance_id, record FROM approvals ORDER BY instance_id";
        self.list(sql, RecordKind::Approval).await
    }

    async fn put_approval(
        &self,
        mut approval: Approval,
        expected_revision: Option<u64>,
    ) -> Result<Approval, StoreError> {
        self.pool
            .write(move |conn| {
                immediate(conn, |tx| {
                    let key = approval.instance_id.clone();
                    let stored: Option<i64> = tx
                        .query_row(
                            "SELECT revision FROM approvals WHERE instance_id = ?1",
                            [&key],
                            |r| r.get(0),
                        )
                        .optional()
                        .map_err(map_error)?;
                    let stored = stored
                        .map(|r| {
                            u64::try_from(r).map_err(|_| {
                                StoreError::corrupt(
                                    Record::new(RecordKind::Approval, &key),
                                    "negative revision",
                                )
                            })
                        })
                        .transpose()?;
                    approval.revision = next_approval_revision(&key, stored, expected_revision)?;
                    write_approval(tx, &approval)?;
                    Ok(approval)
                })
            })
            .await
    }

    async fn revoke(
        &self,
        instance_id: &str,
        revocation: Revocation,
    ) -> Result<Approval, StoreError> {
        let key = instance_id.to_string();
        self.pool
            .write(move |conn| {
                immediate(conn, |tx| {
                    let stored = read_record(tx, GET_APPROVAL, RecordKind::Approval, &key)?;
                    let approval = revoked_approval(&key, stored, revocation)?;
                    write_approval(tx, &approval)?;
                    Ok(approval)
                })
            })
            .await
    }

    async fn upsert_pending(&self, attempt: &PendingAttempt) -> Result<PendingRecord, StoreError> {
        let attempt = attempt.clone();
        self.pool
            .write(move |conn| {
                immediate(conn, |tx| {
                    let key = &attempt.instance_id;
                    let previous = read_record(tx, GET_PENDING, RecordKind::Pending, key)?;
                    let record = PendingRecord::after_attempt(previous, &attempt);
                    execute_cached(
                        tx,
                        "INSERT INTO pending (instance_id, last_seen, record) VALUES (?1, ?2, ?3)
                         ON CONFLICT (instance_id) DO UPDATE SET last_seen = ?2, record = ?3",
                        params![
                            key,
                            record.last_seen.to_rfc3339(),
                            encode(RecordKind::Pending, &record)?
                        ],
                    )?;
                    Ok(record)
                })
            })
            .await
    }

    async fn get_pending(&self, instance_id: &str) -> Result<Option<PendingRecord>, StoreError> {
        self.get(GET_PENDING, RecordKind::Pending, instance_id)
            .await
    }

    async fn list_pending(&self) -> Result<Vec<PendingRecord>, StoreError> {
        let sql = "SELECT instance_id, record FROM pending ORDER BY instance_id";
        self.list(sql, RecordKind::Pending).await
    }

    async fn remove_pending(&self, instance_id: &str) -> Result<bool, StoreError> {
        let key = instance_id.to_string();
        self.pool
            .write(move |conn| {
                execute_cached(conn, "DELETE FROM pending WHERE instance_id = ?1", [&key])
                    .map(|removed| removed > 0)
            })
            .await
    }

    async fn put_attestation(&self, record: &AttestationRecord) -> Result<(), StoreError> {
        let key = record.instance_id.clone();
        let json = encode(RecordKind::Attestation, record)?;
        self.pool
            .write(move |conn| {
                execute_cached(
                    conn,
                    "INSERT INTO attestations (instance_id, record) VALUES (?1, ?2)
                     ON CONFLICT (instance_id) DO UPDATE SET record = ?2",
                    params![key, json],
                )
                .map(|_| ())
            })
            .await
    }

    async fn get_attestation(
        &self,
        instance_id: &str,
    ) -> Result<Option<AttestationRecord>, StoreError> {
        let sql = "SELECT record FROM attestations WHERE instance_id = ?1";
        self.get(sql, RecordKind::Attestation, instance_id).await
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        let json = encode(RecordKind::Session, &session)?;
        self.pool
            .write(move |conn| {
                let inserted = execute_cached(
                    conn,
                    "INSERT INTO sessions (session_id, instance_id, step, expires_at, record)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (session_id) DO NOTHING",
                    params![
                        session.session_id,
                        session.instance_id,
                        session.step.as_str(),
                        session.expires_at.to_rfc3339(),
                        json
                    ],
                )?;
                if inserted == 0 {
                    return Err(StoreError::conflict(
                        Record::new(RecordKind::Session, &session.session_id),
                        "a session with this id already exists",
                    ));
                }
                Ok(())
            })
            .await
    }

    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.get(GET_SESSION, RecordKind::Session, session_id).await
    }

    async fn advance_session(
        &self,
        session_id: &str,
        change: StepChange,
    ) -> Result<SessionRecord, StoreError> {
        let key = session_id.to_string();
        self.pool
            .write(move |conn| {
                immediate(conn, |tx| {
                    let stored = read_record(tx, GET_SESSION, RecordKind::Session, &key)?;
                    let session = advanced_session(&key, stored, change)?;
                    execute_cached(
                        tx,
                        "UPDATE sessions SET step = ?2, record = ?3 WHERE session_id = ?1",
                        params![
                            key,
                            session.step.as_str(),
                            encode(RecordKind::Session, &session)?
                        ],
                    )?;
                    Ok(session)
                })
            })
            .await
    }

    async fn purge_expired_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        // `expires_at` is RFC 3339 with `+00:00` as `to_rfc3339` writes it; a whole-second bound
        // compares correctly as text against any stored fraction.
        let bound = whole_seconds(before).to_rfc3339();
        // In batches, each its own turn in the writer lane: one DELETE of a busy server's expired
        // sessions (150,000 after 5 minutes at 500 releases/s) held the write lock for seconds.
        let mut removed_total = 0u64;
        loop {
            let bound = bound.clone();
            let removed = self
                .pool
                .write(move |conn| {
                    execute_cached(
                        conn,
                        "DELETE FROM sessions WHERE session_id IN \
                         (SELECT session_id FROM sessions WHERE expires_at < ?1 LIMIT ?2)",
                        params![bound, crate::PURGE_BATCH],
                    )
                })
                .await?;
            removed_total += u64::try_from(removed).unwrap_or(u64::MAX);
            if removed < crate::PURGE_BATCH {
                return Ok(removed_total);
            }
        }
    }

    async fn append_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        let event = event.clone();
        let json = encode(RecordKind::Event, &event)?;
        self.pool
            .write(move |conn| insert_event(conn, &event, &json))
            .await
    }

    async fn record_release(&self, event: &EventRecord) -> Result<(), StoreError> {
        let event = event.clone();
        let json = encode(RecordKind::Event, &event)?;
        self.pool
            .write(move |conn| {
                immediate(conn, |tx| {
                    insert_event(tx, &event, &json)?;
                    execute_cached(
                        tx,
                        "DELETE FROM pending WHERE instance_id = ?1",
                        [&event.instance_id],
                    )
                    .map(|_| ())
                })
            })
            .await
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, StoreError> {
        let lower_bound = query.since.map(EventId::lower_bound).unwrap_or_default();
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let instance_id = query.instance_id.clone();
        self.pool
            .run(move |conn| match instance_id {
                Some(instance_id) => read_records(
                    conn,
                    "SELECT id, record FROM events WHERE instance_id = ?1 AND id >= ?2
                     ORDER BY id DESC LIMIT ?3",
                    params![instance_id, lower_bound, limit],
                    RecordKind::Event,
                ),
                None => read_records(
                    conn,
                    "SELECT id, record FROM events WHERE id >= ?1 ORDER BY id DESC LIMIT ?2",
                    params![lower_bound, limit],
                    RecordKind::Event,
                ),
            })
            .await
    }

    async fn get_watch(&self, project: &str) -> Result<Option<WatchState>, StoreError> {
        self.get(
            "SELECT record FROM watch WHERE project = ?1",
            RecordKind::Watch,
            project,
        )
        .await
    }

    async fn put_watch(
        &self,
        mut state: WatchState,
        expected_revision: Option<u64>,
    ) -> Result<WatchState, StoreError> {
        self.pool
            .write(move |conn| {
                immediate(conn, |tx| {
                    let key = state.project.clone();
                    let what = || Record::new(RecordKind::Watch, &key);
                    let stored: Option<i64> = tx
                        .query_row(
                            "SELECT revision FROM watch WHERE project = ?1",
                            [&key],
                            |r| r.get(0),
                        )
                        .optional()
                        .map_err(map_error)?;
                    let stored = stored
                        .map(|r| {
                            u64::try_from(r)
                                .map_err(|_| StoreError::corrupt(what(), "negative revision"))
                        })
                        .transpose()?;
                    state.revision = next_revision(what(), stored, expected_revision)?;
                    let record = encode(RecordKind::Watch, &state)?;
                    let revision = i64::try_from(state.revision)
                        .map_err(|_| StoreError::corrupt(what(), "revision out of range"))?;
                    tx.execute(
                        "INSERT INTO watch (project, revision, record) VALUES (?1, ?2, ?3)
                         ON CONFLICT(project) DO UPDATE SET revision = ?2, record = ?3",
                        rusqlite::params![key, revision, record],
                    )
                    .map_err(map_error)?;
                    Ok(state)
                })
            })
            .await
    }
}

/// Inserts an event row; an existing id is a `Conflict`.
fn insert_event(conn: &Connection, event: &EventRecord, json: &str) -> Result<(), StoreError> {
    let inserted = execute_cached(
        conn,
        "INSERT INTO events (id, instance_id, kind, record) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO NOTHING",
        params![
            event.id.as_str(),
            event.instance_id,
            event.kind.as_str(),
            json
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::conflict(
            Record::new(RecordKind::Event, event.id.as_str()),
            "an event with this id already exists",
        ));
    }
    Ok(())
}

/// Inserts or replaces an approval row (the caller already checked the revision in this transaction).
fn write_approval(tx: &rusqlite::Transaction<'_>, approval: &Approval) -> Result<(), StoreError> {
    let revision = i64::try_from(approval.revision).map_err(|_| {
        StoreError::Config(format!("approval revision {} too large", approval.revision))
    })?;
    execute_cached(
        tx,
        "INSERT INTO approvals (instance_id, revision, record) VALUES (?1, ?2, ?3)
         ON CONFLICT (instance_id) DO UPDATE SET revision = ?2, record = ?3",
        params![
            approval.instance_id,
            revision,
            encode(RecordKind::Approval, approval)?
        ],
    )
    .map(|_| ())
}

/// `time` without its fraction of a second (rounded down).
fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}
