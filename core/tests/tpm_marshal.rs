//! Round trips and malformed-input handling of the TPM structure readers: TPMT_PUBLIC,
//! TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE and TPML_PCR_SELECTION. Truncation at every offset,
//! oversized length fields, unknown algorithms and wrong magic give the specific error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tpm_support;

use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::marshal::{Reader, tpm2b, tpm2b_content};
use tokendist_core::tpm::params::{RsaParameters, Scheme, SymmetricDefinition};
use tokendist_core::tpm::{
    MarshalError, ObjectAttributes, PcrSelectionList, PublicParameters, TpmsAttest, TpmtPublic,
    TpmtSignature,
};
use tpm_support::*;

fn keyed_hash_publics() -> Vec<TpmtPublic> {
    [
        Scheme::NULL,
        Scheme::with_hash(ALG_HMAC, ALG_SHA256),
        Scheme {
            scheme: ALG_XOR,
            hash_alg: ALG_SHA256,
            kdf: ALG_KDF1_SP800_108,
        },
    ]
    .into_iter()
    .map(|scheme| TpmtPublic {
        name_alg: ALG_SHA256,
        attributes: ObjectAttributes(ObjectAttributes::USER_WITH_AUTH),
        auth_policy: vec![0x42; 32],
        parameters: PublicParameters::KeyedHash { scheme },
        unique: vec![0x17; 32],
    })
    .collect()
}

fn all_publics() -> Vec<TpmtPublic> {
    let mut publics = vec![ek_public(), ak_public()];
    publics.extend(keyed_hash_publics());
    let mut oaep = ek_public();
    oaep.parameters = PublicParameters::Rsa(RsaParameters {
        symmetric: SymmetricDefinition::Cipher {
            algorithm: ALG_AES,
            key_bits: 256,
            mode: ALG_CFB,
        },
        scheme: Scheme::with_hash(ALG_OAEP, ALG_SHA384),
        key_bits: 2048,
        exponent: 3,
    });
    publics.push(oaep);
    publics
}

#[test]
fn every_public_round_trips_through_tpmt_and_tpm2b() {
    for public in all_publics() {
        let bytes = public.marshal().unwrap();
        assert_eq!(TpmtPublic::unmarshal(&bytes).unwrap(), public);
        let sized = public.to_tpm2b().unwrap();
        assert_eq!(
            &sized[..2],
            &u16::try_from(bytes.len()).unwrap().to_be_bytes()
        );
        assert_eq!(TpmtPublic::from_tpm2b(&sized).unwrap(), public);
    }
}

#[test]
fn ek_and_sealed_publics_have_the_documented_sizes() {
    assert_eq!(ek_public().marshal().unwrap().len(), 314);
    let sealed =
        tokendist_core::tpm::import::sealed_object_public(Some(&[0; 32]), vec![0; 32]).unwrap();
    assert_eq!(sealed.marshal().unwrap().len(), 78);
}

#[test]
fn public_truncated_at_every_offset_is_a_truncation_error() {
    for public in all_publics() {
        let bytes = public.marshal().unwrap();
        for cut in 0..bytes.len() {
            match TpmtPublic::unmarshal(&bytes[..cut]) {
                Err(MarshalError::Truncated { offset, .. }) => {
                    assert!(offset <= cut, "offset {offset} > cut {cut}")
                }
                other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
            }
        }
    }
}

#[test]
fn tpm2b_public_truncated_at_every_offset_is_an_error() {
    let bytes = ek_public().to_tpm2b().unwrap();
    for cut in 0..bytes.len() {
        assert!(
            matches!(
                TpmtPublic::from_tpm2b(&bytes[..cut]),
                Err(MarshalError::Truncated { .. })
            ),
            "cut at {cut}"
        );
    }
}

#[test]
fn tpm2b_public_with_a_size_larger_than_its_content_is_a_size_mismatch() {
    let mut inner = ek_public().marshal().unwrap();
    inner.extend_from_slice(&[0, 0]);
    let sized = tpm2b(&inner, "test").unwrap();
    assert_eq!(
        TpmtPublic::from_tpm2b(&sized),
        Err(MarshalError::SizeMismatch {
            what: "TPM2B_PUBLIC",
            declared: 316,
            actual: 314
        })
    );
}

#[test]
fn public_with_trailing_bytes_is_rejected() {
    let mut bytes = ak_public().marshal().unwrap();
    bytes.push(0);
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::TrailingBytes {
            what: "TPMT_PUBLIC",
            offset: 280,
            count: 1
        })
    );
}

