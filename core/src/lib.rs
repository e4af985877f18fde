//! tokendist-core: the pure domain of tokendist. No I/O, no async, no clocks of its own (time is an
//! argument), so every decision can be unit-tested and the console can show exactly what the server
//! will check.
//!
//! - [`checks`]: the stable names of every policy check.
//! - [`identity`]: Google instance identity tokens and their RS256 verification.
//! - [`evidence`]: what is known about a VM at decision time.
//! - [`metadata_keys`]: Compute Engine metadata keys that run code or open access, and how values read.
//! - [`approval`]: Alice's approval record, its canonical encoding and Ed25519 signature.
//! - [`auditlog`]: Cloud Audit Log entries, the allowed/denied method tables (unknown fails), their
//!   classification against the VM, its boot disk and project, and the console timeline.
//! - [`cloudconfig`]: Alice's trusted cloud-config template (the `cloudconfig.template` gate) and the
//!   fail-closed analysis of a COS `#cloud-config` beside it (hardening, containers, digests; typed
//!   findings and the lines they are on).
//! - [`boot_image`]: boot-image names normalised from Compute URLs, and approved-prefix matching.
//! - [`settings`]: Alice's policy settings (serde, with defaults).
//! - [`verdict`]: named check results and the overall decision.
//! - [`policy`]: `evaluate` (every release check) and `review` (the cloud-config checks).
//! - [`keys`]: PEM encodings of the Ed25519 and X25519 keys.
//! - [`network`]: the canonical TLS client-certificate serial.
//! - [`server_seal`]: secrets encrypted to the token server (HPKE X25519).
//! - [`receipt`]: server-signed release receipts over the evidence digest.
//! - [`terminal_text`]: outside text made safe for a terminal (control characters escaped).
//! - [`attestation_signature`]: the server's signature over an attestation record, and its check.
//! - [`tink`]: binary Tink keysets with AES-GCM keys (the TINK secret type), as AEAD primitives.
//! - [`tpm`]: TPM 2.0 wire formats and software crypto (MakeCredential, import blobs, quotes, envelopes).

pub mod approval;
pub mod attestation_signature;
pub mod auditlog;
pub mod boot_image;
pub mod checks;
pub mod cloudconfig;
pub mod evidence;
pub mod identity;
pub mod keys;
pub mod metadata_keys;
pub mod network;
pub mod policy;
pub mod receipt;
pub mod server_seal;
pub mod settings;
pub mod terminal_text;
pub mod tink;
pub mod tpm;
pub mod verdict;
