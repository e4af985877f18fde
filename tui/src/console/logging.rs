//! Where the console logs: a file (`--log-file`, else `$XDG_STATE_HOME/tokendist/console.log`, else
//! `~/.local/state/tokendist/console.log`), never the terminal it draws on.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The log file to use.
pub fn log_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_owned();
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state.join("tokendist").join("console.log")
}

/// Opens `path` for appending (creating its directory, mode 0700, and the file, mode 0600).
pub fn open_log(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_log_file_wins_and_is_created_with_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs").join("console.log");
        assert_eq!(log_path(Some(&path)), path);
        open_log(&path).unwrap();
        assert!(path.exists());
    }
}
