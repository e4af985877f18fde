//! tokendist-daemon-kit: the pieces `tokenserver` and `tokenclient` share at their edges.
//!
//! - [`layers`]: configuration layering (TOML file < the daemon's `PREFIX_*` env < flags), pure.
//! - [`env_keys`]: which variables of the daemon's prefix name a setting; the closest one when not.
//! - [`config`]: loading a typed configuration through those layers, with errors that name the key,
//!   and [`config::Origins`] / [`config::Problems`]: where a setting came from, every failure found.
//! - [`notify`]: systemd `sd_notify` (READY, STATUS, STOPPING, RELOADING, WATCHDOG) without touching
//!   the process environment.
//! - [`logging`]: `tracing` set-up (sd-daemon priorities when stderr is the journal's stream, no
//!   colours unless a terminal, JSON as an option; the TSS library's records off by default).
//! - [`health`]: the metrics listener's `/metrics`, `/healthz` and `/readyz`.
//! - [`probe`]: `tokenserver probe` / `tokenclient status`: one GET of `/readyz` and its exit code.
//! - [`exit`]: the exit codes both daemons document, and the one report of a bad configuration.
//! - [`error_text`]: an error's message with its sources, for operators.
//! - [`pem_files`]: TLS certificate and key files read and checked (dates, chain, key matches cert).
//! - [`writable`]: whether a directory a daemon will write in accepts a new file (for `--check-config`).

pub mod config;
pub mod env_keys;
pub mod error_text;
pub mod exit;
pub mod health;
pub mod layers;
pub mod logging;
pub mod notify;
pub mod pem_files;
pub mod probe;
pub mod writable;
