//! The tokendist wire protocol, package `tokendist.v1`, generated from `tokenservice.proto`.
//!
//! TPM structures travel as their marshalled TPM bytes; nothing here depends on a TPM library.
//!
//! - [`v1`] (re-exported at the root): the generated messages, the `TokenService` client and server.
//! - [`denial_of`], [`failed_check_names`]: reading a denial back out of a refused call's status
//!   (the server, the client and the tests all use these; there is no other copy).

#![allow(missing_debug_implementations)]

/// Generated messages, the `TokenService` client and server.
pub mod v1 {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("tokendist.v1");
}

pub use v1::*;

/// Decodes the [`v1::Denial`] a PERMISSION_DENIED or UNAUTHENTICATED status carries in its details
/// (clients show the failed checks); `None` for other codes or undecodable details.
pub fn denial_of(status: &tonic::Status) -> Option<v1::Denial> {
    use prost::Message as _;
    if !matches!(
        status.code(),
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated
    ) {
        return None;
    }
    v1::Denial::decode(status.details()).ok()
}

/// The names of the failed checks in a denial, in the server's order.
pub fn failed_check_names(denial: &v1::Denial) -> Vec<String> {
    denial
        .checks
        .iter()
        .filter(|c| c.outcome == v1::CheckOutcome::Fail as i32)
        .map(|c| c.name.clone())
        .collect()
}
