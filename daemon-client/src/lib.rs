//! tokendist-client: the library side of `tokenclient`, the daemon on Bob's VM. Its TPM work goes
//! through `tokendist_tpm` (one worker thread owns the TPM; `TpmHandle` is its async API).
//!
//! - [`config`], [`cli`]: settings (file < `TOKENCLIENT_*` env < flags, the original's flag aliases).
//! - [`check_config`]: the files and local settings checked at start and by `--check-config[=full]`.
//! - [`daemon`]: the lifecycle (READY, one attempt at a time, backoff, re-attestation, STOPPING).
//! - [`attempt`]: one attempt (BeginSession → Attest → ProveAttestation → GetToken) and retry rules.
//! - [`backoff`]: capped exponential backoff with jitter.
//! - [`transport`], [`identity`]: TLS to the server; a fresh identity token per RPC.
//! - [`secrets`]: opening secrets (TPM envelopes, import blobs, Tink keysets), redacted in `Debug`.
//! - [`deliver`]: secret files (atomic, 0600) and the local Unix socket (SO_PEERCRED).
//! - [`health`]: what `metrics_listen` shows (attempts, deliveries, `/readyz` and why not).

pub mod attempt;
pub mod backoff;
pub mod check_config;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod deliver;
pub mod health;
pub mod identity;
pub mod secrets;
pub mod transport;
