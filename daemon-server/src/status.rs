//! The one place where the server's failures become gRPC statuses (DESIGN §4). Handlers return
//! [`ServiceError`]; nothing else constructs a `tonic::Status`. Callers learn check names, not
//! evidence: PERMISSION_DENIED and UNAUTHENTICATED carry the failed check names only, in the message
//! and in the `Denial` details (no reasons: they hold hashes, fingerprints, emails, the expected
//! audience — those go to the store for Alice, and to the log). Internal errors say only that
//! something went wrong (the detail is logged); every other message is stripped of control
//! characters.

use prost::Message;
use tokendist_core::terminal_text::printable_line;
use tokendist_core::verdict::{CheckResult, Outcome};
use tokendist_proto::v1 as pb;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No bearer token, or one that failed verification: the caller is unknown. `check` is the
    /// failed `identity.*` check.
    #[error("unauthenticated: {}", .check.name)]
    Unauthenticated { check: CheckResult },
    /// A policy check failed (or the instance has no approval yet).
    #[error("permission denied: {}", failed_list(.checks))]
    Denied {
        checks: Vec<CheckResult>,
        pending_approval: bool,
    },
    /// The session is in the wrong state (unknown, expired, used, out of order, another instance).
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// The request is malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A dependency (store, Compute, Logging, JWKS) is down; the client should retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Too many requests from one instance.
    #[error("resource exhausted: {0}")]
    RateLimited(String),
    /// The RPC is not offered by this server version.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// A bug or an unexpected state; details are logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

fn failed_list(checks: &[CheckResult]) -> String {
    let names: Vec<&str> = checks
        .iter()
        .filter(|c| c.is_fail())
        .map(|c| c.name.as_str())
        .collect();
    if names.is_empty() {
        "no approval".to_string()
    } else {
        names.join(", ")
    }
}

/// A check as the caller sees it: its name and outcome, never its reason.
fn to_proto_check(check: &CheckResult) -> pb::CheckResult {
    let outcome = match &check.outcome {
        Outcome::Pass => pb::CheckOutcome::Pass,
        Outcome::Fail(_) => pb::CheckOutcome::Fail,
        Outcome::Skipped(_) => pb::CheckOutcome::Skipped,
    };
    pb::CheckResult {
        name: check.name.clone(),
        outcome: outcome as i32,
        reason: String::new(),
    }
}

impl ServiceError {
    /// The gRPC code this error maps to.
    pub fn code(&self) -> tonic::Code {
        match self {
            Self::Unauthenticated { .. } => tonic::Code::Unauthenticated,
            Self::Denied { .. } => tonic::Code::PermissionDenied,
            Self::FailedPrecondition(_) => tonic::Code::FailedPrecondition,
            Self::InvalidArgument(_) => tonic::Code::InvalidArgument,
            Self::Unavailable(_) => tonic::Code::Unavailable,
            Self::RateLimited(_) => tonic::Code::ResourceExhausted,
            Self::NotSupported(_) => tonic::Code::Unimplemented,
            Self::Internal(_) => tonic::Code::Internal,
        }
    }
}

impl From<ServiceError> for tonic::Status {
    fn from(error: ServiceError) -> Self {
        let code = error.code();
        match error {
            ServiceError::Denied {
                checks,
                pending_approval,
            } => {
                // Only the names of the failed checks go to the caller; the reasons stay with Alice.
                let failed: Vec<pb::CheckResult> = checks
                    .iter()
                    .filter(|c| c.is_fail())
                    .map(to_proto_check)
                    .collect();
                let message = if pending_approval {
                    format!("pending approval; failed checks: {}", failed_list(&checks))
                } else {
                    format!("denied; failed checks: {}", failed_list(&checks))
                };
                let details = pb::Denial {
                    checks: failed,
                    pending_approval,
                }
                .encode_to_vec();
                tonic::Status::with_details(code, message, details.into())
            }
            ServiceError::Unauthenticated { check } => {
                if let Outcome::Fail(reason) = &check.outcome {
                    tracing::info!(check = %check.name, reason = %printable_line(reason), "identity token refused");
                }
                let message = format!("identity token refused ({})", check.name);
                let details = pb::Denial {
                    checks: vec![to_proto_check(&check)],
                    pending_approval: false,
                }
                .encode_to_vec();
                tonic::Status::with_details(code, message, details.into())
            }
            ServiceError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                tonic::Status::new(code, "internal error; see the token server's log")
            }
            other => {
                let message = other.to_string();
                tonic::Status::new(code, printable_line(&message))
            }
        }
    }
}

