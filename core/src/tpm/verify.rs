//! Quote and certify verification: the signature over TPMS_ATTEST with the signer's public area,
//! then the attestation's type, nonce and body against what the verifier expects.

use std::collections::BTreeMap;

use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Digest, Sha256};

use super::alg::*;
use super::attest::{Attested, CertifyInfo, ClockInfo, QuoteInfo, TpmsAttest, TpmtSignature};
use super::errors::{MarshalError, QuoteError};
use super::pcr::PcrSelection;
use super::policy::pcr_composite_digest;
use super::public::TpmtPublic;

/// A quote that verified: its PCR selection and digest, and the TPM clock state it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedQuote {
    pub quote: QuoteInfo,
    pub clock_info: ClockInfo,
    pub firmware_version: u64,
    pub qualified_signer: Vec<u8>,
}

fn parse_attest(attest_bytes: &[u8]) -> Result<TpmsAttest, QuoteError> {
    TpmsAttest::unmarshal(attest_bytes).map_err(|error| match error {
        MarshalError::WrongMagic { found } => QuoteError::WrongMagic { found },
        MarshalError::Unsupported {
            what: "TPMS_ATTEST.type",
            value,
            ..
        } => QuoteError::WrongType {
            found: value,
            expected: ST_ATTEST_QUOTE,
        },
        other => QuoteError::MalformedAttest(other),
    })
}

/// Verifies `signature_bytes` (a TPMT_SIGNATURE: RSASSA or RSAPSS with SHA-256) over
/// `attest_bytes` with the RSA key in `signer`.
pub fn verify_attest_signature(
    signer: &TpmtPublic,
    attest_bytes: &[u8],
    signature_bytes: &[u8],
) -> Result<(), QuoteError> {
    let signature =
        TpmtSignature::unmarshal(signature_bytes).map_err(QuoteError::MalformedSignature)?;
    if signature.hash_alg != ALG_SHA256 {
        return Err(QuoteError::SignatureScheme {
            sig_alg: signature.sig_alg,
            hash_alg: signature.hash_alg,
        });
    }
    let key = signer.rsa_public_key().map_err(QuoteError::SignerKey)?;
    let digest = Sha256::digest(attest_bytes);
    let verified = match signature.sig_alg {
        ALG_RSASSA => key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature.signature),
        ALG_RSAPSS => key.verify(Pss::new::<Sha256>(), &digest, &signature.signature),
        sig_alg => {
            return Err(QuoteError::SignatureScheme {
                sig_alg,
                hash_alg: signature.hash_alg,
            });
        }
    };
    verified.map_err(|_| QuoteError::BadSignature)
}

/// Verifies a TPM2_Quote: the signature by `ak_public`, magic and type (quote), extraData equal to
/// `expected_nonce`, a PCR selection of exactly `expected_pcrs`' indices in the SHA-256 bank, and
/// pcrDigest equal to SHA-256 of the expected values concatenated in index order. Check the AK
/// itself with [`super::check_ak_template`] (the `tpm.ak` check) before trusting it.
pub fn verify_quote(
    ak_public: &TpmtPublic,
    attest_bytes: &[u8],
    signature_bytes: &[u8],
    expected_nonce: &[u8],
    expected_pcrs: &BTreeMap<u32, Vec<u8>>,
) -> Result<VerifiedQuote, QuoteError> {
    verify_attest_signature(ak_public, attest_bytes, signature_bytes)?;
    let attest = parse_attest(attest_bytes)?;
    let quote = match attest.attested {
        Attested::Quote(quote) => quote,
        Attested::Certify(_) => {
            return Err(QuoteError::WrongType {
                found: ST_ATTEST_CERTIFY,
                expected: ST_ATTEST_QUOTE,
            });
        }
    };
    if attest.extra_data != expected_nonce {
        return Err(QuoteError::NonceMismatch);
    }
    let expected_indices: Vec<u32> = expected_pcrs.keys().copied().collect();
    let selection_matches = match quote.pcr_select.0.as_slice() {
        [bank] => bank.hash_alg == ALG_SHA256 && bank.indices() == expected_indices,
        _ => false,
    };
    if !selection_matches {
        return Err(QuoteError::PcrSelectionMismatch {
            expected: expected_indices,
        });
    }
    // Reject malformed expectations (wrong value sizes, index > 23) instead of hashing them.
    PcrSelection::new(ALG_SHA256, expected_indices.iter().copied())
        .map_err(QuoteError::ExpectedPcrs)?;
    if let Some((&index, value)) = expected_pcrs
        .iter()
        .find(|(_, value)| value.len() != SHA256_SIZE)
    {
        return Err(QuoteError::ExpectedPcrs(
            super::errors::TpmError::PcrValueLength {
                index,
                length: value.len(),
                expected: SHA256_SIZE,
            },
        ));
    }
    if quote.pcr_digest.as_slice() != pcr_composite_digest(expected_pcrs).as_slice() {
        return Err(QuoteError::PcrDigestMismatch);
    }
    Ok(VerifiedQuote {
        quote,
        clock_info: attest.clock_info,
        firmware_version: attest.firmware_version,
        qualified_signer: attest.qualified_signer,
    })
}

/// Verifies a TPM2_Certify: the signature by `signer_public` (the AK), type certify, extraData equal
/// to `nonce`, and the certified Name equal to `expected_name` (the Name of the key's TPMT_PUBLIC).
pub fn verify_certify(
    signer_public: &TpmtPublic,
    attest_bytes: &[u8],
    signature_bytes: &[u8],
    expected_name: &[u8],
    nonce: &[u8],
) -> Result<CertifyInfo, QuoteError> {
    verify_attest_signature(signer_public, attest_bytes, signature_bytes)?;
    let attest = parse_attest(attest_bytes).map_err(|error| match error {
        QuoteError::WrongType { found, .. } => QuoteError::WrongType {
            found,
            expected: ST_ATTEST_CERTIFY,
        },
        other => other,
    })?;
    let certify = match attest.attested {
        Attested::Certify(certify) => certify,
        Attested::Quote(_) => {
            return Err(QuoteError::WrongType {
                found: ST_ATTEST_QUOTE,
                expected: ST_ATTEST_CERTIFY,
            });
        }
    };
    if attest.extra_data != nonce {
        return Err(QuoteError::NonceMismatch);
    }
    if certify.name != expected_name {
        return Err(QuoteError::NameMismatch);
    }
    Ok(certify)
}
