//! PolicyPCR digests and PCR selections: bitmap layout, ordering, and refused inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::policy::pcr_selection_for;
use tokendist_core::tpm::{PcrSelection, TpmError, policy_pcr_digest};

fn values(pairs: &[(u32, u8)]) -> BTreeMap<u32, Vec<u8>> {
    pairs.iter().map(|&(i, v)| (i, vec![v; 32])).collect()
}

#[test]
fn selection_of_pcrs_7_and_23_is_80_00_80() {
    let selection = PcrSelection::new(ALG_SHA256, [7, 23]).unwrap();
    assert_eq!(selection.select, vec![0x80, 0x00, 0x80]);
    assert_eq!(selection.indices(), vec![7, 23]);
    let mut bytes = Vec::new();
    pcr_selection_for(ALG_SHA256, &values(&[(7, 0), (23, 0)]))
        .unwrap()
        .write(&mut bytes)
        .unwrap();
    assert_eq!(bytes, [0, 0, 0, 1, 0x00, 0x0B, 3, 0x80, 0x00, 0x80]);
}

#[test]
fn digest_changes_when_any_pcr_value_changes() {
    let base = policy_pcr_digest(ALG_SHA256, &values(&[(0, 1), (7, 2)])).unwrap();
    let mut flipped = values(&[(0, 1), (7, 2)]);
    flipped.get_mut(&7).unwrap()[31] ^= 1;
    assert_ne!(policy_pcr_digest(ALG_SHA256, &flipped).unwrap(), base);
    assert_eq!(base.len(), 32);
}

#[test]
fn digest_changes_when_the_selection_changes() {
    let a = policy_pcr_digest(ALG_SHA256, &values(&[(0, 1), (7, 2)])).unwrap();
    let b = policy_pcr_digest(ALG_SHA256, &values(&[(0, 1), (8, 2)])).unwrap();
    assert_ne!(a, b);
}

#[test]
fn pcr_index_24_is_out_of_range() {
    assert_eq!(
        policy_pcr_digest(ALG_SHA256, &values(&[(24, 0)])),
        Err(TpmError::PcrIndexOutOfRange { index: 24 })
    );
}

#[test]
fn pcr_value_of_the_wrong_size_is_refused() {
    let mut pcrs = values(&[(7, 0)]);
    pcrs.insert(8, vec![0; 20]);
    assert_eq!(
        policy_pcr_digest(ALG_SHA256, &pcrs),
        Err(TpmError::PcrValueLength {
            index: 8,
            length: 20,
            expected: 32
        })
    );
}

#[test]
fn sha1_bank_takes_20_byte_values() {
    let pcrs: BTreeMap<u32, Vec<u8>> = [(0, vec![0; 20])].into_iter().collect();
    assert_eq!(policy_pcr_digest(ALG_SHA1, &pcrs).unwrap().len(), 32);
}

#[test]
fn non_hash_bank_is_refused() {
    assert_eq!(
        policy_pcr_digest(ALG_AES, &values(&[(0, 0)])),
        Err(TpmError::PcrBank { alg: ALG_AES })
    );
}
