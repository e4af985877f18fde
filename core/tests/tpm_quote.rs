//! Quote and certify verification: the positive paths with RSASSA and RSAPSS, and every denial
//! (other nonce, one PCR bit off, wrong AK, signature bit flip, wrong type, selection mismatch).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tpm_support;

use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::{
    Attested, MarshalError, PcrSelection, PcrSelectionList, QuoteError, TpmError, TpmtSignature,
    verify_certify, verify_quote,
};
use tpm_support::*;

const NONCE: [u8; 32] = [0xAB; 32];

fn signed_quote(pcr_indices: &[u32], pss: bool) -> (Vec<u8>, Vec<u8>) {
    let attest = quote_attest(&NONCE, &pcrs(pcr_indices)).marshal().unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, pss);
    (attest, signature)
}

#[test]
fn quote_signed_with_rsassa_verifies_and_reports_its_contents() {
    let (attest, signature) = signed_quote(&[0, 7, 16, 23], false);
    let verified = verify_quote(
        &ak_public(),
        &attest,
        &signature,
        &NONCE,
        &pcrs(&[0, 7, 16, 23]),
    )
    .unwrap();
    assert_eq!(verified.quote.pcr_select.0[0].indices(), vec![0, 7, 16, 23]);
    assert_eq!(verified.clock_info.reset_count, 3);
    assert_eq!(verified.firmware_version, 0x2019_1023_0016_3636);
    assert_eq!(verified.qualified_signer, ak_public().name().unwrap());
}

#[test]
fn quote_signed_with_rsapss_verifies() {
    let (attest, signature) = signed_quote(&[0, 7], true);
    assert!(verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0, 7])).is_ok());
}

#[test]
fn quote_over_another_nonce_is_a_nonce_mismatch() {
    let (attest, signature) = signed_quote(&[0, 7], false);
    assert_eq!(
        verify_quote(
            &ak_public(),
            &attest,
            &signature,
            &[0xAC; 32],
            &pcrs(&[0, 7])
        ),
        Err(QuoteError::NonceMismatch)
    );
}

#[test]
fn one_pcr_bit_off_is_a_pcr_digest_mismatch() {
    let (attest, signature) = signed_quote(&[0, 7, 23], false);
    let mut expected = pcrs(&[0, 7, 23]);
    expected.get_mut(&23).unwrap()[0] ^= 0x01;
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &expected),
        Err(QuoteError::PcrDigestMismatch)
    );
}

#[test]
fn quote_verified_with_the_wrong_ak_is_a_bad_signature() {
    let (attest, signature) = signed_quote(&[0, 7], false);
    assert_eq!(
        verify_quote(
            &other_ak_public(),
            &attest,
            &signature,
            &NONCE,
            &pcrs(&[0, 7])
        ),
        Err(QuoteError::BadSignature)
    );
}

#[test]
fn signature_bit_flip_is_a_bad_signature() {
    let (attest, mut signature) = signed_quote(&[0, 7], false);
    let last = signature.len() - 1;
    signature[last] ^= 0x80;
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0, 7])),
        Err(QuoteError::BadSignature)
    );
}

#[test]
fn attest_bit_flip_is_a_bad_signature() {
    let (mut attest, signature) = signed_quote(&[0, 7], false);
    attest[20] ^= 0x01;
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0, 7])),
        Err(QuoteError::BadSignature)
    );
}

#[test]
fn signed_certify_presented_as_a_quote_is_the_wrong_type() {
    let attest = certify_attest(&NONCE, &ak_public().name().unwrap())
        .marshal()
        .unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0])),
        Err(QuoteError::WrongType {
            found: ST_ATTEST_CERTIFY,
            expected: ST_ATTEST_QUOTE
        })
    );
}

#[test]
fn signed_attest_of_an_unsupported_type_is_the_wrong_type() {
    let mut attest = quote_attest(&NONCE, &pcrs(&[0])).marshal().unwrap();
    attest[4..6].copy_from_slice(&0x8015u16.to_be_bytes());
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0])),
        Err(QuoteError::WrongType {
            found: 0x8015,
            expected: ST_ATTEST_QUOTE
        })
    );
}

