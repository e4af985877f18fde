//! The plain data the TPM layer hands out and takes in: marshalled TPM bytes, never tss-esapi types.

use std::collections::BTreeMap;

/// The endorsement key, as the server needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EkInfo {
    /// The EK public area as TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC).
    pub public: Vec<u8>,
    /// The EK certificate (DER) from NV index 0x01c00002, when the TPM has one.
    pub certificate: Option<Vec<u8>>,
}

/// An attestation key: a restricted RSA-2048 RSASSA-SHA256 signing key under the EK, kept as a loadable
/// blob (it is not made persistent: each operation loads it under the EK and flushes it afterwards,
/// so it holds no TPM slot and leaves nothing behind). The daemon may keep it for the whole session
/// or store it; `private` is encrypted by the EK's storage key and useless outside this TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkInfo {
    /// The AK public area as TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC).
    pub public: Vec<u8>,
    /// The AK Name: `0x000B || SHA-256(TPMT_PUBLIC)`.
    pub name: Vec<u8>,
    /// The content of the AK's TPM2B_PRIVATE (wrapped by the EK), for loading it again.
    pub private: Vec<u8>,
}

/// A PCR bank (the hash algorithm of the PCRs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PcrBank {
    /// SHA-256, the bank every tokendist policy uses.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl PcrBank {
    /// The TPM_ALG_ID of the bank's hash.
    pub fn alg_id(self) -> u16 {
        match self {
            PcrBank::Sha256 => 0x000B,
            PcrBank::Sha384 => 0x000C,
            PcrBank::Sha512 => 0x000D,
        }
    }

    /// The digest size of one PCR in this bank.
    pub fn digest_len(self) -> usize {
        match self {
            PcrBank::Sha256 => 32,
            PcrBank::Sha384 => 48,
            PcrBank::Sha512 => 64,
        }
    }
}

/// A quote and the PCR values it covers (read right before quoting and checked against the quote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// TPMS_ATTEST as signed (the TPM2B_ATTEST content).
    pub attest: Vec<u8>,
    /// The signature as TPMT_SIGNATURE (RSASSA, SHA-256, then the 256-byte RSA signature).
    pub signature: Vec<u8>,
    /// The quoted PCR values, by index.
    pub pcr_values: BTreeMap<u32, Vec<u8>>,
}

/// A certification of one object by the AK (TPM2_Certify).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    /// TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY.
    pub attest: Vec<u8>,
    /// The signature as TPMT_SIGNATURE (RSASSA, SHA-256, then the RSA signature).
    pub signature: Vec<u8>,
}
