//! Shared harness of the `tokenserver` integration tests: certificates ([`pki`]), key files
//! ([`keys`]), the server as a child process ([`server`]), an mTLS gRPC client ([`client`]), the
//! test world with gcpsim in-process ([`world`]) and approvals written through the libraries
//! ([`approvals`]). The demo's names come from `tokendist_testkit::demo`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Not every test binary uses every helper or re-exported name.
#![allow(dead_code, unused_imports)]

pub mod approvals;
pub mod client;
pub mod keys;
pub mod pki;
pub mod server;
pub mod world;

pub use tokendist_testkit::demo::{
    GOOD_VM, GOOD_VM_ID, PROJECT, SERVICE_ACCOUNT as GOOD_SA, TAMPERED_VM, TAMPERED_VM_ID, ZONE,
};
pub const AUDIENCE: &str = "https://tokenserver.test.example";
/// Serial of the world's client certificate.
pub const CLIENT_SERIAL: &[u8] = &[0x01, 0x5e, 0xc7, 0x2a, 0x90];
