//! Test support shared by the store's integration tests: the Firestore emulator harness, the two
//! backends behind one interface, and sample records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

pub mod backends;
pub mod firestore_emulator;
pub mod samples;
