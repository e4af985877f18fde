//! SQLite connections: opened with WAL and a busy timeout, kept in a small idle pool, and used on
//! tokio's blocking threads (rusqlite is synchronous). At most [`MAX_CONNECTIONS`] operations run at
//! once; the rest wait in async code, first come first served, so a stall (a long write, a slow disk)
//! queues requests instead of opening a connection and parking a blocking thread for each of them.
//! Writes additionally take the in-process writer lane ([`ConnectionPool::write`]) in arrival order:
//! SQLite admits one writer at a time anyway, and queueing them here replaces its busy handler's
//! sleep-and-retry (unfair, and slow to notice the lock is free) for writers of this process; other
//! processes on the same file still meet the busy timeout. Also maps rusqlite errors to `StoreError` by
//! their SQLite result code, never their text: a lock held too long is a retryable [`Outage::Locked`]
//! (the connection is kept); a file that cannot be opened or written, an I/O error or a full disk is a
//! retryable outage after which the connection is dropped; a damaged or foreign file is `Corrupt`;
//! anything else (a constraint, a statement SQLite rejects) is `Refused`, not retryable. A connection
//! SQLite could only open read-only (the file was not writable at that moment) is never kept, so the
//! store heals by itself once the file is writable again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Outage, Record, RecordKind, StoreError};

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;

/// Operations (so connections and blocking threads) at once; later ones wait their turn.
pub(crate) const MAX_CONNECTIONS: usize = 8;

/// Each connection's page cache, in KiB.
const PAGE_CACHE_KIB: u32 = 512;

/// A pool of connections to one database file.
#[derive(Debug)]
pub(crate) struct ConnectionPool {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    /// One permit per operation in progress.
    slots: Arc<tokio::sync::Semaphore>,
    /// The in-process writer lane: one write transaction at a time, in arrival order.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl ConnectionPool {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration) -> Self {
        ConnectionPool {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS)),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a write `operation` (anything that changes the file) with a connection on a blocking
    /// thread, after the writes of this process that arrived before it.
    pub(crate) async fn write<T, F>(self: &Arc<Self>, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let turn = Arc::clone(&self.writer).lock_owned().await;
        self.run(move |conn| {
            // Held on the blocking thread, so a caller that gives up does not end the turn early.
            let _turn = turn;
            operation(conn)
        })
        .await
    }

    /// Runs a read-only `operation` with a connection on a blocking thread (WAL readers do not wait
    /// for writers).
    pub(crate) async fn run<T, F>(self: &Arc<Self>, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let slot = Arc::clone(&self.slots).acquire_owned().await.map_err(|_| {
            StoreError::unavailable(Outage::Worker, "SQLite connection pool closed".to_string())
        })?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // Held on the blocking thread, so a caller that gives up does not free the slot early.
            let _slot = slot;
            let mut conn = pool.checkout()?;
            let result = operation(&mut conn);
            if still_usable(&result) {
                pool.checkin(conn);
            }
            result
        })
        .await
        .map_err(|e| {
            StoreError::unavailable(Outage::Worker, format!("SQLite worker task failed: {e}"))
        })?
    }

    fn checkout(&self) -> Result<Connection, StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(conn) => Ok(conn),
            None => open_connection(&self.path, self.busy_timeout),
        }
    }

    fn checkin(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE && conn.is_autocommit() {
            idle.push(conn);
        }
    }
}

/// Opens one connection with the settings every connection needs (busy timeout first, so that
/// switching to WAL waits for other processes instead of failing).
pub(crate) fn open_connection(
    path: &Path,
    busy_timeout: Duration,
) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_error)?;
    // SQLite falls back to read-only when the file is not writable at this moment; such a
    // connection would fail every write until restart, so it is never used.
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(map_error)? {
        return Err(StoreError::unavailable(
            Outage::NotWritable,
            format!(
                "SQLite database {} is not writable right now (SQLite could only open it \
                 read-only); check the permissions of the file, its -wal/-shm files and its directory",
                path.display()
            ),
        ));
    }
    conn.busy_timeout(busy_timeout).map_err(map_error)?;
    let mode = switch_to_wal(&conn, busy_timeout)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Config(format!(
            "SQLite database {} cannot use WAL journaling (got {mode}); put it on a local file system",
            path.display()
        )));
    }
    // A small page cache per connection (SQLite's default is 2 MiB): lookups are by key and the
    // operating system caches the file anyway, while 8 connections each filling 2 MiB during a purge
    // grew the server's resident memory by 12 MB in one step (issue 13's soak).
    conn.execute_batch(&format!(
        "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-{PAGE_CACHE_KIB};"
    ))
    .map_err(map_error)?;
    Ok(conn)
}

/// Switches the connection to WAL journaling. Changing the journal mode of a file that other
/// connections are opening at the same moment (several processes creating one new store) can answer
/// SQLITE_BUSY without waiting in the busy handler, so it is retried for up to `busy_timeout`.
fn switch_to_wal(conn: &Connection, busy_timeout: Duration) -> Result<String, StoreError> {
    let started = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get::<_, String>(0)) {
            Err(error)
                if matches!(
                    error.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) && started.elapsed() < busy_timeout =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result.map_err(map_error),
        }
    }
}

/// Whether a connection that produced `result` may serve the next operation: not after an outage
/// other than another writer's lock (it may be stuck in it, e.g. opened before the file became
/// unwritable), nor once the file turned out damaged.
fn still_usable<T>(result: &Result<T, StoreError>) -> bool {
    match result {
        Err(StoreError::Unavailable { outage, .. }) => *outage == Outage::Locked,
        Err(StoreError::Corrupt { what, .. }) => what.kind != RecordKind::Database,
        _ => true,
    }
}

