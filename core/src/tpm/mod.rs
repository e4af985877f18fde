//! Pure-Rust TPM 2.0 wire formats and software crypto for the server and console (no libtss2, no
//! I/O, no OS randomness: callers pass fresh 32-byte random seeds).
//!
//! Byte layouts follow `tpm-notes.md` (verified against swtpm). Structures travel as marshalled TPM
//! bytes: parse what tss-esapi's `Public::marshall()` gives with [`TpmtPublic::unmarshal`] (or a
//! TPM2B_PUBLIC with [`TpmtPublic::from_tpm2b`]); outputs are the *contents* of their TPM2Bs (what
//! tss-esapi's `try_from(Vec<u8>)` constructors take); [`marshal::tpm2b`] adds the size prefix.
//!
//! - [`marshal`]: bounded big-endian reader/writer.
//! - [`public`], [`params`], [`attributes`]: TPMT_PUBLIC for RSA and KEYEDHASH objects, and Names.
//! - [`kdf`], [`wrap`]: KDFa and the outer wrapper shared by MakeCredential and import.
//! - [`credential`]: `make_credential` (Attest step: prove the AK lives with the EK).
//! - [`import`], [`policy`], [`pcr`]: sealed-object import blobs and the trial PolicyPCR digest.
//! - [`attest`], [`verify`]: TPMS_ATTEST / TPMT_SIGNATURE readers, `verify_quote`, `verify_certify`.
//! - [`ak`], [`ek`]: the AK template check, EK ↔ PEM.
//! - [`envelope`]: AES-256-GCM envelopes whose data key is sealed to the TPM.
//! - [`errors`]: one error enum per concern, `Clone + PartialEq` so tests can assert variants.

pub mod ak;
pub mod alg;
pub mod attest;
pub mod attributes;
pub mod credential;
pub mod ek;
pub mod envelope;
pub mod errors;
pub mod import;
pub mod kdf;
pub mod marshal;
pub mod params;
pub mod pcr;
pub mod policy;
pub mod public;
pub mod verify;
pub mod wrap;

pub use ak::check_ak_template;
pub use attest::{Attested, CertifyInfo, ClockInfo, QuoteInfo, TpmsAttest, TpmtSignature};
pub use attributes::ObjectAttributes;
pub use credential::make_credential;
pub use ek::{ek_matches_pem, ek_public_from_pem, ek_public_to_pem, ek_template_from_pem};
pub use envelope::{Envelope, open_envelope_with_data_key, seal_envelope};
pub use errors::{AkError, EkError, EnvelopeError, MarshalError, QuoteError, TpmError};
pub use import::{ImportBlob, create_import_blob};
pub use kdf::kdfa_sha256;
pub use pcr::{PcrSelection, PcrSelectionList};
pub use policy::{pcr_composite_digest, policy_pcr_digest};
pub use public::{PublicParameters, TpmtPublic, name_of_sha256_public};
pub use verify::{VerifiedQuote, verify_attest_signature, verify_certify, verify_quote};
