//! The server's key material, read from the files the configuration names: trusted approver public
//! keys (Ed25519), the receipt signing key (Ed25519, created with mode 0600 when missing) and the
//! secrets key (X25519) that opens secrets the console encrypted to this server.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tokendist_core::keys;
use zeroize::Zeroizing;

use crate::config::KeysConfig;

/// A key file that cannot be used (a configuration error: exit 78).
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {path}: {source}")]
    Parse {
        what: &'static str,
        path: PathBuf,
        source: keys::KeyError,
    },
    #[error("cannot create {what} {path}: {source}")]
    Create {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
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

fn read(what: &'static str, path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|source| KeyFileError::Read {
            what,
            path: path.to_path_buf(),
            source,
        })
}

/// Reads every configured key; creates the receipt key when its file does not exist yet.
pub fn load(config: &KeysConfig, state_dir_default: &Path) -> Result<KeyMaterial, KeyFileError> {
    let mut trusted_approvers = Vec::new();
    for path in &config.trusted_approvers {
        let pem = read("trusted approver key", path)?;
        let key = keys::ed25519_public_from_pem(&pem).map_err(|source| KeyFileError::Parse {
            what: "trusted approver key",
            path: path.clone(),
            source,
        })?;
        trusted_approvers.push(tokendist_core::settings::encode_verifying_key(&key));
    }
    let receipt_path = config
        .receipt_key
        .clone()
        .unwrap_or_else(|| state_dir_default.join("receipt.key"));
    let receipt_key = if receipt_path.exists() {
        let pem = read("receipt key", &receipt_path)?;
        keys::ed25519_private_from_pem(&pem).map_err(|source| KeyFileError::Parse {
            what: "receipt key",
            path: receipt_path.clone(),
            source,
        })?
    } else {
        create_receipt_key(&receipt_path)?
    };
    let secrets_key = match &config.secrets_key {
        Some(path) => {
            let pem = read("secrets key", path)?;
            Some(
                keys::x25519_private_from_pem(&pem).map_err(|source| KeyFileError::Parse {
                    what: "secrets key",
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    Ok(KeyMaterial {
        trusted_approvers,
        receipt_key,
        secrets_key,
    })
}

fn create_receipt_key(path: &Path) -> Result<ed25519_dalek::SigningKey, KeyFileError> {
    let create_error = |source| KeyFileError::Create {
        what: "receipt key",
        path: path.to_path_buf(),
        source,
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::Rng::fill(&mut rand::rng(), &mut seed[..]);
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
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
