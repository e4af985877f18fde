//! tokendist-e2e: end-to-end tests of the real binaries (see `tests/`). The library only finds the
//! binaries: they are looked up next to the test executable (`target/<profile>/`), where
//! `cargo build --workspace --bins` (run by `make test`) puts them.

use std::path::{Path, PathBuf};

/// The binaries the end-to-end tests run.
pub const BINARIES: [&str; 4] = ["gcpsim", "tokenserver", "tokendist", "tokenclient"];

/// A binary the tests need is not built.
#[derive(Debug, thiserror::Error)]
#[error(
    "{name} is not built (looked for {path}); run `cargo build --workspace --bins` (or `make test`) first"
)]
pub struct MissingBinary {
    pub name: String,
    pub path: PathBuf,
}

/// The profile directory holding the workspace binaries, from the test executable's path
/// (`target/<profile>/deps/TEST-HASH`).
pub fn profile_dir(test_executable: &Path) -> Option<PathBuf> {
    let deps = test_executable.parent()?;
    let profile = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent()?
    } else {
        deps
    };
    Some(profile.to_path_buf())
}

/// The path of binary `name`, or why it is missing.
pub fn binary(name: &str) -> Result<PathBuf, MissingBinary> {
    let exe = std::env::current_exe().unwrap_or_default();
    let path = profile_dir(&exe).unwrap_or_default().join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(MissingBinary {
            name: name.to_string(),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_looked_up_in_the_profile_directory_above_deps() {
        assert_eq!(
            profile_dir(Path::new("/w/target/debug/deps/e2e-0123")),
            Some(PathBuf::from("/w/target/debug"))
        );
    }

    #[test]
    fn a_missing_binary_says_how_to_build_it() {
        let error = binary("no-such-binary-xyz").unwrap_err();
        assert!(error.to_string().contains("cargo build --workspace --bins"));
    }
}
