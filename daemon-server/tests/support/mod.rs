//! Shared harness of the `tokenserver` integration tests: certificates ([`pki`]), key files
//! ([`keys`]), the server as a child process ([`server`]), an mTLS gRPC client ([`client`]), the
//! test world with gcpsim in-process ([`world`]), approvals written through the libraries
//! ([`approvals`]) and the real `gcloud` CLI against gcpsim ([`gcloud`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

pub mod approvals;
pub mod client;
pub mod gcloud;
pub mod keys;
pub mod pki;
pub mod server;
pub mod world;

pub const PROJECT: &str = "bob-project";
pub const ZONE: &str = "us-central1-a";
pub const GOOD_VM: &str = "tokenclient-good";
pub const GOOD_VM_ID: &str = "4708131932155938716";
pub const TAMPERED_VM: &str = "tokenclient-tampered";
pub const TAMPERED_VM_ID: &str = "7294015836620471935";
pub const GOOD_SA: &str = "tokenclient@bob-project.iam.gserviceaccount.com";
pub const AUDIENCE: &str = "https://tokenserver.test.example";
/// Serial of the world's client certificate.
pub const CLIENT_SERIAL: &[u8] = &[0x01, 0x5e, 0xc7, 0x2a, 0x90];
