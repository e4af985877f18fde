//! PCR selections, reads and extends.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};
use tss_esapi::{
    Context,
    abstraction::pcr::PcrData,
    handles::PcrHandle,
    interface_types::algorithm::HashingAlgorithm,
    structures::{Digest, DigestValues, PcrSelectionList, PcrSlot},
};

use super::{error::TpmError, types::PcrBank};

/// PCRs a TPM 2.0 PC-client TPM has (0..=23).
pub const PCR_COUNT: u32 = 24;

/// PCR handles by index, for PCR_Extend.
const PCR_HANDLES: [PcrHandle; PCR_COUNT as usize] = [
    PcrHandle::Pcr0,
    PcrHandle::Pcr1,
    PcrHandle::Pcr2,
    PcrHandle::Pcr3,
    PcrHandle::Pcr4,
    PcrHandle::Pcr5,
    PcrHandle::Pcr6,
    PcrHandle::Pcr7,
    PcrHandle::Pcr8,
    PcrHandle::Pcr9,
    PcrHandle::Pcr10,
    PcrHandle::Pcr11,
    PcrHandle::Pcr12,
    PcrHandle::Pcr13,
    PcrHandle::Pcr14,
    PcrHandle::Pcr15,
    PcrHandle::Pcr16,
    PcrHandle::Pcr17,
    PcrHandle::Pcr18,
    PcrHandle::Pcr19,
    PcrHandle::Pcr20,
    PcrHandle::Pcr21,
    PcrHandle::Pcr22,
    PcrHandle::Pcr23,
];

pub(crate) fn hashing_algorithm(bank: PcrBank) -> HashingAlgorithm {
    match bank {
        PcrBank::Sha256 => HashingAlgorithm::Sha256,
        PcrBank::Sha384 => HashingAlgorithm::Sha384,
        PcrBank::Sha512 => HashingAlgorithm::Sha512,
    }
}

/// Checks a PCR list (non-empty, each index below 24) and returns it sorted without duplicates.
pub(crate) fn indices(pcrs: &[u32], op: &'static str) -> Result<BTreeSet<u32>, TpmError> {
    if pcrs.is_empty() {
        return Err(TpmError::InvalidInput {
            op,
            what: "PCR selection",
            reason: "no PCR selected".into(),
        });
    }
    if let Some(bad) = pcrs.iter().find(|&&index| index >= PCR_COUNT) {
        return Err(TpmError::InvalidInput {
            op,
            what: "PCR selection",
            reason: format!("PCR {bad} does not exist (PCRs are 0 to {})", PCR_COUNT - 1),
        });
    }
    Ok(pcrs.iter().copied().collect())
}

fn slot(index: u32, op: &'static str) -> Result<PcrSlot, TpmError> {
    PcrSlot::try_from(1u32 << index).map_err(TpmError::during(op))
}

/// A one-bank PCR selection (sizeofSelect 3, as the software policy digest assumes).
pub(crate) fn selection(
    bank: PcrBank,
    pcrs: &BTreeSet<u32>,
    op: &'static str,
) -> Result<PcrSelectionList, TpmError> {
    let slots = pcrs
        .iter()
        .map(|&index| slot(index, op))
        .collect::<Result<Vec<_>, _>>()?;
    PcrSelectionList::builder()
        .with_selection(hashing_algorithm(bank), &slots)
        .build()
        .map_err(TpmError::during(op))
}

/// Reads the selected PCRs of one bank (several PCR_Read calls when the TPM returns them in parts).
pub(crate) fn read(
    ctx: &mut Context,
    bank: PcrBank,
    pcrs: &BTreeSet<u32>,
) -> Result<BTreeMap<u32, Vec<u8>>, TpmError> {
    let op = "PCR_Read";
    let mut remaining = selection(bank, pcrs, op)?;
    let mut data = PcrData::new();
    while !remaining.is_empty() {
        let (_, read, digests) = ctx
            .pcr_read(remaining.clone())
            .map_err(TpmError::during(op))?;
        if read.is_empty() || digests.is_empty() {
            return Err(TpmError::InvalidInput {
                op,
                what: "PCR bank",
                reason: format!("the {bank:?} bank is not active on this TPM"),
            });
        }
        data.add(&read, &digests).map_err(TpmError::during(op))?;
        remaining.subtract(&read).map_err(TpmError::during(op))?;
    }
    let values = data
        .pcr_bank(hashing_algorithm(bank))
        .ok_or_else(|| TpmError::Library {
            op,
            detail: format!("the TPM returned no {bank:?} values"),
        })?;
    pcrs.iter()
        .map(|&index| {
            let value = values
                .get_digest(slot(index, op)?)
                .ok_or_else(|| TpmError::Library {
                    op,
                    detail: format!("the TPM returned no value for PCR {index}"),
                })?;
            Ok((index, value.value().to_vec()))
        })
        .collect()
}

/// The TPM's PCR digest for a quote: the bank's hash over the values in ascending index order.
pub(crate) fn composite_digest(bank: PcrBank, values: &BTreeMap<u32, Vec<u8>>) -> Vec<u8> {
    fn digest<D: sha2::Digest>(values: &BTreeMap<u32, Vec<u8>>) -> Vec<u8> {
        let mut hasher = D::new();
        for value in values.values() {
            hasher.update(value);
        }
        hasher.finalize().to_vec()
    }
    match bank {
        PcrBank::Sha256 => digest::<Sha256>(values),
        PcrBank::Sha384 => digest::<sha2::Sha384>(values),
        PcrBank::Sha512 => digest::<sha2::Sha512>(values),
    }
}

/// Extends PCR `index` of the SHA-256 bank with SHA-256(`data`).
pub(crate) fn extend(ctx: &mut Context, index: u32, data: &[u8]) -> Result<(), TpmError> {
    let op = "PCR_Extend";
    let handle = usize::try_from(index)
        .ok()
        .and_then(|i| PCR_HANDLES.get(i))
        .copied()
        .ok_or_else(|| TpmError::InvalidInput {
            op,
            what: "PCR index",
            reason: format!("PCR {index} does not exist"),
        })?;
    let measurement =
        Digest::try_from(Sha256::digest(data).to_vec()).map_err(TpmError::during(op))?;
    let mut digests = DigestValues::new();
    digests.set(HashingAlgorithm::Sha256, measurement);
    ctx.execute_with_session(
        Some(tss_esapi::interface_types::session_handles::AuthSession::Password),
        |ctx| ctx.pcr_extend(handle, digests),
    )
    .map_err(TpmError::during(op))
}
