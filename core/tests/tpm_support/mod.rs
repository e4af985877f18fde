//! Test support of the `tpm_*` integration tests: the software TPM stand-ins, which live in
//! `tokendist_testkit::soft_tpm` (shared with the `tpm` bench, whose root `bench.rs` is in this
//! directory, and with the load tool's `--tpm` VMs).

pub use tokendist_testkit::soft_tpm::*;
