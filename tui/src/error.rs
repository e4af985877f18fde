//! `ConsoleError`: every way a subcommand fails, each mapped to one documented exit code
//! ([`crate::exit`]). Messages say what went wrong and what to do; they never contain secret values.

use std::path::Path;

use tokendist_store::StoreError;

use crate::exit;

/// Why a subcommand did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The command line asks for something this build cannot do, or combines options wrongly.
    #[error("{0}")]
    Usage(String),
    /// A check failed or the operator did not confirm; nothing was written.
    #[error("refused: {0}")]
    Refused(String),
    /// The approval changed between reading and writing it.
    #[error("conflict: {0}; another writer changed the approval, run the command again")]
    Conflict(String),
    /// The store URL, settings file or Google endpoints are unusable.
    #[error("configuration error: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// A file exists where a new key or certificate would be written.
    #[error("{path} already exists; pass --force to overwrite it (the old key is lost)")]
    WouldOverwrite { path: String },
    /// An input file (key, secrets.json) is malformed.
    #[error("{path}: {message}")]
    BadInput { path: String, message: String },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[source] StoreError),
    /// Checks failed and no reason was given to approve anyway; nothing was written.
    #[error("refused: {} check(s) failed: {}; fix the VM, or give a reason to approve anyway (--force --reason TEXT)", failed.len(), failed.join(", "))]
    ChecksFailed { failed: Vec<String> },
    /// Secrets would be encrypted to the token server, but its public key was not given.
    #[error(
        "--no-tpm encrypts the secrets to the token server: pass its public key with --server-key secrets.pub (from `tokendist keygen --server`)"
    )]
    ServerKeyNeeded,
    /// Google could not read the instance (name, project, zone or access is wrong).
    #[error("the instance could not be read ({0}); check the name, project, zone and your access")]
    InstanceUnreadable(String),
    /// The store has no approval for the VM named.
    #[error("no approval for {0:?} in the store; `tokendist list` shows the approved VMs")]
    NoApproval(String),
    /// The approval is already revoked.
    #[error("the approval of {name} (id {instance_id}) was already revoked at {}", at.to_rfc3339())]
    AlreadyRevoked {
        name: String,
        instance_id: String,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// A revocation without a reason.
    #[error("the reason is empty; say why the approval is revoked")]
    EmptyReason,
    /// The SQLite store file does not exist and creating it was not asked for.
    #[error(
        "configuration error: the store {path} does not exist; check --store, or pass --create to create an empty store there"
    )]
    StoreMissing { path: String },
    /// Stdout was closed by its reader (`| head -1`): the command ends quietly.
    #[error("stdout was closed by its reader")]
    OutputClosed,
    /// Anything else that went wrong at run time.
    #[error("{0}")]
    Failed(String),
}

impl ConsoleError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => exit::USAGE,
            Self::Refused(_) => exit::REFUSED,
            Self::Conflict(_) => exit::CONFLICT,
            Self::Config(_) | Self::StoreMissing { .. } => exit::CONFIG,
            Self::ChecksFailed { .. } => exit::REFUSED,
            Self::OutputClosed => exit::OUTPUT_CLOSED,
            Self::EmptyReason | Self::ServerKeyNeeded => exit::USAGE,
            Self::Store(StoreError::Conflict { .. }) => exit::CONFLICT,
            Self::Store(StoreError::Config(_)) => exit::CONFIG,
            Self::File { .. }
            | Self::WouldOverwrite { .. }
            | Self::BadInput { .. }
            | Self::Store(_)
            | Self::InstanceUnreadable(_)
            | Self::NoApproval(_)
            | Self::AlreadyRevoked { .. }
            | Self::Failed(_) => exit::ERROR,
        }
    }

    pub(crate) fn file(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::File {
            action,
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn bad_input(path: &Path, message: impl Into<String>) -> Self {
        Self::BadInput {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

impl From<StoreError> for ConsoleError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { what, detail } => Self::Conflict(format!("{what}: {detail}")),
            other => Self::Store(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_conflicts_and_configuration_errors_get_their_own_exit_codes() {
        let conflict = ConsoleError::from(StoreError::Conflict {
            what: tokendist_store::Record::new(tokendist_store::RecordKind::Approval, "1"),
            detail: "revision 2, expected 1".into(),
        });
        assert_eq!(conflict.exit_code(), exit::CONFLICT);
        let config = ConsoleError::from(StoreError::Config("unknown scheme".into()));
        assert_eq!(config.exit_code(), exit::CONFIG);
        let down = ConsoleError::from(StoreError::Unavailable {
            outage: tokendist_store::Outage::Locked,
            detail: "locked".into(),
        });
        assert_eq!(down.exit_code(), exit::ERROR);
        assert_eq!(ConsoleError::Refused("x".into()).exit_code(), exit::REFUSED);
    }
}
