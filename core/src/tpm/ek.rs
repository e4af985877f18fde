//! EK public keys between TPM and PEM form: Compute's shielded identity serves the EK as an SPKI
//! "PUBLIC KEY" PEM (`encryptionKey.ekPub`); the client sends the TPM's TPMT_PUBLIC.

use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};

use super::errors::EkError;
use super::params::RsaParameters;
use super::public::{PublicParameters, TpmtPublic};

/// Parses an SPKI "PUBLIC KEY" PEM holding an RSA key.
pub fn ek_public_from_pem(pem: &str) -> Result<RsaPublicKey, EkError> {
    RsaPublicKey::from_public_key_pem(pem.trim()).map_err(|e| EkError::Pem(e.to_string()))
}

/// The RSA key of an EK's TPMT_PUBLIC.
fn rsa_key_of(ek: &TpmtPublic) -> Result<RsaPublicKey, EkError> {
    if !matches!(ek.parameters, PublicParameters::Rsa(_)) {
        return Err(EkError::NotRsa {
            found: ek.object_type(),
        });
    }
    ek.rsa_public_key().map_err(EkError::Key)
}

/// Whether the EK's modulus and exponent equal those of the PEM key. Any parse failure is `false`.
pub fn ek_matches_pem(ek: &TpmtPublic, pem: &str) -> bool {
    match (rsa_key_of(ek), ek_public_from_pem(pem)) {
        (Ok(tpm_key), Ok(pem_key)) => tpm_key.n() == pem_key.n() && tpm_key.e() == pem_key.e(),
        _ => false,
    }
}

/// The EK's RSA key as an SPKI "PUBLIC KEY" PEM (LF line endings).
pub fn ek_public_to_pem(ek: &TpmtPublic) -> Result<String, EkError> {
    rsa_key_of(ek)?
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| EkError::Key(e.to_string()))
}

/// The TPMT_PUBLIC of a default-template RSA-2048 EK (AES-128-CFB, PolicySecret(endorsement)) with
/// the PEM's key: what the server and console seal to when they know the EK only from Compute's
/// shielded identity.
pub fn ek_template_from_pem(pem: &str) -> Result<TpmtPublic, EkError> {
    let key = ek_public_from_pem(pem)?;
    let bits = key.n().bits();
    if bits != 2048 {
        return Err(EkError::KeyBits { bits });
    }
    let mut modulus = key.n().to_bytes_be();
    while modulus.len() < key.size() {
        modulus.insert(0, 0);
    }
    let mut ek = TpmtPublic::rsa_ek(modulus);
    if key.e() != &BigUint::from(65537u32) {
        let e_bytes = key.e().to_bytes_be();
        let mut padded = [0u8; 4];
        let start = padded
            .len()
            .checked_sub(e_bytes.len())
            .ok_or_else(|| EkError::Key("public exponent does not fit 32 bits".into()))?;
        padded[start..].copy_from_slice(&e_bytes);
        let exponent = u32::from_be_bytes(padded);
        if let PublicParameters::Rsa(RsaParameters {
            exponent: field, ..
        }) = &mut ek.parameters
        {
            *field = exponent;
        }
    }
    Ok(ek)
}
