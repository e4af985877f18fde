//! Test support shared by the store's integration tests: the two backends behind one interface (the
//! Firestore one on `tokendist_testkit`'s emulator), and sample records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

pub mod backends;
pub mod samples;
