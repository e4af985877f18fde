//! The tokendist wire protocol, package `tokendist.v1`, generated from `tokenservice.proto`.
//!
//! TPM structures travel as their marshalled TPM bytes; nothing here depends on a TPM library.

#![allow(missing_debug_implementations)]

/// Generated messages, the `TokenService` client and server.
pub mod v1 {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("tokendist.v1");
}

pub use v1::*;
