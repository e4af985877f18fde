//! TPMS_ATTEST (quote and certify) and TPMT_SIGNATURE (RSASSA / RSAPSS): readers and writers.

use super::alg::*;
use super::errors::MarshalError;
use super::marshal::{Reader, put_tpm2b, put_u16, put_u32, put_u64};
use super::pcr::PcrSelectionList;
use super::public::{MAX_DIGEST_BYTES, MAX_RSA_KEY_BYTES};

/// Largest TPM2B_NAME (a handle or an algorithm id plus a SHA-512 digest).
pub const MAX_NAME_BYTES: usize = 2 + 64;
/// Largest TPM2B_DATA (extraData / nonce).
pub const MAX_DATA_BYTES: usize = 64;

/// TPMS_CLOCK_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockInfo {
    pub clock: u64,
    pub reset_count: u32,
    pub restart_count: u32,
    pub safe: bool,
}

/// TPMS_QUOTE_INFO: which PCRs were quoted and the digest of their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteInfo {
    pub pcr_select: PcrSelectionList,
    pub pcr_digest: Vec<u8>,
}

/// TPMS_CERTIFY_INFO: the Name of the certified object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifyInfo {
    pub name: Vec<u8>,
    pub qualified_name: Vec<u8>,
}

/// The type-specific body of an attestation (TPMU_ATTEST); only quote and certify are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attested {
    Quote(QuoteInfo),
    Certify(CertifyInfo),
}

/// A TPMS_ATTEST: the structure a TPM signs for Quote and Certify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmsAttest {
    pub qualified_signer: Vec<u8>,
    pub extra_data: Vec<u8>,
    pub clock_info: ClockInfo,
    pub firmware_version: u64,
    pub attested: Attested,
}

impl TpmsAttest {
    /// The TPMI_ST_ATTEST of this attestation.
    pub fn attest_type(&self) -> u16 {
        match self.attested {
            Attested::Quote(_) => ST_ATTEST_QUOTE,
            Attested::Certify(_) => ST_ATTEST_CERTIFY,
        }
    }

