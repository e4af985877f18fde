//! The full-screen console (ratatui): Alice's VM list, the detail tabs of the selected VM, and the
//! approve / revoke dialogs, on top of the same [`crate::operations`] the subcommands use. Built as
//! model / update / view: [`update::update`] is a pure function of (state, event) → commands, the
//! [`view`] only draws the [`model::Model`], and every store or Google call runs in a background task
//! whose result comes back as an [`event::Event`].
//!
//! - [`model`]: the state; [`rows`]: grouping, verdict summary and filter of the list;
//! - [`event`]: what the console reacts to; [`command`]: the background work update asks for;
//!   [`effects`]: runs it with the operations in background tasks;
//! - [`update`]: the pure update function (and its dialogs);
//! - [`keymap`]: the one keymap (key → action, rebindable from TOML; help and command bar from it);
//! - [`layout`]: the screen's areas (shared by the view and mouse handling); [`theme`]: colours;
//! - [`view`]: drawing; [`failure`]: typed failures and the status line's advice;
//! - [`app`]: the runtime loop (`tokendist console`); [`terminal`]: entering and always restoring it;
//!   [`logging`]: the log file (never the terminal).

pub mod app;
pub mod command;
pub mod effects;
pub mod event;
pub mod failure;
pub mod keymap;
pub mod layout;
pub mod logging;
pub mod model;
pub mod rows;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;

/// Plain-data models for the unit tests and the `console_timings` example (feature `fixtures`).
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
