//! Why a background operation failed, as the console decides on it: a typed [`FailureKind`] (the
//! update function branches on it, never on text) and the detail to show. [`Failure::status_text`]
//! is the one place that turns a failure into the status line's "what happened — what to do".

use tokendist_core::terminal_text::printable_line;

/// What kind of failure an operation met; each has its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The store could not be reached or answered with an error.
    StoreDown,
    /// Google refused access (401/403).
    GoogleDenied,
    /// Google could not be reached or failed.
    GoogleDown,
    /// The approval key (or another input file) is missing or unreadable.
    KeyFile,
    /// A check failed or an input was refused; nothing was written.
    Refused,
    /// Another writer changed the approval meanwhile.
    Conflict,
    /// The configuration (settings, store URL, endpoints) is unusable.
    Config,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// What the operator can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Self::StoreDown => "check --store and that the store is reachable, then press r",
            Self::GoogleDenied => {
                "grant your account compute.viewer and logging.viewer on the VM's project"
            }
            Self::GoogleDown => "Google's API did not answer; press r to retry",
            Self::KeyFile => "pass your approval key with --key FILE (from `tokendist keygen`)",
            Self::Refused => "nothing was written",
            Self::Conflict => "someone else changed the approval; refresh (r) and try again",
            Self::Config => "fix the configuration and restart the console",
            Self::Other => "see the log file for details",
        }
    }
}

/// A failed background operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    /// What went wrong (already free of secrets).
    pub detail: String,
}

impl Failure {
    pub fn new(kind: FailureKind, detail: impl Into<String>) -> Failure {
        Failure {
            kind,
            detail: detail.into(),
        }
    }

    /// The status line text: what went wrong, then what to do, on one line.
    pub fn status_text(&self, doing: &str) -> String {
        format!(
            "{doing} failed: {} — {}",
            printable_line(&self.detail),
            self.kind.advice()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_text_says_what_happened_and_what_to_do() {
        let failure = Failure::new(FailureKind::GoogleDenied, "compute.instances.get: 403\n");
        let text = failure.status_text("loading vm-1");
        assert!(text.starts_with("loading vm-1 failed: compute.instances.get: 403"));
        assert!(text.contains("compute.viewer"));
        assert!(!text.contains('\n'));
    }
}
