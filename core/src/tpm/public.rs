//! TPMT_PUBLIC / TPM2B_PUBLIC for RSA and KEYEDHASH objects: reader, writer, templates, and the
//! object Name (`nameAlg || SHA-256(TPMT_PUBLIC)`).

use rsa::{BigUint, RsaPublicKey};
use sha2::{Digest, Sha256};

use super::alg::*;
use super::attributes::ObjectAttributes;
use super::errors::{MarshalError, TpmError};
use super::marshal::{Reader, TPM2B_MAX, put_tpm2b, put_u16, put_u32};
use super::params::{RsaParameters, Scheme, SymmetricDefinition};

/// Largest RSA modulus a TPM2B_PUBLIC_KEY_RSA holds (4096 bits).
pub const MAX_RSA_KEY_BYTES: usize = 512;
/// Largest digest (TPM2B_DIGEST): SHA-512.
pub const MAX_DIGEST_BYTES: usize = 64;

/// The type-specific parameters of a public area (TPMU_PUBLIC_PARMS); they also decide its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicParameters {
    /// TPM_ALG_RSA with TPMS_RSA_PARMS.
    Rsa(RsaParameters),
    /// TPM_ALG_KEYEDHASH with its TPMT_KEYEDHASH_SCHEME.
    KeyedHash { scheme: Scheme },
}

/// A TPMT_PUBLIC of an RSA or KEYEDHASH object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmtPublic {
    pub name_alg: u16,
    pub attributes: ObjectAttributes,
    pub auth_policy: Vec<u8>,
    pub parameters: PublicParameters,
    /// RSA: the modulus (big-endian). KEYEDHASH: the digest binding the sensitive data.
    pub unique: Vec<u8>,
}

impl TpmtPublic {
    /// The TPM_ALG_ID of the object type.
    pub fn object_type(&self) -> u16 {
        match self.parameters {
            PublicParameters::Rsa(_) => ALG_RSA,
            PublicParameters::KeyedHash { .. } => ALG_KEYEDHASH,
        }
    }

    /// The default TCG EK template (RSA-2048, AES-128-CFB, PolicySecret(endorsement)) around
    /// a modulus, as swtpm and GCE vTPMs create it.
    pub fn rsa_ek(modulus: Vec<u8>) -> Self {
        Self {
            name_alg: ALG_SHA256,
            attributes: ObjectAttributes::DEFAULT_EK,
            auth_policy: DEFAULT_EK_AUTH_POLICY.to_vec(),
            parameters: PublicParameters::Rsa(RsaParameters {
                symmetric: SymmetricDefinition::AES_128_CFB,
                scheme: Scheme::NULL,
                key_bits: 2048,
                exponent: 0,
            }),
            unique: modulus,
        }
    }

    /// An RSA-2048 attestation key as tss-esapi `create_ak` makes it (RSASSA, SHA-256).
    pub fn rsa_ak(modulus: Vec<u8>) -> Self {
        Self {
            name_alg: ALG_SHA256,
            attributes: ObjectAttributes::DEFAULT_AK,
            auth_policy: Vec::new(),
            parameters: PublicParameters::Rsa(RsaParameters {
                symmetric: SymmetricDefinition::Null,
                scheme: Scheme::with_hash(ALG_RSASSA, ALG_SHA256),
                key_bits: 2048,
                exponent: 0,
            }),
            unique: modulus,
        }
    }

    /// Reads exactly one TPMT_PUBLIC (what tss-esapi `Public::marshall()` produces).
    pub fn unmarshal(bytes: &[u8]) -> Result<Self, MarshalError> {
        let mut reader = Reader::new(bytes);
        let public = Self::read(&mut reader)?;
        reader.finish("TPMT_PUBLIC")?;
        Ok(public)
    }

    /// Reads exactly one TPM2B_PUBLIC (u16 size || TPMT_PUBLIC); the size must match the content.
    pub fn from_tpm2b(bytes: &[u8]) -> Result<Self, MarshalError> {
        let mut reader = Reader::new(bytes);
        let content = reader.tpm2b("TPM2B_PUBLIC", TPM2B_MAX)?;
        reader.finish("TPM2B_PUBLIC")?;
        let mut inner = Reader::new(content);
        let public = Self::read(&mut inner)?;
        if inner.remaining() != 0 {
            return Err(MarshalError::SizeMismatch {
                what: "TPM2B_PUBLIC",
                declared: content.len(),
                actual: inner.offset(),
            });
        }
        Ok(public)
    }

