//! tokendist-tui: Alice's console. This release holds the scriptable half — the subcommands of the
//! `tokendist` binary; the full-screen console comes later and will reuse the same modules.
//!
//! - [`cli`]: the clap command line (global options, one subcommand per operation).
//! - [`dispatch`]: runs a parsed command; [`exit`] and [`error`]: documented exit codes and errors.
//! - [`keygen`], [`certs`]: key pairs and demo certificates ([`files`] writes them safely).
//! - [`list`], [`show`], [`approve`], [`revoke`]: the store and review operations;
//!   [`never_approvable`]: the metadata `approve` refuses outright.
//! - [`seal`]: one secret sealed to a VM's vTPM; [`tpm_target`] (EK + PCR policy + envelopes) and
//!   [`pcr_values`] are what it and `approve` seal with; [`tpm_view`] is `show`'s TPM section.
//! - [`review`]: live evidence plus the same `core::policy` checks the server runs; [`render`] shows it.
//! - [`secrets_file`], [`expiry`], [`signing_keys`], [`target`], [`confirm`], [`context`], [`output`]:
//!   the inputs, prompts and outputs those operations share.
//! - [`screenshot`]: a ratatui buffer as SVG (fixed cells, fixed palette) for `make screenshots`.

pub mod approve;
pub mod certs;
pub mod cli;
pub mod confirm;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod exit;
pub mod expiry;
pub mod files;
pub mod keygen;
pub mod list;
pub mod never_approvable;
pub mod operations;
pub mod output;
pub mod pcr_values;
pub mod render;
pub mod review;
pub mod revoke;
pub mod screenshot;
pub mod seal;
pub mod secrets_file;
pub mod show;
pub mod signing_keys;
pub mod target;
pub mod tpm_target;
pub mod tpm_view;

pub use error::ConsoleError;
