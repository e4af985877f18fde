//! `tokendist keygen`: Alice's Ed25519 approval key pair (`PREFIX.key`, `PREFIX.pub`), or with
//! `--server` the token server's keys in a directory: `receipt.key`/`.pub` (Ed25519, signs release
//! receipts) and `secrets.key`/`.pub` (X25519, opens secrets the console encrypted to the server).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use rand::RngCore as _;
use serde::Serialize;
use tokendist_core::keys;
use tokendist_core::server_seal;
use zeroize::Zeroizing;

use crate::error::ConsoleError;
use crate::files::{OutputFile, PRIVATE_MODE, PUBLIC_MODE, create_dir, write_all};

/// What `keygen` reports about one key pair it wrote (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// `approval`, `receipt` or `secrets`.
    pub role: &'static str,
    /// `ed25519` or `x25519`.
    pub algorithm: &'static str,
    pub private_key_file: PathBuf,
    pub public_key_file: PathBuf,
    /// [`keys::key_id`] of the raw public key.
    pub key_id: String,
    /// Standard base64 of the 32 raw public key bytes (what `trusted_approver_keys` takes).
    pub public_key_base64: String,
}

fn fresh_ed25519() -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(seed.as_mut());
    SigningKey::from_bytes(&seed)
}

fn pem_error(e: keys::KeyError) -> ConsoleError {
    ConsoleError::Failed(format!("could not encode the new key: {e}"))
}

/// Appends `suffix` to the file name of `prefix` (`alice` → `alice.key`).
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes an Ed25519 key pair to `private`/`public`.
fn write_ed25519(
    role: &'static str,
    private: PathBuf,
    public: PathBuf,
    force: bool,
) -> Result<KeyReport, ConsoleError> {
    let key = fresh_ed25519();
    let private_pem = keys::ed25519_private_to_pem(&key).map_err(pem_error)?;
    let public_pem = keys::ed25519_public_to_pem(&key.verifying_key()).map_err(pem_error)?;
    write_all(
        &[
            OutputFile {
                path: private.clone(),
                contents: private_pem.as_bytes(),
                mode: PRIVATE_MODE,
            },
            OutputFile {
                path: public.clone(),
                contents: public_pem.as_bytes(),
                mode: PUBLIC_MODE,
            },
        ],
        force,
    )?;
    let raw = key.verifying_key().to_bytes();
    Ok(KeyReport {
        role,
        algorithm: "ed25519",
        private_key_file: private,
        public_key_file: public,
        key_id: keys::key_id(&raw),
        public_key_base64: STANDARD.encode(raw),
    })
}

/// `tokendist keygen --out PREFIX`: Alice's approval key pair.
pub fn approval_keys(prefix: &Path, force: bool) -> Result<KeyReport, ConsoleError> {
    if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    write_ed25519(
        "approval",
        with_suffix(prefix, ".key"),
        with_suffix(prefix, ".pub"),
        force,
    )
}

/// `tokendist keygen --server --out DIR`: the server's receipt and secrets key pairs.
pub fn server_keys(dir: &Path, force: bool) -> Result<Vec<KeyReport>, ConsoleError> {
    create_dir(dir)?;
    let paths = [
        dir.join("receipt.key"),
        dir.join("receipt.pub"),
        dir.join("secrets.key"),
        dir.join("secrets.pub"),
    ];
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    crate::files::ensure_writable(&refs, force)?;
    let [receipt_key, receipt_pub, secrets_key, secrets_pub] = paths;
    let receipt = write_ed25519("receipt", receipt_key, receipt_pub, force)?;
    let (private, public) = server_seal::generate_keypair(&mut rand::rng());
    let private_pem = keys::x25519_private_to_pem(&private);
    let public_pem = keys::x25519_public_to_pem(&public);
    write_all(
        &[
            OutputFile {
                path: secrets_key.clone(),
                contents: private_pem.as_bytes(),
                mode: PRIVATE_MODE,
            },
            OutputFile {
                path: secrets_pub.clone(),
                contents: public_pem.as_bytes(),
                mode: PUBLIC_MODE,
            },
        ],
        force,
    )?;
    let secrets = KeyReport {
        role: "secrets",
        algorithm: "x25519",
        private_key_file: secrets_key,
        public_key_file: secrets_pub,
        key_id: keys::key_id(&public),
        public_key_base64: STANDARD.encode(public),
    };
    Ok(vec![receipt, secrets])
}

/// Human-readable lines for the reports.
pub fn render(reports: &[KeyReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!(
            "{} key ({}): {} (private, mode 0600) and {}\n  key id:     {}\n  public key: {}\n",
            r.role,
            r.algorithm,
            r.private_key_file.display(),
            r.public_key_file.display(),
            r.key_id,
            r.public_key_base64
        ));
    }
    out
}
