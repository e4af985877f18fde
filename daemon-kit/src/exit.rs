//! Exit codes of both daemons (documented in their `--help` and unit files).

/// Clean shutdown.
pub const OK: i32 = 0;
/// A runtime failure (store unreachable at start, listener could not bind, ...): systemd restarts.
pub const FAILURE: i32 = 1;
/// Bad configuration (`EX_CONFIG`): the unit sets `RestartPreventExitStatus=78`.
pub const BAD_CONFIG: i32 = 78;
