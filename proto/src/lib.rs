//! The tokendist wire protocol, package `tokendist.v1`, generated from `tokenservice.proto`.
//!
//! TPM structures travel as their marshalled TPM bytes; nothing here depends on a TPM library.
//!
//! - [`v1`] (re-exported at the root): the generated messages, the `TokenService` client and server.
//! - [`denial`]: a denial on the wire, gRPC's richer error model (a `google.rpc.Status` packing the
//!   `Denial` in an `Any`, on PERMISSION_DENIED only): [`denial_status`] writes it, [`denial_of`] and
//!   [`failed_check_names`] read it back (the server, the client and the tests all use these; there
//!   is no other copy).

#![allow(missing_debug_implementations)]

/// Generated messages, the `TokenService` client and server.
pub mod v1 {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("tokendist.v1");
}

pub use v1::*;

pub mod denial;

pub use denial::{DENIAL_TYPE_URL, denial_of, denial_status, failed_check_names};
