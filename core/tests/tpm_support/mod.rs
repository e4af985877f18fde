//! Test support of the `tpm_*` integration tests: the software TPM stand-ins in [`fixtures`]. The
//! `tpm` bench's root (`bench.rs`) lives in this directory too, so that the tests and the bench reach
//! `fixtures.rs` as a plain module.

mod fixtures;

pub use fixtures::*;