    /// Reads one TPMT_PUBLIC from `reader`.
    pub fn read(reader: &mut Reader<'_>) -> Result<Self, MarshalError> {
        let type_offset = reader.offset();
        let object_type = reader.u16("TPMT_PUBLIC.type")?;
        let name_alg = reader.hash_alg("TPMT_PUBLIC.nameAlg")?;
        let attributes = ObjectAttributes(reader.u32("TPMT_PUBLIC.objectAttributes")?);
        let auth_policy = reader
            .tpm2b("TPMT_PUBLIC.authPolicy", MAX_DIGEST_BYTES)?
            .to_vec();
        let (parameters, unique) = match object_type {
            ALG_RSA => {
                let parameters = RsaParameters::read(reader)?;
                let unique = reader.tpm2b("TPMT_PUBLIC.unique (RSA modulus)", MAX_RSA_KEY_BYTES)?;
                (PublicParameters::Rsa(parameters), unique.to_vec())
            }
            ALG_KEYEDHASH => {
                let scheme = Scheme::read_keyedhash(reader)?;
                let unique = reader.tpm2b("TPMT_PUBLIC.unique (keyed hash)", MAX_DIGEST_BYTES)?;
                (PublicParameters::KeyedHash { scheme }, unique.to_vec())
            }
            ALG_ECC | ALG_SYMCIPHER => {
                return Err(MarshalError::Unsupported {
                    what: "TPMT_PUBLIC.type",
                    offset: type_offset,
                    value: object_type,
                });
            }
            alg => {
                return Err(MarshalError::UnknownAlgorithm {
                    what: "TPMT_PUBLIC.type",
                    offset: type_offset,
                    alg,
                });
            }
        };
        Ok(Self {
            name_alg,
            attributes,
            auth_policy,
            parameters,
            unique,
        })
    }

    /// The marshalled TPMT_PUBLIC (the bytes the Name hashes; what `Public::unmarshall` takes).
    pub fn marshal(&self) -> Result<Vec<u8>, MarshalError> {
        let mut out = Vec::with_capacity(32 + self.auth_policy.len() + self.unique.len());
        put_u16(&mut out, self.object_type());
        put_u16(&mut out, self.name_alg);
        put_u32(&mut out, self.attributes.0);
        put_tpm2b(&mut out, &self.auth_policy, "TPMT_PUBLIC.authPolicy")?;
        match &self.parameters {
            PublicParameters::Rsa(parameters) => parameters.write(&mut out),
            PublicParameters::KeyedHash { scheme } => scheme.write(&mut out),
        }
        put_tpm2b(&mut out, &self.unique, "TPMT_PUBLIC.unique")?;
        Ok(out)
    }

    /// The marshalled TPM2B_PUBLIC (u16 size || TPMT_PUBLIC).
    pub fn to_tpm2b(&self) -> Result<Vec<u8>, MarshalError> {
        let inner = self.marshal()?;
        let mut out = Vec::with_capacity(inner.len() + 2);
        put_tpm2b(&mut out, &inner, "TPM2B_PUBLIC")?;
        Ok(out)
    }

    /// The object's Name: `0x000b || SHA-256(TPMT_PUBLIC)`. Only SHA-256 name algorithms are supported.
    pub fn name(&self) -> Result<Vec<u8>, TpmError> {
        if self.name_alg != ALG_SHA256 {
            return Err(TpmError::NameAlg {
                found: self.name_alg,
            });
        }
        Ok(name_of_sha256_public(&self.marshal()?))
    }

    /// The RSA public key of an RSA object (exponent 0 means 65537).
    pub fn rsa_public_key(&self) -> Result<RsaPublicKey, String> {
        let PublicParameters::Rsa(parameters) = &self.parameters else {
            return Err(format!(
                "object type 0x{:04x} is not RSA",
                self.object_type()
            ));
        };
        RsaPublicKey::new(
            BigUint::from_bytes_be(&self.unique),
            BigUint::from(parameters.effective_exponent()),
        )
        .map_err(|e| e.to_string())
    }
}

/// TPM_ALG_SYMCIPHER: a symmetric-key object (not supported by this reader).
pub const ALG_SYMCIPHER: u16 = 0x0025;

/// The Name of a SHA-256 object from its marshalled TPMT_PUBLIC bytes, hashed exactly as given.
pub fn name_of_sha256_public(tpmt_public: &[u8]) -> Vec<u8> {
    let mut name = Vec::with_capacity(2 + SHA256_SIZE);
    put_u16(&mut name, ALG_SHA256);
    name.extend_from_slice(&Sha256::digest(tpmt_public));
    name
}
