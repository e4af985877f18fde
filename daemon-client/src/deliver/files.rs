//! Secret files: the directory is created (or tightened) to mode 0700, every file is written 0600
//! through a temporary file in the same directory, fsynced, renamed over the target and the
//! directory fsynced, so a reader sees the old content or the new, never a partial file. A
//! temporary file left by a write that never finished (tokenclient killed between create and rename)
//! holds part of a secret: preparing the directory removes every such leftover.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::Rng;

use crate::secrets::SecretValue;

/// Why a secret file could not be written or removed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(
        "secret name {0:?} cannot be a file name (use letters, digits, '.', '_', '-'; not starting with '.')"
    )]
    BadName(String),
    #[error("{what} {path}: {source}; check the directory exists and is writable by tokenclient")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DeliveryError {
    let path = path.to_path_buf();
    move |source| DeliveryError::Io { what, path, source }
}

/// Whether `name` is safe as a single file name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `file_name` is the temporary file of an atomic write: `.NAME.tmp-XXXXXXXXXXXXXXXX`.
fn is_unfinished_write(file_name: &str) -> bool {
    let Some(rest) = file_name.strip_prefix('.') else {
        return false;
    };
    let Some((name, suffix)) = rest.rsplit_once(".tmp-") else {
        return false;
    };
    valid_name(name) && suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The directory secrets are written to.
#[derive(Debug, Clone)]
pub struct SecretDir {
    dir: PathBuf,
}

impl SecretDir {
    /// Creates the directory (and parents) and sets it to 0700.
    pub fn prepare(dir: &Path) -> Result<SecretDir, DeliveryError> {
        fs::create_dir_all(dir).map_err(io("cannot create the secrets directory", dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io("cannot set mode 0700 on", dir))?;
        let secret_dir = SecretDir {
            dir: dir.to_path_buf(),
        };
        secret_dir.remove_unfinished_writes()?;
        Ok(secret_dir)
    }

    /// Removes the temporary files of writes that never reached their rename (their names are
    /// `.NAME.tmp-` and 16 hex digits, as [`SecretDir::write_atomic`] makes them); other files are
    /// left alone. Returns how many were removed.
    pub fn remove_unfinished_writes(&self) -> Result<usize, DeliveryError> {
        let entries = fs::read_dir(&self.dir).map_err(io("cannot list", &self.dir))?;
        let mut removed = 0;
        for entry in entries {
            let entry = entry.map_err(io("cannot list", &self.dir))?;
            let name = entry.file_name();
            if !name.to_str().is_some_and(is_unfinished_write) {
                continue;
            }
            let path = entry.path();
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io("cannot remove", &path)(error)),
            }
        }
        Ok(removed)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes every secret, then removes files of `previous` names no longer present.
    pub fn write_all(
        &self,
        secrets: &[SecretValue],
        previous: &[String],
    ) -> Result<(), DeliveryError> {
        for secret in secrets {
            if !valid_name(secret.name()) {
                return Err(DeliveryError::BadName(secret.name().to_string()));
            }
        }
        for secret in secrets {
            self.write_atomic(secret.name(), secret.expose())?;
        }
        let stale: Vec<String> = previous
            .iter()
            .filter(|name| secrets.iter().all(|s| s.name() != name.as_str()))
            .cloned()
            .collect();
        self.remove(&stale)
    }

    /// Writes one file atomically with mode 0600.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), DeliveryError> {
        if !valid_name(name) {
            return Err(DeliveryError::BadName(name.to_string()));
        }
        let target = self.dir.join(name);
        let suffix: u64 = rand::rng().random();
        let temp = self.dir.join(format!(".{name}.tmp-{suffix:016x}"));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)
                .map_err(io("cannot create", &temp))?;
            file.write_all(bytes).map_err(io("cannot write", &temp))?;
            file.sync_all().map_err(io("cannot fsync", &temp))?;
            fs::rename(&temp, &target).map_err(io("cannot rename into place", &target))?;
            fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io("cannot fsync", &self.dir))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Removes the named files (missing ones are fine).
    pub fn remove(&self, names: &[String]) -> Result<(), DeliveryError> {
        for name in names.iter().filter(|n| valid_name(n)) {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io("cannot remove", &path)(error)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretKind;
    use zeroize::Zeroizing;

    fn secret(name: &str, bytes: &[u8]) -> SecretValue {
        SecretValue::new(name, SecretKind::Raw, Zeroizing::new(bytes.to_vec()))
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directory_is_0700_and_files_are_0600_with_exact_content() {
        let root = tempfile::tempdir().unwrap();
        let dir_path = root.path().join("run/secrets");
        let dir = SecretDir::prepare(&dir_path).unwrap();
        dir.write_all(&[secret("db-password", b"s3cret\x00\xff")], &[])
            .unwrap();
        assert_eq!(mode(&dir_path), 0o700);
        let file = dir_path.join("db-password");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).unwrap(), b"s3cret\x00\xff");
    }

    #[test]
    fn an_existing_loose_directory_is_tightened_to_0700() {
        let root = tempfile::tempdir().unwrap();
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
        SecretDir::prepare(root.path()).unwrap();
        assert_eq!(mode(root.path()), 0o700);
    }

    #[test]
    fn rewrite_replaces_content_and_leaves_no_temporary_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = SecretDir::prepare(root.path()).unwrap();
        dir.write_atomic("token", b"first version, longer").unwrap();
        dir.write_atomic("token", b"second").unwrap();
        assert_eq!(fs::read(root.path().join("token")).unwrap(), b"second");
        let names: Vec<String> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["token".to_string()]);
    }

    #[test]
    fn preparing_removes_what_an_interrupted_write_left_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let leftovers = [
            ".db-password.tmp-00ff00ff00ff00ff",
            ".a.b.tmp-0123456789abcdef",
        ];
        let kept = [
            "db-password",
            ".db-password.tmp-short",
            ".tmp-0123456789abcdef",
            "x.tmp-0123456789abcdef",
            ".bashrc",
        ];
        for name in leftovers.iter().chain(&kept) {
            fs::write(root.path().join(name), b"part of a secret").unwrap();
        }
        let dir = SecretDir::prepare(root.path()).unwrap();
        let mut names: Vec<String> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = kept.iter().map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(dir.remove_unfinished_writes().unwrap(), 0);
    }

    #[test]
    fn a_reader_never_sees_a_partial_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = SecretDir::prepare(root.path()).unwrap();
        let big_a = vec![b'a'; 1 << 20];
        let big_b = vec![b'b'; 1 << 20];
        dir.write_atomic("blob", &big_a).unwrap();
        let path = root.path().join("blob");
        let reader = std::thread::spawn(move || {
            for _ in 0..200 {
                let content = fs::read(&path).unwrap();
                assert_eq!(content.len(), 1 << 20);
                assert!(content.iter().all(|b| *b == content[0]), "mixed content");
            }
        });
        for round in 0..20 {
            dir.write_atomic("blob", if round % 2 == 0 { &big_b } else { &big_a })
                .unwrap();
        }
        reader.join().unwrap();
    }

    #[test]
    fn stale_secrets_are_removed_and_remove_is_idempotent() {
        let root = tempfile::tempdir().unwrap();
        let dir = SecretDir::prepare(root.path()).unwrap();
        dir.write_all(&[secret("a", b"1"), secret("b", b"2")], &[])
            .unwrap();
        dir.write_all(&[secret("a", b"1")], &["a".into(), "b".into()])
            .unwrap();
        assert!(root.path().join("a").exists());
        assert!(!root.path().join("b").exists());
        dir.remove(&["a".into(), "a".into(), "never-written".into()])
            .unwrap();
        assert!(!root.path().join("a").exists());
    }

    #[test]
    fn path_traversal_names_are_refused_before_anything_is_written() {
        let root = tempfile::tempdir().unwrap();
        let dir = SecretDir::prepare(&root.path().join("s")).unwrap();
        for bad in ["../escape", "a/b", ".hidden", "", "x y"] {
            let error = dir
                .write_all(&[secret("ok", b"1"), secret(bad, b"2")], &[])
                .unwrap_err();
            assert!(matches!(error, DeliveryError::BadName(_)), "{bad}: {error}");
        }
        assert!(!root.path().join("s/ok").exists());
        assert!(!root.path().join("escape").exists());
    }
}
