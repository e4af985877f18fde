//! Why a background operation failed, as the console decides on it: a typed [`FailureKind`] (the
//! update function branches on it, never on text) and the detail to show. [`Failure::status_text`]
//! is the one place that turns a failure into the status line's "what happened — what to do".

use tokendist_core::evidence::{FetchError, FetchErrorKind};
use tokendist_core::terminal_text::printable_line;
use tokendist_store::StoreError;

use crate::error::ConsoleError;

/// What kind of failure an operation met; each has its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The store could not be reached or answered with an error.
    StoreDown,
    /// Google refused access (401/403).
    GoogleDenied,
    /// Google could not be reached or failed.
    GoogleDown,
    /// No approval key was given to the console.
    KeyFile,
    /// An input file (approval key, secrets file, server key) is missing or malformed.
    InputFile,
    /// The VM could not be read at Google (name, access or availability).
    InstanceUnreadable,
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
            Self::KeyFile => {
                "start the console with --key FILE (your approval key from `tokendist keygen`)"
            }
            Self::InputFile => "check the file's path and contents",
            Self::InstanceUnreadable => {
                "check that the VM exists and that you can read it (compute.viewer), then press r"
            }
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

    /// How the console reports an operation's error (decided by its variant, never its text).
    pub fn from_console_error(error: &ConsoleError) -> Failure {
        let kind = match error {
            ConsoleError::Store(StoreError::Conflict { .. }) | ConsoleError::Conflict(_) => {
                FailureKind::Conflict
            }
            ConsoleError::Store(StoreError::Config(_))
            | ConsoleError::Config(_)
            | ConsoleError::StoreMissing { .. } => FailureKind::Config,
            ConsoleError::Store(_) => FailureKind::StoreDown,
            ConsoleError::File { .. }
            | ConsoleError::BadInput { .. }
            | ConsoleError::WouldOverwrite { .. } => FailureKind::InputFile,
            ConsoleError::InstanceUnreadable(_) => FailureKind::InstanceUnreadable,
            ConsoleError::Usage(_)
            | ConsoleError::Refused(_)
            | ConsoleError::ChecksFailed { .. }
            | ConsoleError::ServerKeyNeeded
            | ConsoleError::NoApproval(_)
            | ConsoleError::AlreadyRevoked { .. }
            | ConsoleError::EmptyReason => FailureKind::Refused,
            ConsoleError::Failed(_) | ConsoleError::OutputClosed => FailureKind::Other,
        };
        Failure::new(kind, error.to_string())
    }

    /// How the console reports evidence Google would not give (the detail still loads).
    pub fn from_fetch_error(error: &FetchError) -> Failure {
        let kind = match error.kind {
            FetchErrorKind::PermissionDenied => FailureKind::GoogleDenied,
            FetchErrorKind::Unavailable | FetchErrorKind::Malformed => FailureKind::GoogleDown,
            FetchErrorKind::NotFound => FailureKind::InstanceUnreadable,
        };
        Failure::new(kind, error.to_string())
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

    #[test]
    fn errors_are_classified_by_variant() {
        let down = ConsoleError::Store(StoreError::Unavailable {
            outage: tokendist_store::Outage::Locked,
            detail: "locked".into(),
        });
        assert_eq!(
            Failure::from_console_error(&down).kind,
            FailureKind::StoreDown
        );
        let conflict = ConsoleError::Conflict("revision".into());
        assert_eq!(
            Failure::from_console_error(&conflict).kind,
            FailureKind::Conflict
        );
        let checks = ConsoleError::ChecksFailed {
            failed: vec!["instance.user_data".into()],
        };
        assert_eq!(
            Failure::from_console_error(&checks).kind,
            FailureKind::Refused
        );
        let denied = FetchError {
            api: "compute.instances.get".into(),
            kind: FetchErrorKind::PermissionDenied,
            message: "HTTP 403".into(),
        };
        let failure = Failure::from_fetch_error(&denied);
        assert_eq!(failure.kind, FailureKind::GoogleDenied);
        assert!(failure.status_text("loading vm").contains("compute.viewer"));
    }
}
