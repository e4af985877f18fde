//! tokendist-testkit: test support shared by every crate's tests (never linked into a shipped
//! binary: it is a dev-dependency everywhere except of the load tool, `tokendist-load`). Helpers panic with a readable message instead of returning errors,
//! except the swtpm harness, whose typed error lets a test choose to skip.
//!
//! - [`swtpm`]: private swtpm instances, one per test, from a cached provisioned template
//!   ([`Swtpm::start`]); a missing swtpm fails the test naming what to install.
//! - [`firestore`]: the official Cloud Firestore emulator (shared through `FIRESTORE_EMULATOR_HOST`
//!   or private per test); a missing emulator fails the test naming what to install.
//! - [`pubsub`]: the official Pub/Sub emulator, private per test, and its REST API; a missing
//!   emulator fails the test naming what to install.
//! - [`demo`]: the demo scenario (`sim/scenarios/demo.toml`): its named constants (VMs, ids,
//!   project, zone, service account), its files, and variants of it.
//! - [`gcpsim`]: the simulator in-process ([`gcpsim::start`]) or as the `gcpsim` binary
//!   ([`gcpsim::GcpsimProcess`]), and the real `gcloud` CLI against it.
//! - [`process`]: a workspace binary (tokenserver, tokenclient, gcpsim) as a child process: logs in
//!   files, systemd notifications on a NOTIFY_SOCKET, bounded waits, killed on drop.
//! - [`doc_examples`]: the runnable examples of a Markdown document (`docs/operations.md`) and the
//!   matcher of their documented output.
//! - [`denial`]: `assert_denied`, the exact failed-check list of a refused gRPC call.
//! - [`journal`]: a daemon under journald without systemd (`JOURNAL_STREAM` naming its stderr
//!   file), the check of its lines' priorities, and a one-shot HTTP GET of its metrics listener.
//! - [`pki`]: a test CA, a server certificate for loopback and client certificates (rcgen).
//! - [`keys`]: the key files a test server is configured with (approver, receipt, secrets keys).
//! - [`soft_tpm`]: a software TPM (fixed EK and AK keys, ActivateCredential, Import+Unseal, signed
//!   quotes and certify attestations; [`soft_tpm::SoftTpm`] is one VM's vTPM) for `core`'s TPM tests
//!   and the load tool's `--tpm` VMs.
//! - [`service_account`]: a service-account key file's JSON (ADC that signs its own JWT, offline).
//! - [`raw_http`]: [`raw_http::serve_one_request`], a one-connection HTTP server that answers
//!   exactly the bytes a transport test gives it and returns the request it read.
//! - [`ports`]: [`closed_port`], a loopback port that refuses connections and stays reserved.
//! - [`raster`]: SVG rasterized to PNG with resvg in DejaVu Sans Mono (`make screenshots`).
//! - [`tmux`]: a command in a detached tmux session of a given size on a private server (keys in,
//!   screen out, bounded waits), for tests that drive the full-screen console.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod demo;
pub mod denial;
pub mod doc_examples;
pub mod firestore;
pub mod gcpsim;
mod java;
pub mod journal;
pub mod keys;
pub mod pki;
pub mod ports;
pub mod process;
pub mod pubsub;
pub mod raster;
pub mod raw_http;
pub mod service_account;
pub mod soft_tpm;
pub mod swtpm;
pub mod tmux;

pub use denial::{assert_denied, failed_checks};
pub use firestore::FirestoreEmulator;
pub use ports::{ClosedPort, closed_port};
pub use process::Daemon;
pub use pubsub::PubsubEmulator;
pub use swtpm::{EkCa, Swtpm, SwtpmError};
