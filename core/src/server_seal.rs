//! Secrets encrypted to the token server (DESIGN §5, approvals with `require_tpm = false`): HPKE
//! (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM. The console
//! seals, the server opens at release. The associated data binds a sealed secret to its instance and
//! name, so a store writer cannot move it to another approval. Wire form: `enc (32 bytes) || ciphertext`.

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use zeroize::Zeroizing;

type Kem = X25519HkdfSha256;

/// HPKE `info`: names this use of the key.
const INFO: &[u8] = b"tokendist/v1/secret-to-server";
const ENC_LEN: usize = 32;

/// Sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerSealError {
    #[error("the server public key is not a valid X25519 key")]
    BadPublicKey,
    #[error("the server secrets key is not a valid X25519 key")]
    BadPrivateKey,
    #[error("sealed secret is {0} bytes, shorter than the 32-byte encapsulated key")]
    Truncated(usize),
    #[error("sealed secret does not open with this server's key for this instance and name")]
    OpenFailed,
    #[error("sealing failed")]
    SealFailed,
}

/// The associated data that binds a sealed secret to one approval.
pub fn binding(instance_id: &str, secret_name: &str) -> Vec<u8> {
    format!("tokendist/v1|instance={instance_id}|secret={secret_name}").into_bytes()
}

/// A fresh X25519 key pair: (private, public).
pub fn generate_keypair<R: hpke::rand_core::CryptoRng + hpke::rand_core::RngCore>(
    rng: &mut R,
) -> (Zeroizing<[u8; 32]>, [u8; 32]) {
    let (private, public) = Kem::gen_keypair(rng);
    let mut private_bytes = Zeroizing::new([0u8; 32]);
    private_bytes.copy_from_slice(&private.to_bytes());
    let mut public_bytes = [0u8; 32];
    public_bytes.copy_from_slice(&public.to_bytes());
    (private_bytes, public_bytes)
}

/// The public key belonging to a private key.
pub fn public_of(private: &[u8; 32]) -> Result<[u8; 32], ServerSealError> {
    let private = <Kem as hpke::Kem>::PrivateKey::from_bytes(private)
        .map_err(|_| ServerSealError::BadPrivateKey)?;
    let public = Kem::sk_to_pk(&private);
    let mut out = [0u8; 32];
    out.copy_from_slice(&public.to_bytes());
    Ok(out)
}

/// Encrypts `plaintext` to the server's public key, bound to `aad` (see [`binding`]).
pub fn seal<R: hpke::rand_core::CryptoRng + hpke::rand_core::RngCore>(
    server_public: &[u8; 32],
    plaintext: &[u8],
    aad: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>, ServerSealError> {
    let public = <Kem as hpke::Kem>::PublicKey::from_bytes(server_public)
        .map_err(|_| ServerSealError::BadPublicKey)?;
    let (enc, ciphertext) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem, R>(
        &OpModeS::Base,
        &public,
        INFO,
        plaintext,
        aad,
        rng,
    )
    .map_err(|_| ServerSealError::SealFailed)?;
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts a sealed secret with the server's private key; the plaintext is zeroized on drop.
pub fn open(
    server_private: &[u8; 32],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ServerSealError> {
    if sealed.len() < ENC_LEN {
        return Err(ServerSealError::Truncated(sealed.len()));
    }
    let (enc, ciphertext) = sealed.split_at(ENC_LEN);
    let private = <Kem as hpke::Kem>::PrivateKey::from_bytes(server_private)
        .map_err(|_| ServerSealError::BadPrivateKey)?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
        .map_err(|_| ServerSealError::OpenFailed)?;
    hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        &private,
        &enc,
        INFO,
        ciphertext,
        aad,
    )
    .map(Zeroizing::new)
    .map_err(|_| ServerSealError::OpenFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secret_opens_only_with_the_right_key_and_binding() {
        let (private, public) = generate_keypair(&mut rand::rng());
        let aad = binding("6332740435730784933", "db-password");
        let sealed = seal(&public, b"hunter2", &aad, &mut rand::rng()).unwrap();
        assert!(
            !sealed.windows(7).any(|w| w == b"hunter2"),
            "ciphertext must not contain the plaintext"
        );
        assert_eq!(&open(&private, &sealed, &aad).unwrap()[..], b"hunter2");
        assert_eq!(
            open(&private, &sealed, &binding("1", "db-password")),
            Err(ServerSealError::OpenFailed)
        );
        let (other, _) = generate_keypair(&mut rand::rng());
        assert_eq!(
            open(&other, &sealed, &aad),
            Err(ServerSealError::OpenFailed)
        );
        assert_eq!(
            open(&private, &sealed[..10], &aad),
            Err(ServerSealError::Truncated(10))
        );
        assert_eq!(public_of(&private).unwrap(), public);
    }
}
