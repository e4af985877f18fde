//! The Google clients' integration tests against gcpsim, in one test binary: each file is a module (one compile and one link
//! instead of one per file, the largest part of the test build). nextest still runs every test in its
//! own process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod demo_verdict;
mod metadata_transport;
mod sim_compute_evidence;
mod sim_data_access;
mod sim_identity;
mod sim_jwks_trust;
mod sim_one_round;
mod sim_project_evidence;
