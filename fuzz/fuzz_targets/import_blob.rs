//! Fuzzes the import-blob decoder of TPM secrets (`tokendist_client::secrets::import_blob::decode`:
//! go-tpm-tools' `ImportBlob` protobuf, its parts and PCR bank), then the sealed object's public area
//! as core reads it (`TpmtPublic::unmarshal`, its Name). Never panics; a decoded blob re-encodes
//! (`import_blob::encode`) to bytes that decode to the same blob.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tokendist_client::secrets::import_blob::{decode, encode};
use tokendist_core::tpm::TpmtPublic;

fuzz_target!(|data: &[u8]| {
    let Ok(blob) = decode(data) else {
        return;
    };
    let values: BTreeMap<u32, Vec<u8>> = blob
        .pcrs
        .iter()
        .flat_map(|(_, indices)| indices.iter().map(|i| (*i, vec![0; 32])))
        .collect();
    assert_eq!(decode(&encode(&blob, &values)).as_ref(), Ok(&blob));
    if let Ok(public) = TpmtPublic::unmarshal(&blob.public) {
        let _ = public.name();
    }
});
