//! Trial PolicyPCR digest (TPM 2.0 Part 3, 23.7) computed in software: the authPolicy a sealed
//! object needs so that only a policy session over the same PCR values can unseal it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::alg::{CC_POLICY_PCR, SHA256_SIZE, digest_size};
use super::errors::TpmError;
use super::pcr::{PcrSelection, PcrSelectionList};

/// The selection of `pcrs`' indices in `bank_alg`, after checking each value's length.
pub fn pcr_selection_for(
    bank_alg: u16,
    pcrs: &BTreeMap<u32, Vec<u8>>,
) -> Result<PcrSelectionList, TpmError> {
    let expected = digest_size(bank_alg).ok_or(TpmError::PcrBank { alg: bank_alg })?;
    for (&index, value) in pcrs {
        if value.len() != expected {
            return Err(TpmError::PcrValueLength {
                index,
                length: value.len(),
                expected,
            });
        }
    }
    Ok(PcrSelectionList(vec![PcrSelection::new(
        bank_alg,
        pcrs.keys().copied(),
    )?]))
}

/// SHA-256 of the PCR values concatenated in ascending index order (the quote's pcrDigest and
/// PolicyPCR's pcrDigest).
pub fn pcr_composite_digest(pcrs: &BTreeMap<u32, Vec<u8>>) -> [u8; SHA256_SIZE] {
    let mut hasher = Sha256::new();
    for value in pcrs.values() {
        hasher.update(value);
    }
    hasher.finalize().into()
}

/// The policy digest of a fresh SHA-256 policy session after `PolicyPCR(selection of pcrs, …)`:
/// `SHA-256(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA-256(values in index order))`,
/// with a 3-byte selection (PCRs 0..=23) in bank `bank_alg`. Values must have the bank's digest size.
pub fn policy_pcr_digest(
    bank_alg: u16,
    pcrs: &BTreeMap<u32, Vec<u8>>,
) -> Result<Vec<u8>, TpmError> {
    let selection = pcr_selection_for(bank_alg, pcrs)?;
    let mut selection_bytes = Vec::with_capacity(10);
    selection.write(&mut selection_bytes)?;
    let digest = Sha256::new()
        .chain_update([0u8; SHA256_SIZE])
        .chain_update(CC_POLICY_PCR.to_be_bytes())
        .chain_update(&selection_bytes)
        .chain_update(pcr_composite_digest(pcrs))
        .finalize();
    Ok(digest.to_vec())
}
