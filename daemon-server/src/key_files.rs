//! The server's key files, one reader each: trusted approver public keys (Ed25519), the receipt
//! signing key (Ed25519, created with mode 0600 when missing, or only checked to be creatable by
//! `--check-config`) and the secrets key (X25519) that opens secrets the console encrypted to this
//! server. [`crate::material`] reads them all and names the setting of each failure.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tokendist_core::keys;
use zeroize::Zeroizing;

use crate::config::KeysConfig;

/// A key file that cannot be used (a configuration error: exit 78). The setting that names the file
/// is added by the caller ([`crate::material`]).
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: keys::KeyError,
    },
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} does not exist and cannot be created on first start: {source}")]
    CannotCreate {
        path: PathBuf,
        source: tokendist_daemon_kit::writable::NotWritable,
    },
}

/// Whether a missing receipt key is created (at start) or only checked to be creatable (`--check-config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingReceiptKey {
    Create,
    CheckCreatable,
}

/// Key material in memory. Private keys are zeroized on drop (by their types).
#[derive(Clone)]
pub struct KeyMaterial {
    /// Trusted approver keys, as `Settings::trusted_approver_keys` expects them (base64 raw).
    pub trusted_approvers: Vec<String>,
    pub receipt_key: ed25519_dalek::SigningKey,
    /// X25519 private key for HPKE, when configured.
    pub secrets_key: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("trusted_approvers", &self.trusted_approvers)
            .field(
                "receipt_key_id",
                &keys::key_id(self.receipt_key.verifying_key().as_bytes()),
            )
            .field(
                "secrets_key",
                &self.secrets_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn read(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|source| KeyFileError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads the PEM at `path` and decodes it with `decode`.
fn decode<T>(
    path: &Path,
    decode: impl FnOnce(&str) -> Result<T, keys::KeyError>,
) -> Result<T, KeyFileError> {
    let pem = read(path)?;
    decode(pem.as_str()).map_err(|source| KeyFileError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// A trusted approver's public key, as `Settings::trusted_approver_keys` expects it (base64 raw).
pub fn trusted_approver(path: &Path) -> Result<String, KeyFileError> {
    let key = decode(path, keys::ed25519_public_from_pem)?;
    Ok(tokendist_core::settings::encode_verifying_key(&key))
}

/// Where the receipt key lives: the configured file, else `receipt.key` in `state_dir_default`.
pub fn receipt_key_path(config: &KeysConfig, state_dir_default: &Path) -> PathBuf {
    config
        .receipt_key
        .clone()
        .unwrap_or_else(|| state_dir_default.join("receipt.key"))
}

/// The receipt signing key at `path`; when the file does not exist, a new key, written there
/// (mode 0600) with [`MissingReceiptKey::Create`], or only checked to be creatable (then the key is
/// a throw-away one in memory).
pub fn receipt_key(
    path: &Path,
    missing: MissingReceiptKey,
) -> Result<ed25519_dalek::SigningKey, KeyFileError> {
    if path.exists() {
        return decode(path, keys::ed25519_private_from_pem);
    }
    match missing {
        MissingReceiptKey::Create => create_receipt_key(path),
        MissingReceiptKey::CheckCreatable => {
            let dir = path.parent().unwrap_or(Path::new("."));
            tokendist_daemon_kit::writable::check_dir_writable(dir).map_err(|source| {
                KeyFileError::CannotCreate {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            Ok(new_signing_key())
        }
    }
}

/// The X25519 secrets key at `path`.
pub fn secrets_key(path: &Path) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    decode(path, keys::x25519_private_from_pem)
}

fn new_signing_key() -> ed25519_dalek::SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::Rng::fill(&mut rand::rng(), &mut seed[..]);
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

fn create_receipt_key(path: &Path) -> Result<ed25519_dalek::SigningKey, KeyFileError> {
    let create_error = |source| KeyFileError::Create {
        path: path.to_path_buf(),
        source,
    };
    let key = new_signing_key();
    let pem = keys::ed25519_private_to_pem(&key)
        .map_err(|e| create_error(std::io::Error::other(e.to_string())))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(create_error)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(create_error)?;
    file.write_all(pem.as_bytes()).map_err(create_error)?;
    tracing::info!(path = %path.display(), key_id = %keys::key_id(key.verifying_key().as_bytes()), "created a new receipt signing key");
    Ok(key)
}
