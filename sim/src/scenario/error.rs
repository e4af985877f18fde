//! `ScenarioError`: everything that can be wrong with a scenario file, naming file, field and problem.

use std::path::PathBuf;

/// A scenario file could not be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file itself could not be read.
    #[error("cannot read scenario file {file}: {source}; check the path and its permissions")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown/mistyped fields.
    #[error("scenario file {file} is not valid: {message}")]
    Parse { file: PathBuf, message: String },
    /// A field has a value gcpsim cannot accept.
    #[error("scenario file {file}: field `{field}`: {problem}")]
    Invalid {
        file: PathBuf,
        field: String,
        problem: String,
    },
    /// A file named by a field (user-data, EK public key, ...) could not be read.
    #[error(
        "scenario file {file}: field `{field}` names {referenced}, which cannot be read ({source}); paths are relative to the scenario file's directory"
    )]
    MissingFile {
        file: PathBuf,
        field: String,
        referenced: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
