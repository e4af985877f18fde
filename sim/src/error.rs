//! `SimError`: failures starting or running the simulator.

use std::net::SocketAddr;

/// The simulator could not start or perform an operation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}; is the address in use or not local?")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot generate an RSA-2048 signing key (aws-lc-rs failed)")]
    KeyGeneration,
    #[error("cannot sign an identity token (no current key or the signer failed)")]
    Signing,
    #[error("unknown VM `{0}`; use a name declared in the scenario")]
    UnknownVm(String),
    #[error("unknown project `{0}`; use a project id declared in the scenario")]
    UnknownProject(String),
    #[error("invalid admin request: {0}")]
    InvalidRequest(String),
}