    /// Reads exactly one TPMS_ATTEST (the content of TPM2B_ATTEST: the signed bytes).
    pub fn unmarshal(bytes: &[u8]) -> Result<Self, MarshalError> {
        let mut reader = Reader::new(bytes);
        let magic = reader.u32("TPMS_ATTEST.magic")?;
        if magic != TPM_GENERATED_VALUE {
            return Err(MarshalError::WrongMagic { found: magic });
        }
        let type_offset = reader.offset();
        let attest_type = reader.u16("TPMS_ATTEST.type")?;
        if attest_type != ST_ATTEST_QUOTE && attest_type != ST_ATTEST_CERTIFY {
            return Err(MarshalError::Unsupported {
                what: "TPMS_ATTEST.type",
                offset: type_offset,
                value: attest_type,
            });
        }
        let qualified_signer = reader
            .tpm2b("TPMS_ATTEST.qualifiedSigner", MAX_NAME_BYTES)?
            .to_vec();
        let extra_data = reader
            .tpm2b("TPMS_ATTEST.extraData", MAX_DATA_BYTES)?
            .to_vec();
        let clock_info = ClockInfo {
            clock: reader.u64("TPMS_CLOCK_INFO.clock")?,
            reset_count: reader.u32("TPMS_CLOCK_INFO.resetCount")?,
            restart_count: reader.u32("TPMS_CLOCK_INFO.restartCount")?,
            safe: read_yes_no(&mut reader, "TPMS_CLOCK_INFO.safe")?,
        };
        let firmware_version = reader.u64("TPMS_ATTEST.firmwareVersion")?;
        let attested = if attest_type == ST_ATTEST_QUOTE {
            let pcr_select = PcrSelectionList::read(&mut reader)?;
            let pcr_digest = reader
                .tpm2b("TPMS_QUOTE_INFO.pcrDigest", MAX_DIGEST_BYTES)?
                .to_vec();
            Attested::Quote(QuoteInfo {
                pcr_select,
                pcr_digest,
            })
        } else {
            let name = reader
                .tpm2b("TPMS_CERTIFY_INFO.name", MAX_NAME_BYTES)?
                .to_vec();
            let qualified_name = reader
                .tpm2b("TPMS_CERTIFY_INFO.qualifiedName", MAX_NAME_BYTES)?
                .to_vec();
            Attested::Certify(CertifyInfo {
                name,
                qualified_name,
            })
        };
        reader.finish("TPMS_ATTEST")?;
        Ok(Self {
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }

    /// The marshalled TPMS_ATTEST.
    pub fn marshal(&self) -> Result<Vec<u8>, MarshalError> {
        let mut out = Vec::with_capacity(128);
        put_u32(&mut out, TPM_GENERATED_VALUE);
        put_u16(&mut out, self.attest_type());
        put_tpm2b(
            &mut out,
            &self.qualified_signer,
            "TPMS_ATTEST.qualifiedSigner",
        )?;
        put_tpm2b(&mut out, &self.extra_data, "TPMS_ATTEST.extraData")?;
        put_u64(&mut out, self.clock_info.clock);
        put_u32(&mut out, self.clock_info.reset_count);
        put_u32(&mut out, self.clock_info.restart_count);
        out.push(u8::from(self.clock_info.safe));
        put_u64(&mut out, self.firmware_version);
        match &self.attested {
            Attested::Quote(quote) => {
                quote.pcr_select.write(&mut out)?;
                put_tpm2b(&mut out, &quote.pcr_digest, "TPMS_QUOTE_INFO.pcrDigest")?;
            }
            Attested::Certify(certify) => {
                put_tpm2b(&mut out, &certify.name, "TPMS_CERTIFY_INFO.name")?;
                put_tpm2b(
                    &mut out,
                    &certify.qualified_name,
                    "TPMS_CERTIFY_INFO.qualifiedName",
                )?;
            }
        }
        Ok(out)
    }
}

/// A TPMI_YES_NO: exactly 0 or 1, so that every accepted encoding re-marshals to the same bytes.
fn read_yes_no(reader: &mut Reader<'_>, what: &'static str) -> Result<bool, MarshalError> {
    let offset = reader.offset();
    match reader.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(MarshalError::InvalidYesNo {
            what,
            offset,
            value,
        }),
    }
}

/// A TPMT_SIGNATURE with an RSA signature (RSASSA or RSAPSS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmtSignature {
    /// TPM_ALG_RSASSA or TPM_ALG_RSAPSS.
    pub sig_alg: u16,
    pub hash_alg: u16,
    /// The raw RSA signature (TPM2B_PUBLIC_KEY_RSA content).
    pub signature: Vec<u8>,
}

impl TpmtSignature {
    /// Reads exactly one TPMT_SIGNATURE (RSASSA or RSAPSS; other algorithms are unsupported).
    pub fn unmarshal(bytes: &[u8]) -> Result<Self, MarshalError> {
        let mut reader = Reader::new(bytes);
        let alg_offset = reader.offset();
        let sig_alg = reader.u16("TPMT_SIGNATURE.sigAlg")?;
        match sig_alg {
            ALG_RSASSA | ALG_RSAPSS => {}
            // Known TPM signature algorithms this verifier does not accept: ECDSA, ECDAA, SM2, ECSCHNORR, HMAC, NULL.
            0x0018 | 0x001A | 0x001B | 0x001C | ALG_HMAC | ALG_NULL => {
                return Err(MarshalError::Unsupported {
                    what: "TPMT_SIGNATURE.sigAlg",
                    offset: alg_offset,
                    value: sig_alg,
                });
            }
            alg => {
                return Err(MarshalError::UnknownAlgorithm {
                    what: "TPMT_SIGNATURE.sigAlg",
                    offset: alg_offset,
                    alg,
                });
            }
        }
        let hash_alg = reader.hash_alg("TPMS_SIGNATURE_RSA.hash")?;
        let signature = reader
            .tpm2b("TPMS_SIGNATURE_RSA.sig", MAX_RSA_KEY_BYTES)?
            .to_vec();
        reader.finish("TPMT_SIGNATURE")?;
        Ok(Self {
            sig_alg,
            hash_alg,
            signature,
        })
    }

    /// The marshalled TPMT_SIGNATURE.
    pub fn marshal(&self) -> Result<Vec<u8>, MarshalError> {
        let mut out = Vec::with_capacity(6 + self.signature.len());
        put_u16(&mut out, self.sig_alg);
        put_u16(&mut out, self.hash_alg);
        put_tpm2b(&mut out, &self.signature, "TPMS_SIGNATURE_RSA.sig")?;
        Ok(out)
    }
}
