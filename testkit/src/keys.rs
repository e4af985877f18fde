//! The key files a test server is configured with: Alice's approver key (the public half as a file,
//! the private half kept to sign approvals), the receipt signing key, and the X25519 secrets key that
//! opens secrets the console encrypts to the server.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use tokendist_core::keys;

/// An approver: the signing key and the public key file the server trusts.
pub struct Approver {
    pub key: SigningKey,
    pub public_path: PathBuf,
}

impl std::fmt::Debug for Approver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approver")
            .field("public_path", &self.public_path)
            .finish_non_exhaustive()
    }
}

impl Approver {
    /// A fresh approver whose public key is written to `dir/NAME.pub.pem`.
    pub fn create(dir: &Path, name: &str) -> Approver {
        let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let public_path = dir.join(format!("{name}.pub.pem"));
        std::fs::write(
            &public_path,
            keys::ed25519_public_to_pem(&key.verifying_key()).unwrap(),
        )
        .unwrap();
        Approver { key, public_path }
    }
}

/// Every key a server needs, written under one directory.
pub struct ServerKeys {
    pub alice: Approver,
    pub receipt: SigningKey,
    pub receipt_path: PathBuf,
    pub secrets_public: [u8; 32],
    pub secrets_path: PathBuf,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("alice", &self.alice)
            .field("receipt_path", &self.receipt_path)
            .field("secrets_path", &self.secrets_path)
            .finish_non_exhaustive()
    }
}

impl ServerKeys {
    pub fn create(dir: &Path) -> ServerKeys {
        let alice = Approver::create(dir, "alice");
        let receipt = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let receipt_path = dir.join("receipt.key");
        std::fs::write(
            &receipt_path,
            keys::ed25519_private_to_pem(&receipt).unwrap().as_str(),
        )
        .unwrap();
        let (secrets_private, secrets_public) =
            tokendist_core::server_seal::generate_keypair(&mut rand::rng());
        let secrets_path = dir.join("secrets.key");
        std::fs::write(
            &secrets_path,
            keys::x25519_private_to_pem(&secrets_private).as_str(),
        )
        .unwrap();
        ServerKeys {
            alice,
            receipt,
            receipt_path,
            secrets_public,
            secrets_path,
        }
    }
}
