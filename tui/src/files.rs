//! Writing key and certificate files safely: private material is created with mode 0600 from the
//! first byte (never chmod-ed afterwards), nothing is overwritten without `--force`, and each file is
//! written to a temporary name and renamed, so a crash never leaves half a key behind.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use rand::RngCore as _;

use crate::error::ConsoleError;

/// Permissions of a private key file.
pub const PRIVATE_MODE: u32 = 0o600;
/// Permissions of a public key or certificate file.
pub const PUBLIC_MODE: u32 = 0o644;

/// One file to write: where, what, and how readable.
#[derive(Debug)]
pub struct OutputFile<'a> {
    pub path: PathBuf,
    pub contents: &'a [u8],
    pub mode: u32,
}

/// Refuses (before writing anything) when any of `paths` exists and `force` is not set.
pub fn ensure_writable(paths: &[&Path], force: bool) -> Result<(), ConsoleError> {
    if force {
        return Ok(());
    }
    for path in paths {
        if path.exists() {
            return Err(ConsoleError::WouldOverwrite {
                path: path.display().to_string(),
            });
        }
    }
    Ok(())
}

/// Writes every file (after [`ensure_writable`] for all of them), each atomically with its mode.
pub fn write_all(files: &[OutputFile<'_>], force: bool) -> Result<(), ConsoleError> {
    let paths: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    ensure_writable(&paths, force)?;
    for file in files {
        write_atomically(&file.path, file.contents, file.mode)?;
    }
    Ok(())
}

/// Creates the directory (and parents) if missing.
pub fn create_dir(dir: &Path) -> Result<(), ConsoleError> {
    std::fs::create_dir_all(dir).map_err(|e| ConsoleError::file("create directory", dir, e))
}

fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), ConsoleError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.tmp-{:08x}", rand::rng().next_u32()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = result {
        // Best effort: the temporary file holds at most a partial copy of the same material.
        let _ = std::fs::remove_file(&temporary);
        return Err(ConsoleError::file("write", path, e));
    }
    Ok(())
}

/// Reads a text file, naming it in the error.
pub fn read_text(path: &Path, what: &'static str) -> Result<String, ConsoleError> {
    std::fs::read_to_string(path).map_err(|e| ConsoleError::file(what, path, e))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn private_files_are_created_0600_and_never_overwritten_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        let file = |contents: &'static [u8]| OutputFile {
            path: path.clone(),
            contents,
            mode: PRIVATE_MODE,
        };
        write_all(&[file(b"one")], false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            write_all(&[file(b"two")], false),
            Err(ConsoleError::WouldOverwrite { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_all(&[file(b"two")], true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }
}
