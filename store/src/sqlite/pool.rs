//! SQLite connections: opened with WAL and a busy timeout, kept in a small idle pool, and used on
//! tokio's blocking threads (rusqlite is synchronous). Also maps rusqlite errors to `StoreError`.

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
            pool.checkin(conn);
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
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        StoreError::Config(format!(
            "cannot open SQLite database {}: {e}; check that the directory exists and is writable",
            path.display()
        ))
    })?;
    conn.busy_timeout(busy_timeout).map_err(map_error)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(map_error)?;
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

/// Maps a rusqlite error: lock timeouts and I/O trouble are retryable, the rest reported as-is.
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable(
            "SQLite database locked by another writer for longer than the busy timeout".into(),
        ),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            StoreError::Config(format!(
                "SQLite database not writable: {error}; check the file's permissions"
            ))
        }
        _ => StoreError::Unavailable(format!("SQLite error: {error}")),
    }
}
