//! Denials as the caller sees them: the gRPC code of a refused call and the exact list of failed
//! checks it is told — for PERMISSION_DENIED the `Denial` detail (decoded by
//! `tokendist_proto::denial_of`), for UNAUTHENTICATED the one `identity.*` check its message names
//! (it carries no details).

use tonic::{Code, Status};

/// What an UNAUTHENTICATED status says before the check it names (`identity token refused (CHECK)`).
const UNAUTHENTICATED_PREFIX: &str = "identity token refused (";

/// The names of the failed checks a refusal carries, sorted (panics when it carries none, or when
/// an UNAUTHENTICATED status carries details).
pub fn failed_checks(status: &Status) -> Vec<String> {
    if status.code() == Code::Unauthenticated {
        assert!(
            status.details().is_empty(),
            "UNAUTHENTICATED carries details: {status:?}"
        );
        let check = status
            .message()
            .strip_prefix(UNAUTHENTICATED_PREFIX)
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{status:?} names no identity check"));
        return vec![check.to_string()];
    }
    let denial = tokendist_proto::denial_of(status)
        .unwrap_or_else(|| panic!("{status:?} carries no Denial details"));
    let mut names = tokendist_proto::failed_check_names(&denial);
    names.sort();
    names
}

/// Asserts `result` is an error with `code` that names exactly `expected` as failed (in any order);
/// returns the status for further checks.
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