/// Decodes the [`pb::Denial`] a PERMISSION_DENIED or UNAUTHENTICATED status carries (used by clients
/// and tests).
pub fn denial_of(status: &tonic::Status) -> Option<pb::Denial> {
    if !matches!(
        status.code(),
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated
    ) {
        return None;
    }
    pb::Denial::decode(status.details()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_its_code() {
        let table = [
            (
                ServiceError::Unauthenticated {
                    check: CheckResult::fail("identity.signature", "no bearer token"),
                },
                tonic::Code::Unauthenticated,
            ),
            (
                ServiceError::NotSupported("Attest".into()),
                tonic::Code::Unimplemented,
            ),
            (
                ServiceError::Denied {
                    checks: vec![],
                    pending_approval: true,
                },
                tonic::Code::PermissionDenied,
            ),
            (
                ServiceError::FailedPrecondition("session expired".into()),
                tonic::Code::FailedPrecondition,
            ),
            (
                ServiceError::InvalidArgument("session_id empty".into()),
                tonic::Code::InvalidArgument,
            ),
            (
                ServiceError::Unavailable("compute unavailable".into()),
                tonic::Code::Unavailable,
            ),
            (
                ServiceError::RateLimited("slow down".into()),
                tonic::Code::ResourceExhausted,
            ),
            (
                ServiceError::Internal("db invariant".into()),
                tonic::Code::Internal,
            ),
        ];
        for (error, code) in table {
            let status: tonic::Status = error.into();
            assert_eq!(status.code(), code);
        }
    }

    #[test]
    fn denial_lists_only_failed_checks_and_round_trips_in_details() {
        let checks = vec![
            CheckResult::pass("identity.signature"),
            CheckResult::fail("instance.user_data", "user-data hash changed"),
            CheckResult::skipped("network.peer_ip", "not pinned"),
        ];
        let status: tonic::Status = ServiceError::Denied {
            checks,
            pending_approval: false,
        }
        .into();
        assert!(status.message().contains("instance.user_data"));
        assert!(!status.message().contains("identity.signature"));
        let denial = denial_of(&status).unwrap();
        assert_eq!(denial.checks.len(), 1);
        assert_eq!(denial.checks[0].name, "instance.user_data");
        assert_eq!(denial.checks[0].outcome, pb::CheckOutcome::Fail as i32);
        assert!(denial.checks[0].reason.is_empty());
        assert!(
            !status.message().contains("hash changed"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn unauthenticated_carries_the_failed_identity_check() {
        let status: tonic::Status = ServiceError::Unauthenticated {
            check: CheckResult::fail("identity.fresh", "issued 300 s ago"),
        }
        .into();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(denial_of(&status).unwrap().checks[0].name, "identity.fresh");
        assert!(denial_of(&status).unwrap().checks[0].reason.is_empty());
        assert!(!status.message().contains("300"), "{}", status.message());
    }

    #[test]
    fn other_messages_reach_the_caller_without_control_characters() {
        let status: tonic::Status =
            ServiceError::InvalidArgument("bad \x1b[2J\rvalue".into()).into();
        assert!(!status.message().contains('\x1b') && !status.message().contains('\r'));
    }

    #[test]
    fn internal_detail_never_reaches_the_caller() {
        let status: tonic::Status =
            ServiceError::Internal("sqlite: table approvals corrupt at row 7".into()).into();
        assert!(!status.message().contains("sqlite"));
    }
}
