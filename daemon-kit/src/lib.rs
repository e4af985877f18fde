//! tokendist-daemon-kit: the pieces `tokenserver` and `tokenclient` share at their edges.
//!
//! - [`layers`]: configuration layering (TOML file < `TOKENDIST_*` env < flags), pure.
//! - [`config`]: loading a typed configuration through those layers, with errors that name the key.
//! - [`notify`]: systemd `sd_notify` (READY, STATUS, STOPPING, RELOADING, WATCHDOG) without touching
//!   the process environment.
//! - [`logging`]: `tracing` set-up (journald-friendly format under systemd, human format otherwise).
//! - [`exit`]: the exit codes both daemons document.

pub mod config;
pub mod exit;
pub mod layers;
pub mod logging;
pub mod notify;
