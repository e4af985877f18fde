//! The algorithm parameter structures inside TPMT_PUBLIC: TPMT_SYM_DEF_OBJECT, TPMT_RSA_SCHEME,
//! TPMS_RSA_PARMS and TPMT_KEYEDHASH_SCHEME, with readers and writers.

use super::alg::*;
use super::errors::MarshalError;
use super::marshal::{Reader, put_u16, put_u32};

/// TPMT_SYM_DEF_OBJECT: the symmetric algorithm of a storage key, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymmetricDefinition {
    /// TPM_ALG_NULL (signing keys, data objects).
    Null,
    /// A block cipher (AES, SM4 or Camellia) with its key size and mode.
    Cipher {
        algorithm: u16,
        key_bits: u16,
        mode: u16,
    },
}

impl SymmetricDefinition {
    /// AES-128 in CFB mode, the default EK's symmetric definition.
    pub const AES_128_CFB: Self = Self::Cipher {
        algorithm: ALG_AES,
        key_bits: 128,
        mode: ALG_CFB,
    };

    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, MarshalError> {
        let offset = reader.offset();
        match reader.u16("TPMT_SYM_DEF_OBJECT.algorithm")? {
            ALG_NULL => Ok(Self::Null),
            algorithm @ (ALG_AES | ALG_SM4 | ALG_CAMELLIA) => {
                let key_bits = reader.u16("TPMT_SYM_DEF_OBJECT.keyBits")?;
                let mode = reader.u16("TPMT_SYM_DEF_OBJECT.mode")?;
                Ok(Self::Cipher {
                    algorithm,
                    key_bits,
                    mode,
                })
            }
            alg => Err(MarshalError::UnknownAlgorithm {
                what: "TPMT_SYM_DEF_OBJECT.algorithm",
                offset,
                alg,
            }),
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match *self {
            Self::Null => put_u16(out, ALG_NULL),
            Self::Cipher {
                algorithm,
                key_bits,
                mode,
            } => {
                put_u16(out, algorithm);
                put_u16(out, key_bits);
                put_u16(out, mode);
            }
        }
    }
}

/// TPMT_RSA_SCHEME / TPMT_KEYEDHASH_SCHEME: a scheme algorithm and, where it has one, its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The scheme algorithm (e.g. RSASSA, RSAPSS, OAEP, HMAC, XOR or NULL).
    pub scheme: u16,
    /// The scheme's hash algorithm; `ALG_NULL` for schemes without details.
    pub hash_alg: u16,
    /// The KDF (only for the XOR keyed-hash scheme); `ALG_NULL` otherwise.
    pub kdf: u16,
}

impl Scheme {
    /// TPM_ALG_NULL: no scheme.
    pub const NULL: Self = Self {
        scheme: ALG_NULL,
        hash_alg: ALG_NULL,
        kdf: ALG_NULL,
    };

    /// A scheme with a hash (RSASSA, RSAPSS, OAEP, HMAC).
    pub const fn with_hash(scheme: u16, hash_alg: u16) -> Self {
        Self {
            scheme,
            hash_alg,
            kdf: ALG_NULL,
        }
    }

    pub(crate) fn read_rsa(reader: &mut Reader<'_>) -> Result<Self, MarshalError> {
        let offset = reader.offset();
        match reader.u16("TPMT_RSA_SCHEME.scheme")? {
            scheme @ (ALG_NULL | ALG_RSAES) => Ok(Self {
                scheme,
                ..Self::NULL
            }),
            scheme @ (ALG_RSASSA | ALG_RSAPSS | ALG_OAEP) => {
                let hash_alg = reader.hash_alg("TPMT_RSA_SCHEME.hashAlg")?;
                Ok(Self::with_hash(scheme, hash_alg))
            }
            alg => Err(MarshalError::UnknownAlgorithm {
                what: "TPMT_RSA_SCHEME.scheme",
                offset,
                alg,
            }),
        }
    }

    pub(crate) fn read_keyedhash(reader: &mut Reader<'_>) -> Result<Self, MarshalError> {
        let offset = reader.offset();
        match reader.u16("TPMT_KEYEDHASH_SCHEME.scheme")? {
            ALG_NULL => Ok(Self::NULL),
            ALG_HMAC => {
                let hash_alg = reader.hash_alg("TPMT_KEYEDHASH_SCHEME.hashAlg")?;
                Ok(Self::with_hash(ALG_HMAC, hash_alg))
            }
            ALG_XOR => {
                let hash_alg = reader.hash_alg("TPMT_KEYEDHASH_SCHEME.hashAlg")?;
                let kdf_offset = reader.offset();
                let kdf = reader.u16("TPMT_KEYEDHASH_SCHEME.kdf")?;
                if kdf != ALG_KDF1_SP800_108 {
                    return Err(MarshalError::UnknownAlgorithm {
                        what: "TPMT_KEYEDHASH_SCHEME.kdf",
                        offset: kdf_offset,
                        alg: kdf,
                    });
                }
                Ok(Self {
                    scheme: ALG_XOR,
                    hash_alg,
                    kdf,
                })
            }
            alg => Err(MarshalError::UnknownAlgorithm {
                what: "TPMT_KEYEDHASH_SCHEME.scheme",
                offset,
                alg,
            }),
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_u16(out, self.scheme);
        match self.scheme {
            ALG_NULL | ALG_RSAES => {}
            ALG_XOR => {
                put_u16(out, self.hash_alg);
                put_u16(out, self.kdf);
            }
            _ => put_u16(out, self.hash_alg),
        }
    }
}

/// TPMS_RSA_PARMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaParameters {
    pub symmetric: SymmetricDefinition,
    pub scheme: Scheme,
    pub key_bits: u16,
    /// The public exponent; 0 means the default 65537.
    pub exponent: u32,
}

impl RsaParameters {
    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, MarshalError> {
        let symmetric = SymmetricDefinition::read(reader)?;
        let scheme = Scheme::read_rsa(reader)?;
        let key_bits = reader.u16("TPMS_RSA_PARMS.keyBits")?;
        let exponent = reader.u32("TPMS_RSA_PARMS.exponent")?;
        Ok(Self {
            symmetric,
            scheme,
            key_bits,
            exponent,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        self.symmetric.write(out);
        self.scheme.write(out);
        put_u16(out, self.key_bits);
        put_u32(out, self.exponent);
    }

    /// The effective public exponent (0 on the wire means 65537).
    pub fn effective_exponent(&self) -> u32 {
        if self.exponent == 0 {
            65537
        } else {
            self.exponent
        }
    }
}
