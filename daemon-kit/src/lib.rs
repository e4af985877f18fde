//! tokendist-daemon-kit: the pieces `tokenserver` and `tokenclient` share at their edges.
//!
//! - [`layers`]: configuration layering (TOML file < `TOKENDIST_*` env < flags), pure.
//! - [`config`]: loading a typed configuration through those layers, with errors that name the key.
//! - [`notify`]: systemd `sd_notify` (READY, STATUS, STOPPING, RELOADING, WATCHDOG) without touching
//!   the process environment.
//! - [`logging`]: `tracing` set-up (sd-daemon priorities when stderr is the journal's stream, no
//!   colours unless a terminal, JSON as an option; the TSS library's records off by default).
//! - [`health`]: the metrics listener's `/metrics`, `/healthz` and `/readyz`.
//! - [`probe`]: `tokenserver probe` / `tokenclient status`: one GET of `/readyz` and its exit code.
//! - [`exit`]: the exit codes both daemons document.

pub mod config;
pub mod exit;
pub mod health;
pub mod layers;
pub mod logging;
pub mod notify;
pub mod probe;