#[test]
fn oversized_auth_policy_length_is_a_length_overflow() {
    let mut bytes = ek_public().marshal().unwrap();
    bytes[8..10].copy_from_slice(&0xFFFFu16.to_be_bytes());
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::LengthOverflow {
            what: "TPMT_PUBLIC.authPolicy",
            offset: 8,
            length: 0xFFFF,
            max: 64
        })
    );
}

#[test]
fn oversized_rsa_modulus_length_is_a_length_overflow() {
    let mut bytes = ek_public().marshal().unwrap();
    bytes[56..58].copy_from_slice(&513u16.to_be_bytes());
    assert!(matches!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::LengthOverflow {
            offset: 56,
            length: 513,
            max: 512,
            ..
        })
    ));
}

#[test]
fn unknown_object_type_and_name_alg_are_named() {
    let mut bytes = ek_public().marshal().unwrap();
    bytes[0..2].copy_from_slice(&0x7777u16.to_be_bytes());
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::UnknownAlgorithm {
            what: "TPMT_PUBLIC.type",
            offset: 0,
            alg: 0x7777
        })
    );
    let mut bytes = ek_public().marshal().unwrap();
    bytes[2..4].copy_from_slice(&0x0099u16.to_be_bytes());
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::UnknownAlgorithm {
            what: "TPMT_PUBLIC.nameAlg",
            offset: 2,
            alg: 0x0099
        })
    );
}

#[test]
fn ecc_public_is_unsupported_not_unknown() {
    let mut bytes = ek_public().marshal().unwrap();
    bytes[0..2].copy_from_slice(&ALG_ECC.to_be_bytes());
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::Unsupported {
            what: "TPMT_PUBLIC.type",
            offset: 0,
            value: ALG_ECC
        })
    );
}

#[test]
fn unknown_symmetric_and_scheme_algorithms_are_named() {
    let mut bytes = ek_public().marshal().unwrap();
    bytes[42..44].copy_from_slice(&0x0BADu16.to_be_bytes());
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::UnknownAlgorithm {
            what: "TPMT_SYM_DEF_OBJECT.algorithm",
            offset: 42,
            alg: 0x0BAD
        })
    );
    let mut bytes = ek_public().marshal().unwrap();
    bytes[48..50].copy_from_slice(&0x0BADu16.to_be_bytes());
    assert_eq!(
        TpmtPublic::unmarshal(&bytes),
        Err(MarshalError::UnknownAlgorithm {
            what: "TPMT_RSA_SCHEME.scheme",
            offset: 48,
            alg: 0x0BAD
        })
    );
}

fn sample_attests() -> Vec<TpmsAttest> {
    vec![
        quote_attest(&[7; 32], &pcrs(&[0, 7, 16, 23])),
        certify_attest(&[1; 20], &ak_public().name().unwrap()),
    ]
}

#[test]
fn attests_round_trip() {
    for attest in sample_attests() {
        let bytes = attest.marshal().unwrap();
        assert_eq!(TpmsAttest::unmarshal(&bytes).unwrap(), attest);
    }
}

#[test]
fn attest_truncated_at_every_offset_is_a_truncation_error() {
    for attest in sample_attests() {
        let bytes = attest.marshal().unwrap();
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    TpmsAttest::unmarshal(&bytes[..cut]),
                    Err(MarshalError::Truncated { .. })
                ),
                "cut at {cut}: {:?}",
                TpmsAttest::unmarshal(&bytes[..cut])
            );
        }
    }
}

#[test]
fn attest_with_wrong_magic_is_wrong_magic() {
    let mut bytes = sample_attests()[0].marshal().unwrap();
    bytes[0] = 0;
    assert_eq!(
        TpmsAttest::unmarshal(&bytes),
        Err(MarshalError::WrongMagic { found: 0x0054_4347 })
    );
}

#[test]
fn attest_of_another_type_is_unsupported() {
    let mut bytes = sample_attests()[0].marshal().unwrap();
    bytes[4..6].copy_from_slice(&0x8014u16.to_be_bytes());
    assert_eq!(
        TpmsAttest::unmarshal(&bytes),
        Err(MarshalError::Unsupported {
            what: "TPMS_ATTEST.type",
            offset: 4,
            value: 0x8014
        })
    );
}

#[test]
fn attest_with_oversized_extra_data_is_a_length_overflow() {
    let attest = sample_attests()[0].clone();
    let mut bytes = attest.marshal().unwrap();
    let extra_offset = 6 + 2 + attest.qualified_signer.len();
    bytes[extra_offset..extra_offset + 2].copy_from_slice(&65u16.to_be_bytes());
    assert_eq!(
        TpmsAttest::unmarshal(&bytes),
        Err(MarshalError::LengthOverflow {
            what: "TPMS_ATTEST.extraData",
            offset: extra_offset,
            length: 65,
            max: 64
        })
    );
}

