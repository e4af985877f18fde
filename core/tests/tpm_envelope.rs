//! Envelope sealing: round trips of 1 B, 128 B and 1 MiB payloads through the data key recovered
//! by a software Import+Unseal, binding to the associated data, and a bounded, panic-free decoder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tpm_support;

use tokendist_core::tpm::alg::ALG_SHA256;
use tokendist_core::tpm::envelope::ENVELOPE_VERSION;
use tokendist_core::tpm::{
    Envelope, EnvelopeError, open_envelope_with_data_key, policy_pcr_digest, seal_envelope,
};
use tpm_support::*;

const AAD: &[u8] = b"instance=123|secret=db-password";

fn seal(plaintext: &[u8]) -> Vec<u8> {
    let policy = policy_pcr_digest(ALG_SHA256, &pcrs(&[0, 7])).unwrap();
    seal_envelope(&ek_public(), plaintext, Some(&policy), AAD, [0x5E; 32]).unwrap()
}

fn data_key(envelope: &Envelope) -> Vec<u8> {
    software_unseal(&private_key(EK_PRIVATE_PEM), &envelope.import_blob).unwrap()
}

fn round_trip(plaintext: &[u8]) {
    let envelope = Envelope::decode(&seal(plaintext)).unwrap();
    let key = data_key(&envelope);
    assert_eq!(key.len(), 32);
    let opened = open_envelope_with_data_key(&envelope, &key, AAD).unwrap();
    assert_eq!(opened.as_slice(), plaintext);
}

#[test]
fn one_byte_envelope_round_trips() {
    round_trip(&[0x42]);
}

#[test]
fn envelope_of_128_bytes_round_trips() {
    round_trip(&[0x17; 128]);
}

#[test]
fn envelope_of_one_mebibyte_round_trips() {
    let plaintext: Vec<u8> = (0..1 << 20)
        .map(|i: u32| i.to_le_bytes()[0] ^ i.to_le_bytes()[1])
        .collect();
    round_trip(&plaintext);
}

#[test]
fn envelope_binds_the_policy_into_the_sealed_public() {
    let policy = policy_pcr_digest(ALG_SHA256, &pcrs(&[0, 7])).unwrap();
    let envelope = Envelope::decode(&seal(b"x")).unwrap();
    let public = tokendist_core::tpm::TpmtPublic::unmarshal(&envelope.import_blob.public).unwrap();
    assert_eq!(public.auth_policy, policy);
}

#[test]
fn envelope_with_other_associated_data_does_not_open() {
    let envelope = Envelope::decode(&seal(b"secret")).unwrap();
    let key = data_key(&envelope);
    assert_eq!(
        open_envelope_with_data_key(&envelope, &key, b"instance=999|secret=db-password")
            .map(|_| ()),
        Err(EnvelopeError::OpenFailed)
    );
}

#[test]
fn envelope_with_a_wrong_or_short_data_key_does_not_open() {
    let envelope = Envelope::decode(&seal(b"secret")).unwrap();
    let mut key = data_key(&envelope);
    key[0] ^= 1;
    assert_eq!(
        open_envelope_with_data_key(&envelope, &key, AAD).map(|_| ()),
        Err(EnvelopeError::OpenFailed)
    );
    assert_eq!(
        open_envelope_with_data_key(&envelope, &key[..16], AAD).map(|_| ()),
        Err(EnvelopeError::DataKeyLength { length: 16 })
    );
}

#[test]
fn tampered_ciphertext_does_not_open() {
    let mut envelope = Envelope::decode(&seal(b"secret")).unwrap();
    let key = data_key(&envelope);
    envelope.ciphertext[0] ^= 1;
    assert_eq!(
        open_envelope_with_data_key(&envelope, &key, AAD).map(|_| ()),
        Err(EnvelopeError::OpenFailed)
    );
}

#[test]
fn envelope_encode_decode_round_trips() {
    let bytes = seal(b"round trip");
    assert_eq!(Envelope::decode(&bytes).unwrap().encode().unwrap(), bytes);
}

#[test]
fn envelope_truncated_at_every_offset_is_truncated() {
    let bytes = seal(b"abc");
    for cut in 0..bytes.len() {
        match Envelope::decode(&bytes[..cut]) {
            Err(EnvelopeError::Truncated { offset, .. }) => assert!(offset <= cut),
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn envelope_with_wrong_magic_version_or_trailing_bytes_is_refused() {
    let bytes = seal(b"abc");
    let mut wrong_magic = bytes.clone();
    wrong_magic[0] = b'X';
    assert_eq!(
        Envelope::decode(&wrong_magic),
        Err(EnvelopeError::WrongMagic)
    );
    let mut wrong_version = bytes.clone();
    wrong_version[4] = ENVELOPE_VERSION + 1;
    assert_eq!(
        Envelope::decode(&wrong_version),
        Err(EnvelopeError::UnsupportedVersion { found: 2 })
    );
    let mut trailing = bytes;
    trailing.push(0);
    assert_eq!(
        Envelope::decode(&trailing),
        Err(EnvelopeError::TrailingBytes { count: 1 })
    );
}

#[test]
fn envelope_with_an_oversized_length_field_is_truncated_without_allocating() {
    let mut bytes = seal(b"abc");
    bytes[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Envelope::decode(&bytes),
        Err(EnvelopeError::Truncated {
            offset: 9,
            needed: u32::MAX as usize
        })
    );
}

#[test]
fn envelope_with_a_short_nonce_is_a_field_length_error() {
    let envelope = Envelope::decode(&seal(b"abc")).unwrap();
    let mut bytes = b"TDEV\x01".to_vec();
    for field in [
        &envelope.import_blob.public,
        &envelope.import_blob.duplicate,
        &envelope.import_blob.encrypted_seed,
    ] {
        bytes.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(field);
    }
    bytes.extend_from_slice(&[0, 0, 0, 4, 1, 2, 3, 4]);
    assert_eq!(
        Envelope::decode(&bytes),
        Err(EnvelopeError::FieldLength {
            what: "nonce",
            length: 4,
            expected: 12
        })
    );
}

#[test]
fn sealing_to_a_non_rsa_ek_is_a_seal_error() {
    let blob = tokendist_core::tpm::create_import_blob(&ek_public(), b"x", None, [0; 32]).unwrap();
    let not_an_ek = tokendist_core::tpm::TpmtPublic::unmarshal(&blob.public).unwrap();
    assert!(matches!(
        seal_envelope(&not_an_ek, b"x", None, AAD, [0; 32]),
        Err(EnvelopeError::Seal(
            tokendist_core::tpm::TpmError::EkNotRsa { .. }
        ))
    ));
}
