//! Exit codes of both daemons (documented in their `--help` and unit files).

/// Clean shutdown.
pub const OK: i32 = 0;
/// A runtime failure (store unreachable at start, listener could not bind, ...): systemd restarts.
pub const FAILURE: i32 = 1;
/// Bad configuration (`EX_CONFIG`): the unit sets `RestartPreventExitStatus=78`.
pub const BAD_CONFIG: i32 = 78;
/// A required device or service is missing at start (`EX_UNAVAILABLE`), e.g. no TPM on a VM that needs one.
pub const UNAVAILABLE: i32 = 69;
/// The remote side answered something the protocol does not allow (`EX_PROTOCOL`), e.g. the token
/// server refused a request as malformed: a version mismatch, which retrying cannot fix.
pub const PROTOCOL: i32 = 76;

/// Prints `DAEMON: bad configuration: PROBLEM` on stderr for each problem, one line each (with the
/// error priority when stderr is the journal's stream), and gives [`BAD_CONFIG`].
pub fn report_bad_configuration<T: std::fmt::Display>(
    env: &std::collections::BTreeMap<String, String>,
    daemon: &str,
    problems: impl IntoIterator<Item = T>,
) -> i32 {
    for problem in problems {
        crate::logging::error_line(env, &format!("{daemon}: bad configuration: {problem}"));
    }
    BAD_CONFIG
}

/// The process exit status for one of the codes above (a value out of range becomes [`FAILURE`]).
pub fn status(value: i32) -> std::process::ExitCode {
    std::process::ExitCode::from(u8::try_from(value).unwrap_or(1))
}
