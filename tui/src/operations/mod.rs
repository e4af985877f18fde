//! The console's operations, shared by both front ends (the subcommands in `dispatch` and the
//! full-screen console in `console`): each takes plain values and returns data — no printing, no
//! prompts, no clap types. What Alice sees is computed by the same functions the server enforces.
//!
//! - [`model`]: the data the operations return (rows, a VM's detail, plans and outcomes).
//! - [`cloud_config_view`]: the Cloud-config tab's data (diffs against the filled template and the
//!   approved text, hole values, flagged lines), from the same checks the server runs.

pub mod cloud_config_view;
pub mod model;
