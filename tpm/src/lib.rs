//! tokendist-tpm: the TPM layer over tss-esapi, and the only crate that links libtss2. One worker
//! thread owns the TPM; everything else holds a [`TpmHandle`] and exchanges marshalled TPM bytes with
//! it (never tss-esapi types), which is also what travels to the server. `tokenclient` uses it on
//! Bob's VM; tests and the console's demo use it against a private swtpm (see `tokendist-testkit`).
//! The pure-Rust other side (MakeCredential, quote verification, import blobs) is `tokendist_core::tpm`.
//!
//! - [`handle`]: `TpmHandle`, the async API (connect, EK, AK, ActivateCredential, quote, unseal, certify).
//! - [`worker`]: the thread owning the `tss_esapi::Context`; busy-TPM retries.
//! - [`config`]: the TCTI (`device:/dev/tpmrm0` by default, `swtpm:host=H,port=P` for tests).
//! - [`error`], [`rc`]: `TpmError` and decoded TPM response codes (`TPM_RC_POLICY_FAIL`, ...).
//! - [`types`]: `EkInfo`, `AkInfo`, `Quote`, `Certification`, `PcrBank`.
//! - [`ek`], [`ak`], [`credential`], [`quote`], [`unseal`], [`certify`], [`pcr`]: one TPM operation each.
//! - [`sessions`]: policy sessions (PolicySecret for the EK) and transient objects, flushed on every path.
//! - [`leftovers`]: flushing handles a killed process left in a TPM this process owns.

mod ak;
mod certify;
pub mod config;
mod credential;
mod ek;
pub mod error;
pub mod handle;
mod leftovers;
mod pcr;
mod quote;
pub mod rc;
mod sessions;
pub mod types;
mod unseal;
mod worker;

pub use config::{DEFAULT_TCTI, TpmConfig};
pub use ek::PERSISTENT_EK_HANDLE;
pub use error::TpmError;
pub use handle::{LoadedHandles, TpmHandle};
pub use pcr::PCR_COUNT;
pub use quote::QUOTE_ATTEMPTS;
pub use rc::ResponseCode;
pub use types::{AkInfo, Certification, EkInfo, PcrBank, Quote};
