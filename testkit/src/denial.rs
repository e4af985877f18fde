//! Denials as the caller sees them: the gRPC code of a refused call and the exact list of failed
//! checks its `Denial` detail carries (decoded by `tokendist_proto::denial_of`).

use tokendist_proto::v1 as pb;
use tonic::{Code, Status};

/// The names of the failed checks a denial carries, sorted (panics when it carries no `Denial`).
pub fn failed_checks(status: &Status) -> Vec<String> {
    let denial = tokendist_proto::denial_of(status)
        .unwrap_or_else(|| panic!("{status:?} carries no Denial details"));
    let mut names: Vec<String> = denial
        .checks
        .iter()
        .filter(|c| c.outcome == pb::CheckOutcome::Fail as i32)
        .map(|c| c.name.clone())
        .collect();
    names.sort();
    names
}

/// Asserts `result` is an error with `code` whose Denial lists exactly `expected` as failed (in any
/// order); returns the status for further checks.
pub fn assert_denied<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    expected: &[&str],
) -> Status {
    let status = match result {
        Ok(value) => panic!("expected {code:?} {expected:?}, got a release: {value:?}"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "{status:?}");
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(failed_checks(&status), expected, "{status:?}");
    status
}
