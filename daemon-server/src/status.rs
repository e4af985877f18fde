//! The one place where the server's failures become gRPC statuses (DESIGN §4). Handlers return
//! [`ServiceError`]; nothing else constructs a `tonic::Status` (transport limits are tonic's and
//! hyper's, put in gRPC's terms by [`crate::grpc_limits`]). Callers learn check names, not
//! evidence: PERMISSION_DENIED carries the failed check names only, in the message and in the
//! `Denial` details (gRPC's richer error model, [`tokendist_proto::denial_status`]);
//! UNAUTHENTICATED names its one failed `identity.*` check in the message and carries no details.
//! No reasons reach the caller: they hold hashes, fingerprints, emails, the expected audience —
//! those go to the store for Alice, and to the log. Internal errors say only that something went
//! wrong (the detail is logged); every other message is stripped of control characters.

use tokendist_core::terminal_text::printable_line;
use tokendist_core::verdict::{CheckResult, Outcome};
use tokendist_proto::v1 as pb;

use crate::sessions::SessionRefusal;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No bearer token, another scheme, or a token that failed verification: the caller is
    /// unknown. `check` is the failed `identity.*` check (named in the message; no details).
    #[error("unauthenticated: {}", .check.name)]
    Unauthenticated { check: CheckResult },
    /// A policy check failed (or the instance has no approval yet).
    #[error("permission denied: {}", failed_list(.checks))]
    Denied {
        checks: Vec<CheckResult>,
        pending_approval: bool,
    },
    /// The session is in the wrong state (unknown, expired, used, out of order, another instance).
    #[error("failed precondition: {}", session_text(*.0))]
    Session(SessionRefusal),
    /// The request is malformed (the message is about the caller's own input).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A dependency is down; the client should retry. Its own error text goes to the log only.
    #[error("unavailable: {}", dependency_text(.0))]
    Unavailable(Dependency),
    /// Too many requests of one kind from one instance.
    #[error("resource exhausted: {}", rate_text(*.limited, *.retry_in_secs))]
    RateLimited {
        limited: Limited,
        retry_in_secs: u64,
    },
    /// The server has `in_progress` RPCs in progress (its admission bound) and none finished
    /// within the queue wait.
    #[error("resource exhausted: {}", busy_text(*.in_progress))]
    Busy { in_progress: usize },
    /// A bug or an unexpected state; details are logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What was unavailable, as the caller is told (the dependency's own error is logged where it
/// happened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// The store (SQLite or Firestore).
    Store,
    /// Google's token signing keys.
    IdentityKeys,
    /// Gathering the evidence took longer than the configured timeout.
    EvidenceTimeout,
    /// A Google API, by its short name (`compute`, `logging`).
    GoogleApi(String),
}

/// Which per-instance rate limit a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Sessions,
    AttestationSteps,
}

/// What every caller is told when the store fails.
pub const STORE_UNAVAILABLE: &str = "the token server's store is unavailable; retry later";

fn session_text(refusal: SessionRefusal) -> String {
    match refusal {
        SessionRefusal::Unknown => "unknown session; call BeginSession".into(),
        SessionRefusal::Expired => "session expired; call BeginSession again".into(),
        SessionRefusal::Used => "session already used; call BeginSession again".into(),
        SessionRefusal::UsedOrOutOfOrder => {
            "session already used or out of order; call BeginSession again".into()
        }
        SessionRefusal::AlreadyAt(step) => {
            format!(
                "session is already {}; call BeginSession again",
                step.as_str()
            )
        }
        SessionRefusal::NotAttested => "session not attested yet; call Attest first".into(),
        SessionRefusal::OtherInstance => "session belongs to another instance".into(),
        SessionRefusal::Unreadable => {
            "the session record is unreadable; call BeginSession again".into()
        }
    }
}

