//! Whether a daemon could create a file at a path it will write later (a key created on first
//! start, a secrets directory): the nearest existing directory on the way is probed by creating and
//! removing a file in it, the only test that agrees with the kernel (permissions, read-only mounts).

use std::path::{Path, PathBuf};

/// Why a path could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot create files in {dir}: {source}")]
pub struct NotWritable {
    pub dir: PathBuf,
    pub source: std::io::Error,
}

/// Checks that `dir` (or, when it does not exist yet, its nearest existing ancestor) accepts a new
/// file. Leaves nothing behind.
pub fn check_dir_writable(dir: &Path) -> Result<(), NotWritable> {
    let existing = dir
        .ancestors()
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| Path::new("."));
    let probe = existing.join(format!(".tokendist-probe-{}", std::process::id()));
    let error = |source| NotWritable {
        dir: existing.to_path_buf(),
        source,
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(error)?;
    std::fs::remove_file(&probe).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_under_a_writable_one_is_writable_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        check_dir_writable(&dir.path().join("a/b")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_read_only_directory_is_not() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
        let result = check_dir_writable(&dir.path().join("keys"));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        // root ignores the mode; the check is then rightly "writable".
        if !is_root() {
            assert!(result.is_err());
        }
    }

    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
    }
}
