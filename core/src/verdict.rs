//! The outcome of a policy evaluation: a list of named checks, each `Pass`, `Fail(reason)` or
//! `Skipped(why)`. The server enforces it, the store records it, the console shows it verbatim.

use serde::{Deserialize, Serialize};

/// The result of one check. Reasons are operator-safe: they never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    /// The check failed; the text says what was found and what was expected.
    Fail(String),
    /// The check does not apply (e.g. the approval pins no peer address) or could not be evaluated
    /// because a check it depends on already failed. A skip never allows anything on its own.
    Skipped(String),
}

/// One named check and its outcome. `name` is one of the constants in [`crate::checks`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub outcome: Outcome,
}

impl CheckResult {
    pub fn pass(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            outcome: Outcome::Pass,
        }
    }

    pub fn fail(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            outcome: Outcome::Fail(reason.into()),
        }
    }

    pub fn skipped(name: &str, why: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            outcome: Outcome::Skipped(why.into()),
        }
    }

    pub fn is_fail(&self) -> bool {
        matches!(self.outcome, Outcome::Fail(_))
    }

    pub fn is_pass(&self) -> bool {
        matches!(self.outcome, Outcome::Pass)
    }
}

/// Every check of one decision, in evaluation order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub checks: Vec<CheckResult>,
}

impl Verdict {
    /// True only when at least one check ran and none failed.
    pub fn allowed(&self) -> bool {
        !self.checks.is_empty() && !self.checks.iter().any(CheckResult::is_fail)
    }

    /// Names of the failed checks, in evaluation order (what a denial reports to the caller).
    pub fn failed_names(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.is_fail())
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The result of the named check, if it was evaluated.
    pub fn get(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_verdict_is_not_allowed() {
        assert!(!Verdict::default().allowed());
    }

    #[test]
    fn skipped_checks_do_not_deny_but_a_failure_does() {
        let mut verdict = Verdict {
            checks: vec![
                CheckResult::pass("a"),
                CheckResult::skipped("b", "not pinned"),
            ],
        };
        assert!(verdict.allowed());
        verdict.checks.push(CheckResult::fail("c", "bad"));
        assert!(!verdict.allowed());
        assert_eq!(verdict.failed_names(), vec!["c"]);
    }
}
