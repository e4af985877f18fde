//! The SQLite schema and its migrations, applied on open inside one `BEGIN IMMEDIATE` transaction so
//! that several processes opening the same file at once migrate it exactly once.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::pool::map_error;
use crate::error::{Record, RecordKind, StoreError};

/// Migrations in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: the five collections of DESIGN §6, each a JSON record plus indexed key columns.
    "CREATE TABLE approvals (
        instance_id TEXT PRIMARY KEY NOT NULL,
        revision    INTEGER NOT NULL,
        record      TEXT NOT NULL
    );
    CREATE TABLE pending (
        instance_id TEXT PRIMARY KEY NOT NULL,
        last_seen   TEXT NOT NULL,
        record      TEXT NOT NULL
    );
    CREATE TABLE attestations (
        instance_id TEXT PRIMARY KEY NOT NULL,
        record      TEXT NOT NULL
    );
    CREATE TABLE sessions (
        session_id  TEXT PRIMARY KEY NOT NULL,
        instance_id TEXT NOT NULL,
        step        TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        record      TEXT NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE events (
        id          TEXT PRIMARY KEY NOT NULL,
        instance_id TEXT NOT NULL,
        kind        TEXT NOT NULL,
        record      TEXT NOT NULL
    );
    CREATE INDEX events_by_instance ON events (instance_id, id);",
    // 2: the audit watch's state per project.
    "CREATE TABLE watch (
        project     TEXT PRIMARY KEY NOT NULL,
        revision    INTEGER NOT NULL,
        record      TEXT NOT NULL
    );",
];

/// Brings the schema to the latest version; refuses a database written by a newer tokendist.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_error)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
        .map_err(map_error)?;
    let current: Option<i64> = tx
        .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
        .optional()
        .map_err(map_error)?;
    let current = usize::try_from(current.unwrap_or(0)).map_err(|_| {
        StoreError::corrupt(
            Record::new(RecordKind::Schema, ""),
            "negative schema version",
        )
    })?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Config(format!(
            "SQLite schema version {current} is newer than this tokendist understands ({}); upgrade tokendist",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(migration).map_err(map_error)?;
        tracing::info!(version = index + 1, "applied SQLite schema migration");
    }
    let latest = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    tx.execute("DELETE FROM schema_version", [])
        .map_err(map_error)?;
    tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [latest])
        .map_err(map_error)?;
    tx.commit().map_err(map_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to a new database file (kept while the directory lives).
    fn fresh_connection(dir: &tempfile::TempDir) -> Connection {
        super::super::pool::open_connection(
            &dir.path().join("s.db"),
            std::time::Duration::from_secs(5),
        )
        .unwrap()
    }

    #[test]
    fn migrating_twice_keeps_one_version_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = fresh_connection(&dir);
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<i64> = conn
            .prepare("SELECT version FROM schema_version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![MIGRATIONS.len() as i64]);
    }

    #[test]
    fn newer_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = fresh_connection(&dir);
        migrate(&mut conn).unwrap();
        conn.execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::Config(m)) if m.contains("99")));
    }
}
