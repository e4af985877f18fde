//! Known-answer tests against the byte layouts in tpm-notes.md. Expected values were computed with
//! an independent implementation (Python hmac/hashlib/cryptography) from the documented formulas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::wrap::{unwrap_with_seed, wrap_with_seed};
use tokendist_core::tpm::{TpmError, TpmtPublic, kdfa_sha256, policy_pcr_digest};

fn seed() -> Vec<u8> {
    (0u8..32).collect()
}

fn test_name() -> Vec<u8> {
    let mut name = vec![0x00, 0x0B];
    name.extend_from_slice(&Sha256::digest(b"name"));
    name
}

#[test]
fn kdfa_storage_key_matches_the_reference_vector() {
    let key = kdfa_sha256(&seed(), b"STORAGE", &test_name(), &[], 128).unwrap();
    assert_eq!(hex::encode(&*key), "caf1365cb7c94a66c6ab4a93ddbe1f64");
}

#[test]
fn kdfa_integrity_key_matches_the_reference_vector() {
    let key = kdfa_sha256(&seed(), b"INTEGRITY", &[], &[], 256).unwrap();
    assert_eq!(
        hex::encode(&*key),
        "bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e"
    );
}

#[test]
fn kdfa_over_two_blocks_truncates_to_the_requested_bits() {
    let key = kdfa_sha256(&seed(), b"TEST", b"abc", b"defg", 328).unwrap();
    assert_eq!(
        hex::encode(&*key),
        "6b46453d1819a8b8e20200909bb6bacfbf116ef72670ff1e816f22852cc60059d53e8532ba6ae674f9"
    );
}

#[test]
fn outer_wrap_with_a_known_seed_matches_the_reference_blob() {
    let mut plaintext = vec![0x00, 0x20];
    plaintext.extend_from_slice(&[0x5A; 32]);
    let blob = wrap_with_seed(&seed(), 128, &test_name(), &plaintext).unwrap();
    assert_eq!(
        hex::encode(&blob),
        "0020344c48958524390a188080694a10e577aa6d6720e97da2fff689f39c4cc0fc956c1451d0516281ae725236c2\
         0afd317c80278188c94369877d7fc1beb8b0061f0638"
    );
    assert_eq!(blob.len(), 68);
    assert_eq!(
        &*unwrap_with_seed(&seed(), 128, &test_name(), &blob).unwrap(),
        plaintext.as_slice()
    );
}

#[test]
fn outer_unwrap_with_another_name_fails_integrity() {
    let blob = wrap_with_seed(&seed(), 128, &test_name(), &[0, 1, 9]).unwrap();
    let mut other_name = test_name();
    other_name[5] ^= 1;
    assert_eq!(
        unwrap_with_seed(&seed(), 128, &other_name, &blob),
        Err(TpmError::Integrity)
    );
}

#[test]
fn policy_pcr_digest_of_pcrs_7_and_23_matches_the_reference() {
    let mut pcrs = BTreeMap::new();
    pcrs.insert(23, vec![0x11; 32]);
    pcrs.insert(7, vec![0x00; 32]);
    let digest = policy_pcr_digest(ALG_SHA256, &pcrs).unwrap();
    assert_eq!(
        hex::encode(digest),
        "cfef0a1d37fa95413c322b25eaebaaf1c1aeef9d71195b57d4c0322138c1a8e2"
    );
}

fn known_ek() -> TpmtPublic {
    TpmtPublic::rsa_ek(
        (0..256u32)
            .map(|i| u8::try_from((i * 7 + 3) % 256).unwrap())
            .collect(),
    )
}

#[test]
fn default_ek_template_marshals_to_the_documented_layout() {
    let bytes = known_ek().marshal().unwrap();
    let mut expected = hex::decode("00010 00b000300b20020".replace(' ', "")).unwrap();
    expected.extend_from_slice(&DEFAULT_EK_AUTH_POLICY);
    expected.extend_from_slice(
        &hex::decode("0006008000430010080000000000 0100".replace(' ', "")).unwrap(),
    );
    expected.extend((0..256u32).map(|i| u8::try_from((i * 7 + 3) % 256).unwrap()));
    assert_eq!(bytes, expected);
}

#[test]
fn name_of_a_known_ek_matches_the_reference() {
    assert_eq!(
        hex::encode(known_ek().name().unwrap()),
        "000b5292a091401b57a9d3d7bb7a8639c01dda2bc458329dd3fc68d159490c4173ef"
    );
}

#[test]
fn name_of_a_non_sha256_object_is_refused() {
    let mut ek = known_ek();
    ek.name_alg = ALG_SHA384;
    assert_eq!(ek.name(), Err(TpmError::NameAlg { found: ALG_SHA384 }));
}