#[test]
fn signed_attest_with_wrong_magic_is_wrong_magic() {
    let mut attest = quote_attest(&NONCE, &pcrs(&[0])).marshal().unwrap();
    attest[0..4].copy_from_slice(&0xFF54_4348u32.to_be_bytes());
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0])),
        Err(QuoteError::WrongMagic { found: 0xFF54_4348 })
    );
}

#[test]
fn quote_covering_an_extra_pcr_is_a_selection_mismatch() {
    let (attest, signature) = signed_quote(&[0, 7, 14], false);
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0, 7])),
        Err(QuoteError::PcrSelectionMismatch {
            expected: vec![0, 7]
        })
    );
}

#[test]
fn quote_of_the_sha1_bank_is_a_selection_mismatch() {
    let mut quote = quote_attest(&NONCE, &pcrs(&[0, 7]));
    if let Attested::Quote(info) = &mut quote.attested {
        info.pcr_select = PcrSelectionList(vec![PcrSelection::new(ALG_SHA1, [0, 7]).unwrap()]);
    }
    let attest = quote.marshal().unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &pcrs(&[0, 7])),
        Err(QuoteError::PcrSelectionMismatch {
            expected: vec![0, 7]
        })
    );
}

#[test]
fn expected_pcr_values_of_the_wrong_size_are_refused() {
    let (attest, signature) = signed_quote(&[0, 7], false);
    let mut expected = pcrs(&[0, 7]);
    expected.insert(7, vec![7; 20]);
    assert_eq!(
        verify_quote(&ak_public(), &attest, &signature, &NONCE, &expected),
        Err(QuoteError::ExpectedPcrs(TpmError::PcrValueLength {
            index: 7,
            length: 20,
            expected: 32
        }))
    );
}

#[test]
fn sha1_signature_is_refused_by_scheme() {
    let (attest, signature) = signed_quote(&[0], false);
    let mut parsed = TpmtSignature::unmarshal(&signature).unwrap();
    parsed.hash_alg = ALG_SHA1;
    assert_eq!(
        verify_quote(
            &ak_public(),
            &attest,
            &parsed.marshal().unwrap(),
            &NONCE,
            &pcrs(&[0])
        ),
        Err(QuoteError::SignatureScheme {
            sig_alg: ALG_RSASSA,
            hash_alg: ALG_SHA1
        })
    );
}

#[test]
fn malformed_signature_bytes_are_a_malformed_signature() {
    let (attest, _) = signed_quote(&[0], false);
    assert!(matches!(
        verify_quote(&ak_public(), &attest, &[0x00, 0x14], &NONCE, &pcrs(&[0])),
        Err(QuoteError::MalformedSignature(
            MarshalError::Truncated { .. }
        ))
    ));
}

#[test]
fn certify_of_the_expected_key_verifies() {
    let name = other_ak_public().name().unwrap();
    let attest = certify_attest(&[3; 20], &name).marshal().unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    let info = verify_certify(&ak_public(), &attest, &signature, &name, &[3; 20]).unwrap();
    assert_eq!(info.name, name);
}

#[test]
fn certify_of_another_key_is_a_name_mismatch() {
    let attest = certify_attest(&[3; 20], &other_ak_public().name().unwrap())
        .marshal()
        .unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    assert_eq!(
        verify_certify(
            &ak_public(),
            &attest,
            &signature,
            &ek_public().name().unwrap(),
            &[3; 20]
        ),
        Err(QuoteError::NameMismatch)
    );
}

#[test]
fn certify_with_another_nonce_is_a_nonce_mismatch() {
    let name = other_ak_public().name().unwrap();
    let attest = certify_attest(&[3; 20], &name).marshal().unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    assert_eq!(
        verify_certify(&ak_public(), &attest, &signature, &name, &[4; 20]),
        Err(QuoteError::NonceMismatch)
    );
}

#[test]
fn quote_presented_as_a_certify_is_the_wrong_type() {
    let (attest, signature) = signed_quote(&[0], false);
    assert_eq!(
        verify_certify(
            &ak_public(),
            &attest,
            &signature,
            &ak_public().name().unwrap(),
            &NONCE
        ),
        Err(QuoteError::WrongType {
            found: ST_ATTEST_QUOTE,
            expected: ST_ATTEST_CERTIFY
        })
    );
}