#[test]
fn pcr_selection_with_too_many_banks_is_a_length_overflow() {
    let bytes = [0, 0, 0, 17];
    assert_eq!(
        PcrSelectionList::read(&mut Reader::new(&bytes)),
        Err(MarshalError::LengthOverflow {
            what: "TPML_PCR_SELECTION.count",
            offset: 0,
            length: 17,
            max: 16
        })
    );
    let huge = [0xFF, 0xFF, 0xFF, 0xFF];
    assert!(matches!(
        PcrSelectionList::read(&mut Reader::new(&huge)),
        Err(MarshalError::LengthOverflow { .. })
    ));
}

#[test]
fn pcr_selection_with_oversized_select_is_a_length_overflow() {
    let bytes = [0, 0, 0, 1, 0, 0x0B, 33];
    assert_eq!(
        PcrSelectionList::read(&mut Reader::new(&bytes)),
        Err(MarshalError::LengthOverflow {
            what: "TPMS_PCR_SELECTION.sizeofSelect",
            offset: 6,
            length: 33,
            max: 32
        })
    );
}

#[test]
fn signatures_round_trip_and_truncations_fail() {
    for pss in [false, true] {
        let bytes = sign(AK_PRIVATE_PEM, b"data", pss);
        let signature = TpmtSignature::unmarshal(&bytes).unwrap();
        assert_eq!(signature.sig_alg, if pss { ALG_RSAPSS } else { ALG_RSASSA });
        assert_eq!(signature.signature.len(), 256);
        assert_eq!(signature.marshal().unwrap(), bytes);
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    TpmtSignature::unmarshal(&bytes[..cut]),
                    Err(MarshalError::Truncated { .. })
                ),
                "cut {cut}"
            );
        }
    }
}

#[test]
fn ecdsa_signature_is_unsupported_and_unknown_alg_is_named() {
    assert_eq!(
        TpmtSignature::unmarshal(&[0x00, 0x18, 0x00, 0x0B]),
        Err(MarshalError::Unsupported {
            what: "TPMT_SIGNATURE.sigAlg",
            offset: 0,
            value: 0x0018
        })
    );
    assert_eq!(
        TpmtSignature::unmarshal(&[0x12, 0x34]),
        Err(MarshalError::UnknownAlgorithm {
            what: "TPMT_SIGNATURE.sigAlg",
            offset: 0,
            alg: 0x1234
        })
    );
    assert_eq!(
        TpmtSignature::unmarshal(&[0x00, 0x14, 0x00, 0x0B, 0x02, 0x01]),
        Err(MarshalError::LengthOverflow {
            what: "TPMS_SIGNATURE_RSA.sig",
            offset: 4,
            length: 513,
            max: 512
        })
    );
}

#[test]
fn tpm2b_helpers_add_and_check_the_size_prefix() {
    let sized = tpm2b(b"abc", "test").unwrap();
    assert_eq!(sized, [0, 3, b'a', b'b', b'c']);
    assert_eq!(tpm2b_content(&sized, "test").unwrap(), b"abc");
    assert!(matches!(
        tpm2b_content(&sized[..4], "test"),
        Err(MarshalError::Truncated {
            offset: 2,
            needed: 3,
            available: 2,
            ..
        })
    ));
    assert!(matches!(
        tpm2b(&vec![0; 70_000], "test"),
        Err(MarshalError::TooLong { length: 70_000, .. })
    ));
}

#[test]
fn reader_reports_the_offset_of_a_truncation() {
    let mut reader = Reader::new(&[1, 2, 3]);
    assert_eq!(reader.u16("a").unwrap(), 0x0102);
    assert_eq!(
        reader.u32("b"),
        Err(MarshalError::Truncated {
            what: "b",
            offset: 2,
            needed: 4,
            available: 1
        })
    );
}

/// Found by the `tpms_attest` fuzz target: a `safe` byte of 0xab was read as `true` and re-marshalled
/// as 1, so the parsed structure was not the signed bytes.
#[test]
fn fuzz_regression_clock_info_safe_must_be_zero_or_one() {
    let crash = hex::decode(
        "ff54434780170022000b7f093592aebbb47767b5655699cdab8c86c4b24f5c93e3b22a3c0100856e9bf1001401010101\
         010100000000000000000000000000ffffffffffffffffffefff0000000000cdab2a0000000700003300000000",
    )
    .unwrap();
    assert_eq!(
        TpmsAttest::unmarshal(&crash),
        Err(MarshalError::InvalidYesNo {
            what: "TPMS_CLOCK_INFO.safe",
            offset: 80,
            value: 0xab
        })
    );
}