fn dependency_text(dependency: &Dependency) -> String {
    match dependency {
        Dependency::Store => STORE_UNAVAILABLE.into(),
        Dependency::IdentityKeys => "cannot verify identity tokens right now (Google's signing \
                                     keys are unavailable); retry"
            .into(),
        Dependency::EvidenceTimeout => "gathering evidence from Google timed out; retry".into(),
        Dependency::GoogleApi(api) => format!("{api} is unavailable; retry"),
    }
}

fn rate_text(limited: Limited, retry_in_secs: u64) -> String {
    let what = match limited {
        Limited::Sessions => "sessions",
        Limited::AttestationSteps => "attestation requests",
    };
    format!(
        "too many {what} from this instance; retry in {} s",
        retry_in_secs.max(1)
    )
}

fn busy_text(in_progress: usize) -> String {
    format!("server busy: {in_progress} requests in progress; retry in 1 s")
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
            Self::Session(_) => tonic::Code::FailedPrecondition,
            Self::InvalidArgument(_) => tonic::Code::InvalidArgument,
            Self::Unavailable(_) => tonic::Code::Unavailable,
            Self::RateLimited { .. } | Self::Busy { .. } => tonic::Code::ResourceExhausted,
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
                tokendist_proto::denial_status(
                    &message,
                    &pb::Denial {
                        checks: failed,
                        pending_approval,
                    },
                )
            }
            ServiceError::Unauthenticated { check } => {
                if let Outcome::Fail(reason) = &check.outcome {
                    tracing::info!(check = %check.name, reason = %printable_line(reason), "identity token refused");
                }
                tonic::Status::new(code, format!("identity token refused ({})", check.name))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokendist_proto::denial_of;

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
                ServiceError::Denied {
                    checks: vec![],
                    pending_approval: true,
                },
                tonic::Code::PermissionDenied,
            ),
            (
                ServiceError::Session(SessionRefusal::Expired),
                tonic::Code::FailedPrecondition,
            ),
            (
                ServiceError::InvalidArgument("session_id empty".into()),
                tonic::Code::InvalidArgument,
            ),
            (
                ServiceError::Unavailable(Dependency::GoogleApi("compute".into())),
                tonic::Code::Unavailable,
            ),
            (
                ServiceError::RateLimited {
                    limited: Limited::Sessions,
                    retry_in_secs: 0,
                },
                tonic::Code::ResourceExhausted,
            ),
            (
                ServiceError::Busy { in_progress: 128 },
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
    fn unauthenticated_names_the_failed_identity_check_and_carries_no_details() {
        let status: tonic::Status = ServiceError::Unauthenticated {
            check: CheckResult::fail("identity.fresh", "issued 300 s ago"),
        }
        .into();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "identity token refused (identity.fresh)");
        assert!(status.details().is_empty(), "{status:?}");
        assert!(denial_of(&status).is_none());
    }

    #[test]
    fn only_permission_denied_carries_details() {
        let errors = [
            ServiceError::Unauthenticated {
                check: CheckResult::fail("identity.token_missing", "no authorization"),
            },
            ServiceError::Session(SessionRefusal::Used),
            ServiceError::InvalidArgument("session_id empty".into()),
            ServiceError::Unavailable(Dependency::Store),
            ServiceError::RateLimited {
                limited: Limited::AttestationSteps,
                retry_in_secs: 3,
            },
            ServiceError::Busy { in_progress: 1 },
            ServiceError::Internal("bug".into()),
        ];
        for error in errors {
            let status: tonic::Status = error.into();
            assert!(status.details().is_empty(), "{status:?}");
        }
        let denied: tonic::Status = ServiceError::Denied {
            checks: vec![CheckResult::fail("approval.state", "no approval")],
            pending_approval: true,
        }
        .into();
        let denial = denial_of(&denied).unwrap();
        assert!(denial.pending_approval);
        assert_eq!(
            tokendist_proto::failed_check_names(&denial),
            ["approval.state"]
        );
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
