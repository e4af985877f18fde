//! tokendist-client: the library side of `tokenclient`, the daemon on Bob's VM. The only crate that
//! links libtss2 (tss-esapi).
//!
//! - [`tpm`]: the TPM layer: one worker thread owns the TPM; [`tpm::TpmHandle`] is its async API.
//! - `testing` (feature `test-support`): private swtpm instances for tests in any crate.

pub mod tpm;

#[cfg(feature = "test-support")]
pub mod testing;
