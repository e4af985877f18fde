//! The wire format of `TPM` secrets (the original's `--encryptToTPM`, go-tpm-tools `ImportBlob`):
//! `1 duplicate` (TPM2B_PRIVATE content), `2 encrypted_seed` (TPM2B_ENCRYPTED_SECRET content),
//! `3 public_area` (TPMT_PUBLIC of the sealed object), `4 pcrs {1 hash (TPM_ALG_ID), 2 map<uint32,
//! bytes>}`: the PCRs the object's PolicyPCR is computed over.

use prost::Message;

use tokendist_tpm::PcrBank;

/// go-tpm-tools `Pcrs`.
#[derive(Clone, PartialEq, Message)]
pub struct PcrsProto {
    #[prost(uint32, tag = "1")]
    pub hash: u32,
    #[prost(btree_map = "uint32, bytes", tag = "2")]
    pub pcrs: std::collections::BTreeMap<u32, Vec<u8>>,
}

/// go-tpm-tools `ImportBlob`.
#[derive(Clone, PartialEq, Message)]
pub struct ImportBlobProto {
    #[prost(bytes = "vec", tag = "1")]
    pub duplicate: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub encrypted_seed: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub public_area: Vec<u8>,
    #[prost(message, optional, tag = "4")]
    pub pcrs: Option<PcrsProto>,
}

/// A decoded import blob and the PCR selection its policy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBlob {
    pub public: Vec<u8>,
    pub duplicate: Vec<u8>,
    pub encrypted_seed: Vec<u8>,
    /// `None` when the blob names no PCRs (the session's selection is used).
    pub pcrs: Option<(PcrBank, Vec<u32>)>,
}

/// Why bytes are not an import blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportBlobError {
    #[error("not a protobuf ImportBlob: {0}")]
    Decode(String),
    #[error("the import blob has no {0}")]
    Empty(&'static str),
    #[error("the import blob's PCR bank 0x{0:04x} is not SHA-256, SHA-384 or SHA-512")]
    Bank(u32),
}

/// The bank of a TPM_ALG_ID.
pub fn bank_of(alg: u32) -> Option<PcrBank> {
    match alg {
        0x000B => Some(PcrBank::Sha256),
        0x000C => Some(PcrBank::Sha384),
        0x000D => Some(PcrBank::Sha512),
        _ => None,
    }
}

/// Decodes an import blob, checking every part is present.
pub fn decode(bytes: &[u8]) -> Result<SealedBlob, ImportBlobError> {
    let blob =
        ImportBlobProto::decode(bytes).map_err(|e| ImportBlobError::Decode(e.to_string()))?;
    for (value, what) in [
        (&blob.duplicate, "duplicate"),
        (&blob.encrypted_seed, "encrypted seed"),
        (&blob.public_area, "public area"),
    ] {
        if value.is_empty() {
            return Err(ImportBlobError::Empty(what));
        }
    }
    let pcrs = match blob.pcrs {
        Some(pcrs) if !pcrs.pcrs.is_empty() => {
            let bank = bank_of(pcrs.hash).ok_or(ImportBlobError::Bank(pcrs.hash))?;
            Some((bank, pcrs.pcrs.keys().copied().collect()))
        }
        _ => None,
    };
    Ok(SealedBlob {
        public: blob.public_area,
        duplicate: blob.duplicate,
        encrypted_seed: blob.encrypted_seed,
        pcrs,
    })
}

/// Encodes an import blob (tests and tools).
pub fn encode(blob: &SealedBlob, pcr_values: &std::collections::BTreeMap<u32, Vec<u8>>) -> Vec<u8> {
    ImportBlobProto {
        duplicate: blob.duplicate.clone(),
        encrypted_seed: blob.encrypted_seed.clone(),
        public_area: blob.public.clone(),
        pcrs: blob.pcrs.as_ref().map(|(bank, _)| PcrsProto {
            hash: u32::from(bank.alg_id()),
            pcrs: pcr_values.clone(),
        }),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SealedBlob {
        SealedBlob {
            public: vec![1; 78],
            duplicate: vec![2; 50],
            encrypted_seed: vec![3; 256],
            pcrs: Some((PcrBank::Sha256, vec![7, 16])),
        }
    }

    #[test]
    fn round_trips_with_its_pcr_selection() {
        let values = [(7u32, vec![0u8; 32]), (16, vec![1u8; 32])]
            .into_iter()
            .collect();
        let decoded = decode(&encode(&sample(), &values)).unwrap();
        assert_eq!(decoded, sample());
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(
            decode(&[0xff, 0xff, 0xff, 0x01]),
            Err(ImportBlobError::Decode(_))
        ));
    }

    #[test]
    fn missing_part_is_named() {
        let mut blob = sample();
        blob.encrypted_seed.clear();
        let bytes = encode(&blob, &Default::default());
        assert_eq!(
            decode(&bytes),
            Err(ImportBlobError::Empty("encrypted seed"))
        );
    }

    #[test]
    fn sha1_bank_is_refused() {
        let bytes = ImportBlobProto {
            duplicate: vec![1],
            encrypted_seed: vec![1],
            public_area: vec![1],
            pcrs: Some(PcrsProto {
                hash: 0x0004,
                pcrs: [(0u32, vec![0u8; 20])].into_iter().collect(),
            }),
        }
        .encode_to_vec();
        assert_eq!(decode(&bytes), Err(ImportBlobError::Bank(4)));
    }
}
