//! A denial on the wire, in gRPC's richer error model: a PERMISSION_DENIED status whose
//! `grpc-status-details-bin` trailer is a `google.rpc.Status` (the same code and message) with the
//! [`Denial`] packed in a `google.protobuf.Any` (`type.googleapis.com/tokendist.v1.Denial`). Any gRPC
//! stack decodes it with its stock helpers (Python: `grpc_status.rpc_status.from_call`). Other codes
//! carry no details. The server writes it with [`denial_status`], every client reads it with
//! [`denial_of`]; there is no other copy of this format.

use prost::Message as _;

use crate::v1::{CheckOutcome, Denial};

/// The `type_url` of a packed [`Denial`].
pub const DENIAL_TYPE_URL: &str = "type.googleapis.com/tokendist.v1.Denial";

/// `google.rpc.Status` (googleapis `google/rpc/status.proto`): what `grpc-status-details-bin` holds.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// A PERMISSION_DENIED status with `message`, carrying `denial` in its details.
pub fn denial_status(message: &str, denial: &Denial) -> tonic::Status {
    let code = tonic::Code::PermissionDenied;
    let details = RpcStatus {
        code: code as i32,
        message: message.to_string(),
        details: vec![prost_types::Any {
            type_url: DENIAL_TYPE_URL.to_string(),
            value: denial.encode_to_vec(),
        }],
    };
    tonic::Status::with_details(code, message, details.encode_to_vec().into())
}

/// Decodes the [`Denial`] a PERMISSION_DENIED status carries (clients show the failed checks);
/// `None` for other codes or details that hold no `Denial`.
pub fn denial_of(status: &tonic::Status) -> Option<Denial> {
    if status.code() != tonic::Code::PermissionDenied {
        return None;
    }
    let details = RpcStatus::decode(status.details()).ok()?;
    details
        .details
        .iter()
        .find(|any| any.type_url == DENIAL_TYPE_URL)
        .and_then(|any| Denial::decode(any.value.as_slice()).ok())
}

/// The names of the failed checks in a denial, in the server's order.
pub fn failed_check_names(denial: &Denial) -> Vec<String> {
    denial
        .checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Fail as i32)
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::v1::CheckResult;

    fn sample() -> Denial {
        Denial {
            checks: vec![CheckResult {
                name: "approval.state".into(),
                outcome: CheckOutcome::Fail as i32,
                reason: String::new(),
            }],
            pending_approval: true,
        }
    }

    #[test]
    fn the_details_are_a_google_rpc_status_with_the_same_code_and_message_packing_the_denial() {
        let status = denial_status("pending approval; failed checks: approval.state", &sample());
        let details = RpcStatus::decode(status.details()).unwrap();
        assert_eq!(details.code, tonic::Code::PermissionDenied as i32);
        assert_eq!(details.message, status.message());
        assert_eq!(details.details.len(), 1);
        assert_eq!(details.details[0].type_url, DENIAL_TYPE_URL);
        assert_eq!(
            Denial::decode(details.details[0].value.as_slice()).unwrap(),
            sample()
        );
        assert_eq!(denial_of(&status), Some(sample()));
        assert_eq!(
            failed_check_names(&denial_of(&status).unwrap()),
            ["approval.state"]
        );
    }

    #[test]
    fn only_permission_denied_is_read_and_a_bare_denial_is_not_taken_for_one() {
        let bare = sample().encode_to_vec();
        for code in [tonic::Code::PermissionDenied, tonic::Code::Unauthenticated] {
            let status = tonic::Status::with_details(code, "denied", bare.clone().into());
            assert_eq!(denial_of(&status), None, "{code:?}");
        }
        let mut other = denial_status("denied", &sample());
        assert!(denial_of(&other).is_some());
        other = tonic::Status::with_details(
            tonic::Code::Unauthenticated,
            "denied",
            other.details().to_vec().into(),
        );
        assert_eq!(denial_of(&other), None);
    }
}
