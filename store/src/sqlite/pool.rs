//! SQLite connections: opened with WAL and a busy timeout, kept in a small idle pool, and used on
//! tokio's blocking threads (rusqlite is synchronous). Also maps rusqlite errors to `StoreError` by
//! their SQLite code. A connection SQLite could only open read-only (the file was not writable at that
//! moment) is never kept, and a connection that saw an outage is dropped, so the store heals by
//! itself once the file is writable again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::StoreError;

/// Idle connections kept for reuse; more may be open while many operations run at once.
const MAX_IDLE: usize = 4;

/// A pool of connections to one database file.
#[derive(Debug)]
pub(crate) struct ConnectionPool {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl ConnectionPool {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration) -> Self {
        ConnectionPool {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `operation` with a connection on a blocking thread.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.checkout()?;
            let result = operation(&mut conn);
            // A connection that saw an outage may be stuck in it (e.g. opened before the file became
            // unwritable): open a fresh one next time.
            if !matches!(&result, Err(error) if error.is_retryable()) {
                pool.checkin(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("SQLite worker task failed: {e}")))?
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
    let conn = Connection::open_with_flags(path, flags).map_err(|e| match e.sqlite_error_code() {
        // Not writable or not reachable right now: the next request may succeed.
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure
            | ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked,
        ) => StoreError::Unavailable(format!(
            "cannot open SQLite database {} ({}); check that the directory exists and is writable",
            path.display(),
            code_name(e.sqlite_error_code())
        )),
        _ => StoreError::Config(format!(
            "cannot open SQLite database {}: {e}; check that the path names a SQLite database",
            path.display()
        )),
    })?;
    // SQLite falls back to read-only when the file is not writable at this moment; such a
    // connection would fail every write until restart, so it is never used.
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(map_error)? {
        return Err(StoreError::Unavailable(format!(
            "SQLite database {} is not writable right now (SQLite could only open it read-only); \
             check the permissions of the file, its -wal/-shm files and its directory",
            path.display()
        )));
    }
    conn.busy_timeout(busy_timeout).map_err(map_error)?;
    let mode = switch_to_wal(&conn, busy_timeout)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Config(format!(
            "SQLite database {} cannot use WAL journaling (got {mode}); put it on a local file system",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous=NORMAL;")
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

/// Maps a rusqlite error by its SQLite code: a damaged file is `Corrupt`, everything else is an
/// outage the caller may retry (locks held too long, files not writable, I/O errors, a full disk).
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    let code = error.sqlite_error_code();
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable(
            "SQLite database locked by another writer for longer than the busy timeout".into(),
        ),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            StoreError::Unavailable(format!(
                "SQLite database not writable ({}); check the permissions of the file, its -wal/-shm \
                 files and its directory",
                code_name(code)
            ))
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::corrupt("SQLite database", code_name(code))
        }
        _ => StoreError::Unavailable(format!("SQLite error ({}): {error}", code_name(code))),
    }
}

/// The SQLite result-code name of an error code (`SQLITE_READONLY`, ...), for operators' logs.
fn code_name(code: Option<ErrorCode>) -> &'static str {
    match code {
        None => "not an SQLite error",
        Some(ErrorCode::DatabaseBusy) => "SQLITE_BUSY",
        Some(ErrorCode::DatabaseLocked) => "SQLITE_LOCKED",
        Some(ErrorCode::ReadOnly) => "SQLITE_READONLY",
        Some(ErrorCode::PermissionDenied) => "SQLITE_PERM",
        Some(ErrorCode::CannotOpen) => "SQLITE_CANTOPEN",
        Some(ErrorCode::SystemIoFailure) => "SQLITE_IOERR",
        Some(ErrorCode::DiskFull) => "SQLITE_FULL",
        Some(ErrorCode::DatabaseCorrupt) => "SQLITE_CORRUPT",
        Some(ErrorCode::NotADatabase) => "SQLITE_NOTADB",
        Some(ErrorCode::OutOfMemory) => "SQLITE_NOMEM",
        Some(ErrorCode::ConstraintViolation) => "SQLITE_CONSTRAINT",
        Some(_) => "another SQLite error",
    }
}
