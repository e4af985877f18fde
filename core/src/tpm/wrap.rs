//! The outer wrapper shared by MakeCredential and duplication (TPM 2.0 Part 1, 24.4/24.5): a random
//! seed, RSA-OAEP-encrypted to the parent (EK) with a label, from which KDFa derives an AES-CFB key
//! (bound to the protected object's Name) and an HMAC key for the integrity digest.

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::{Oaep, RsaPublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::alg::*;
use super::errors::TpmError;
use super::kdf::{hmac_sha256, kdfa_sha256};
use super::marshal::{Reader, put_tpm2b};
use super::params::SymmetricDefinition;
use super::public::{PublicParameters, TpmtPublic};

/// OAEP label for MakeCredential (the trailing NUL is part of the label).
pub const LABEL_IDENTITY: &str = "IDENTITY\0";
/// OAEP label for duplication / import (the trailing NUL is part of the label).
pub const LABEL_DUPLICATE: &str = "DUPLICATE\0";

/// The parts of an RSA storage parent (EK) the outer wrapper needs.
#[derive(Debug, Clone)]
pub struct StorageParent {
    key: RsaPublicKey,
    symmetric_key_bits: u16,
}

impl StorageParent {
    /// Checks that `ek` can be a storage parent: RSA, SHA-256 name algorithm, AES-CFB 128/256.
    pub fn from_public(ek: &TpmtPublic) -> Result<Self, TpmError> {
        let PublicParameters::Rsa(parameters) = &ek.parameters else {
            return Err(TpmError::EkNotRsa {
                found: ek.object_type(),
            });
        };
        if ek.name_alg != ALG_SHA256 {
            return Err(TpmError::EkNameAlg { found: ek.name_alg });
        }
        let symmetric_key_bits = match parameters.symmetric {
            SymmetricDefinition::Cipher {
                algorithm: ALG_AES,
                key_bits: bits @ (128 | 256),
                mode: ALG_CFB,
            } => bits,
            _ => return Err(TpmError::EkSymmetric),
        };
        let key = ek.rsa_public_key().map_err(TpmError::EkKey)?;
        Ok(Self {
            key,
            symmetric_key_bits,
        })
    }

    /// The parent's AES key size in bits (128 for the default EK).
    pub fn symmetric_key_bits(&self) -> u16 {
        self.symmetric_key_bits
    }
}

/// A deterministic CSPRNG from a caller-supplied 32-byte random seed (core never reads OS randomness).
pub(crate) fn rng_from_seed(seed: [u8; 32]) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(seed)
}

/// A wrapped blob: `TPM2B(outerHMAC) || encData` and the OAEP-encrypted seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// `00 20 | HMAC[32] | AES-CFB(plaintext)`.
    pub blob: Vec<u8>,
    /// RSA-OAEP(seed): the content of a TPM2B_ENCRYPTED_SECRET.
    pub encrypted_seed: Vec<u8>,
}

/// Wraps `plaintext` (already size-prefixed by the caller) for `parent`, bound to `name`.
pub fn outer_wrap(
    parent: &StorageParent,
    label: &str,
    name: &[u8],
    plaintext: &[u8],
    rng: &mut ChaCha20Rng,
) -> Result<Wrapped, TpmError> {
    let mut seed = Zeroizing::new([0u8; SHA256_SIZE]);
    rng.fill_bytes(seed.as_mut());
    let encrypted_seed = parent
        .key
        .encrypt(rng, Oaep::new_with_label::<Sha256, _>(label), seed.as_ref())
        .map_err(|e| TpmError::Encrypt(e.to_string()))?;
    let blob = wrap_with_seed(seed.as_ref(), parent.symmetric_key_bits, name, plaintext)?;
    Ok(Wrapped {
        blob,
        encrypted_seed,
    })
}

fn cfb_apply(key: &[u8], data: &mut [u8], encrypt: bool) -> Result<(), TpmError> {
    let iv = [0u8; 16];
    let bad_key = |_| TpmError::EkSymmetric;
    match (key.len(), encrypt) {
        (16, true) => cfb_mode::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .map_err(bad_key)?
            .encrypt(data),
        (16, false) => cfb_mode::Decryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .map_err(bad_key)?
            .decrypt(data),
        (32, true) => cfb_mode::Encryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .map_err(bad_key)?
            .encrypt(data),
        (32, false) => cfb_mode::Decryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .map_err(bad_key)?
            .decrypt(data),
        _ => return Err(TpmError::EkSymmetric),
    }
    Ok(())
}

/// The wrapper with a known seed: symKey = KDFa(seed, "STORAGE", name, "", key_bits), hmacKey =
/// KDFa(seed, "INTEGRITY", "", "", 256), encData = AES-CFB(symKey, IV 0, plaintext), blob =
/// `TPM2B(HMAC(hmacKey, encData || name)) || encData`.
pub fn wrap_with_seed(
    seed: &[u8],
    symmetric_key_bits: u16,
    name: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, TpmError> {
    let sym_key = kdfa_sha256(seed, b"STORAGE", name, &[], u32::from(symmetric_key_bits))?;
    let hmac_key = kdfa_sha256(seed, b"INTEGRITY", &[], &[], 256)?;
    let mut enc_data = plaintext.to_vec();
    cfb_apply(&sym_key, &mut enc_data, true)?;
    let outer_hmac = hmac_sha256(&hmac_key, &[&enc_data, name])?;
    let mut blob = Vec::with_capacity(2 + outer_hmac.len() + enc_data.len());
    put_tpm2b(&mut blob, &outer_hmac, "outer HMAC")?;
    blob.extend_from_slice(&enc_data);
    Ok(blob)
}

/// Reverses [`wrap_with_seed`], checking the integrity HMAC first (what the TPM does with the
/// decrypted seed). For tests and tools that hold the seed; a real client uses its TPM.
pub fn unwrap_with_seed(
    seed: &[u8],
    symmetric_key_bits: u16,
    name: &[u8],
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let mut reader = Reader::new(blob);
    let outer_hmac = reader.tpm2b("outer HMAC", SHA256_SIZE)?;
    let enc_data = reader.take(reader.remaining(), "encrypted data")?;
    let hmac_key = kdfa_sha256(seed, b"INTEGRITY", &[], &[], 256)?;
    let expected = hmac_sha256(&hmac_key, &[enc_data, name])?;
    if !constant_time_eq(&expected, outer_hmac) {
        return Err(TpmError::Integrity);
    }
    let sym_key = kdfa_sha256(seed, b"STORAGE", name, &[], u32::from(symmetric_key_bits))?;
    let mut plaintext = Zeroizing::new(enc_data.to_vec());
    cfb_apply(&sym_key, &mut plaintext, false)?;
    Ok(plaintext)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
