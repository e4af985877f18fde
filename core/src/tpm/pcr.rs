//! PCR selections: TPMS_PCR_SELECTION / TPML_PCR_SELECTION (bank hash, sizeofSelect, bitmap).

use super::alg::is_hash_alg;
use super::errors::{MarshalError, TpmError};
use super::marshal::{Reader, put_u16, put_u32};

/// sizeofSelect used for selections this module builds (what tss-esapi and TPMs use: PCRs 0..=23).
pub const PCR_SELECT_SIZE: usize = 3;
/// Largest sizeofSelect accepted when reading.
pub const PCR_SELECT_MAX: usize = 32;
/// Most banks accepted in a TPML_PCR_SELECTION (HASH_COUNT).
pub const PCR_BANKS_MAX: usize = 16;

/// One bank's PCR selection (TPMS_PCR_SELECTION).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcrSelection {
    pub hash_alg: u16,
    /// The bitmap: PCR n is bit (n % 8) of byte n / 8.
    pub select: Vec<u8>,
}

impl PcrSelection {
    /// A 3-byte selection of `indices` in bank `hash_alg`.
    pub fn new(hash_alg: u16, indices: impl IntoIterator<Item = u32>) -> Result<Self, TpmError> {
        if !is_hash_alg(hash_alg) {
            return Err(TpmError::PcrBank { alg: hash_alg });
        }
        let mut select = vec![0u8; PCR_SELECT_SIZE];
        for index in indices {
            let byte =
                usize::try_from(index / 8).map_err(|_| TpmError::PcrIndexOutOfRange { index })?;
            let slot = select
                .get_mut(byte)
                .ok_or(TpmError::PcrIndexOutOfRange { index })?;
            *slot |= 1 << (index % 8);
        }
        Ok(Self { hash_alg, select })
    }

    /// The selected PCR indices, ascending.
    pub fn indices(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (byte_index, byte) in (0u32..).zip(self.select.iter()) {
            for bit in 0..8u32 {
                if byte & (1 << bit) != 0 {
                    out.push(byte_index * 8 + bit);
                }
            }
        }
        out
    }
}

/// TPML_PCR_SELECTION: the selections of every bank.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PcrSelectionList(pub Vec<PcrSelection>);

impl PcrSelectionList {
    /// Reads a TPML_PCR_SELECTION.
    pub fn read(reader: &mut Reader<'_>) -> Result<Self, MarshalError> {
        let offset = reader.offset();
        let count = reader.u32("TPML_PCR_SELECTION.count")?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count > PCR_BANKS_MAX {
            return Err(MarshalError::LengthOverflow {
                what: "TPML_PCR_SELECTION.count",
                offset,
                length: count,
                max: PCR_BANKS_MAX,
            });
        }
        let mut banks = Vec::with_capacity(count);
        for _ in 0..count {
            let hash_alg = reader.hash_alg("TPMS_PCR_SELECTION.hash")?;
            let size_offset = reader.offset();
            let size = usize::from(reader.u8("TPMS_PCR_SELECTION.sizeofSelect")?);
            if size > PCR_SELECT_MAX {
                return Err(MarshalError::LengthOverflow {
                    what: "TPMS_PCR_SELECTION.sizeofSelect",
                    offset: size_offset,
                    length: size,
                    max: PCR_SELECT_MAX,
                });
            }
            let select = reader.take(size, "TPMS_PCR_SELECTION.pcrSelect")?.to_vec();
            banks.push(PcrSelection { hash_alg, select });
        }
        Ok(Self(banks))
    }

    /// Appends the marshalled TPML_PCR_SELECTION.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), MarshalError> {
        let count = u32::try_from(self.0.len()).map_err(|_| MarshalError::TooLong {
            what: "TPML_PCR_SELECTION",
            length: self.0.len(),
            max: PCR_BANKS_MAX,
        })?;
        put_u32(out, count);
        for bank in &self.0 {
            put_u16(out, bank.hash_alg);
            let size = u8::try_from(bank.select.len()).map_err(|_| MarshalError::TooLong {
                what: "TPMS_PCR_SELECTION.pcrSelect",
                length: bank.select.len(),
                max: PCR_SELECT_MAX,
            })?;
            out.push(size);
            out.extend_from_slice(&bank.select);
        }
        Ok(())
    }
}
