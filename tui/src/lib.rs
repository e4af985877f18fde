//! tokendist-tui: Alice's console — the subcommands of the `tokendist` binary and the full-screen
//! console, both on the same operations (plain values in, data out).
//!
//! - [`console`]: the full-screen console (model / update / view, background effects, terminal).
//! - [`operations`]: what both front ends call (list, a VM's detail, plan/commit an approval or a
//!   revocation, seal) and the data they return ([`operations::model`]).
//! - [`cli`]: the clap command line (global options, one subcommand per operation).
//! - [`dispatch`]: runs a parsed command; [`exit`] and [`error`]: documented exit codes and errors.
//! - [`keygen`], [`certs`]: key pairs and demo certificates ([`files`] writes them safely).
//! - [`list`], [`show`], [`approve`], [`revoke`], [`seal`]: the subcommands, each printing what its
//!   operation returns; [`never_approvable`]: the metadata an approval refuses outright.
//! - [`tpm_target`] (EK + PCR policy + envelopes) and [`pcr_values`] are what approvals and `seal`
//!   seal with; [`tpm_view`] is the TPM section of a VM's detail.
//! - [`review`]: live evidence plus the same `core::policy` checks the server runs; [`render`] shows it.
//! - [`secrets_file`], [`expiry`], [`signing_keys`], [`target`], [`confirm`], [`context`]: the inputs,
//!   prompts and opened resources the operations share; [`output`] and [`style`]: stdout (coloured
//!   marks on a terminal, a closed pipe ends quietly).
//! - [`screenshot`]: a ratatui buffer as SVG (fixed cells, fixed palette) for `make screenshots`.

pub mod approve;
pub mod certs;
pub mod cli;
pub mod confirm;
pub mod console;
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
pub mod style;
pub mod target;
pub mod tpm_target;
pub mod tpm_view;

pub use error::ConsoleError;