/// Maps a rusqlite error by its SQLite primary result code (the extended code goes into the detail,
/// for operators); the error's text never decides.
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    let rusqlite::Error::SqliteFailure(failure, _) = &error else {
        // Not an SQLite result: a value that does not read back as written, a misused statement.
        return StoreError::Refused(format!("SQLite: {error}"));
    };
    let code = format!(
        "{}, extended code {}",
        code_name(failure.code),
        failure.extended_code
    );
    match failure.code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::unavailable(
            Outage::Locked,
            format!(
                "SQLite database locked by another writer for longer than the busy timeout ({code})"
            ),
        ),
        ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly => {
            StoreError::unavailable(
                Outage::NotWritable,
                format!(
                    "SQLite database cannot be opened or written ({code}); check the permissions \
                     of the file, its -wal/-shm files and its directory"
                ),
            )
        }
        ErrorCode::SystemIoFailure
        | ErrorCode::DiskFull
        | ErrorCode::FileLockingProtocolFailed
        | ErrorCode::OutOfMemory => StoreError::unavailable(
            Outage::Io,
            format!("SQLite could not read or write the database ({code}): {error}"),
        ),
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
            StoreError::corrupt(Record::new(RecordKind::Database, ""), code)
        }
        _ => StoreError::Refused(format!("SQLite ({code}): {error}")),
    }
}

/// The SQLite result-code name of an error code (`SQLITE_READONLY`, ...), for operators' logs.
fn code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::DatabaseBusy => "SQLITE_BUSY",
        ErrorCode::DatabaseLocked => "SQLITE_LOCKED",
        ErrorCode::ReadOnly => "SQLITE_READONLY",
        ErrorCode::PermissionDenied => "SQLITE_PERM",
        ErrorCode::CannotOpen => "SQLITE_CANTOPEN",
        ErrorCode::SystemIoFailure => "SQLITE_IOERR",
        ErrorCode::DiskFull => "SQLITE_FULL",
        ErrorCode::FileLockingProtocolFailed => "SQLITE_PROTOCOL",
        ErrorCode::DatabaseCorrupt => "SQLITE_CORRUPT",
        ErrorCode::NotADatabase => "SQLITE_NOTADB",
        ErrorCode::OutOfMemory => "SQLITE_NOMEM",
        ErrorCode::ConstraintViolation => "SQLITE_CONSTRAINT",
        _ => "another SQLite error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::ffi::c_int, text: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(text.into()))
    }

    fn database(dir: &tempfile::TempDir) -> Connection {
        open_connection(&dir.path().join("t.db"), Duration::from_millis(50)).unwrap()
    }

    fn outage(error: &StoreError) -> Option<Outage> {
        match error {
            StoreError::Unavailable { outage, .. } => Some(*outage),
            _ => None,
        }
    }

    #[test]
    fn the_code_decides_never_the_text() {
        use rusqlite::ffi;
        // Each code with the text of another, so a mapping by text gets them wrong.
        let cases = [
            (ffi::SQLITE_BUSY, "disk I/O error", Some(Outage::Locked)),
            (
                ffi::SQLITE_IOERR_WRITE,
                "database is locked",
                Some(Outage::Io),
            ),
            (ffi::SQLITE_FULL, "constraint failed", Some(Outage::Io)),
            (
                ffi::SQLITE_CANTOPEN,
                "UNIQUE constraint failed",
                Some(Outage::NotWritable),
            ),
            (
                ffi::SQLITE_CONSTRAINT_UNIQUE,
                "unable to open database file",
                None,
            ),
            (ffi::SQLITE_MISMATCH, "database is locked", None),
        ];
        for (code, text, expected) in cases {
            let error = map_error(failure(code, text));
            assert_eq!(outage(&error), expected, "{code}: {error:?}");
            if expected.is_none() {
                assert!(matches!(error, StoreError::Refused(_)), "{code}: {error:?}");
            }
        }
    }

    #[test]
    fn a_lock_held_by_another_connection_is_retryable_and_keeps_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let holder = database(&dir);
        holder.execute_batch("BEGIN IMMEDIATE;").unwrap();
        let mut waiter = database(&dir);
        let error = waiter
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map(|_| ())
            .map_err(map_error)
            .unwrap_err();
        assert_eq!(outage(&error), Some(Outage::Locked), "{error:?}");
        assert!(error.is_retryable());
        assert!(still_usable::<()>(&Err(error)));
    }

    #[test]
    fn a_violated_constraint_is_refused_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let conn = database(&dir);
        conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');")
            .unwrap();
        let error = conn
            .execute("INSERT INTO t VALUES ('a')", [])
            .map_err(map_error)
            .unwrap_err();
        assert!(matches!(error, StoreError::Refused(_)), "{error:?}");
        assert!(!error.is_retryable());
        assert!(still_usable::<()>(&Err(error)));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_corrupt_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not.db");
        std::fs::write(
            &path,
            "this is a text file, not an SQLite database\n".repeat(100),
        )
        .unwrap();
        let error = open_connection(&path, Duration::from_millis(50)).unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt { what, .. } if what.kind == RecordKind::Database),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert!(!still_usable::<()>(&Err(error)));
    }

    #[test]
    fn a_directory_that_does_not_exist_is_an_outage_that_drops_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let error = open_connection(&dir.path().join("missing/t.db"), Duration::from_millis(50))
            .unwrap_err();
        assert_eq!(outage(&error), Some(Outage::NotWritable), "{error:?}");
        assert!(!still_usable::<()>(&Err(error)));
    }
}
