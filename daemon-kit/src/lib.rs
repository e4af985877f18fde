//! tokendist-daemon-kit: the pieces `tokenserver` and `tokenclient` share at their edges.
//!
//! - [`layers`]: configuration layering (TOML file < `TOKENDIST_*` env < flags), pure.
//! - [`notify`]: systemd `sd_notify` (READY, STATUS, STOPPING, RELOADING, WATCHDOG) without touching
//!   the process environment.
//! - [`logging`]: `tracing` set-up (journald-friendly format under systemd, human format otherwise).
//! - [`exit`]: the exit codes both daemons document.

pub mod exit;
pub mod layers;
pub mod logging;
pub mod notify;
