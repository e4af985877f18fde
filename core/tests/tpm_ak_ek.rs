//! The AK template check (`tpm.ak`) and EK public keys between TPMT_PUBLIC and Compute's SPKI PEM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tpm_support;

use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::params::{RsaParameters, Scheme, SymmetricDefinition};
use tokendist_core::tpm::{
    AkError, EkError, ObjectAttributes, PublicParameters, check_ak_template, ek_matches_pem,
    ek_public_from_pem, ek_public_to_pem, ek_template_from_pem,
};
use tpm_support::*;

fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../../shared/fixtures/gce/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn shielded_encryption_ek_pem() -> String {
    fixture("compute-shieldedInstanceIdentity-with-ekcert.json")["encryptionKey"]["ekPub"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rsa_parameters(ak: &mut tokendist_core::tpm::TpmtPublic) -> &mut RsaParameters {
    match &mut ak.parameters {
        PublicParameters::Rsa(parameters) => parameters,
        PublicParameters::KeyedHash { .. } => panic!("AK must be RSA"),
    }
}

#[test]
fn default_ak_template_passes() {
    assert_eq!(check_ak_template(&ak_public()), Ok(()));
    assert_eq!(ak_public().attributes.0, 0x0005_0072);
}

#[test]
fn ak_with_decrypt_set_is_refused_naming_decrypt() {
    let mut ak = ak_public();
    ak.attributes.0 |= ObjectAttributes::DECRYPT;
    assert_eq!(
        check_ak_template(&ak),
        Err(AkError::ForbiddenAttribute {
            attribute: "decrypt"
        })
    );
}

#[test]
fn ak_missing_each_required_attribute_is_refused_naming_it() {
    for (bit, name) in [
        (ObjectAttributes::RESTRICTED, "restricted"),
        (ObjectAttributes::SIGN, "sign"),
        (ObjectAttributes::FIXED_TPM, "fixedTPM"),
        (ObjectAttributes::FIXED_PARENT, "fixedParent"),
        (
            ObjectAttributes::SENSITIVE_DATA_ORIGIN,
            "sensitiveDataOrigin",
        ),
        (ObjectAttributes::USER_WITH_AUTH, "userWithAuth"),
    ] {
        let mut ak = ak_public();
        ak.attributes.0 &= !bit;
        assert_eq!(
            check_ak_template(&ak),
            Err(AkError::MissingAttribute { attribute: name })
        );
    }
}

#[test]
fn the_ek_is_not_an_ak() {
    assert_eq!(
        check_ak_template(&ek_public()),
        Err(AkError::MissingAttribute { attribute: "sign" })
    );
}

#[test]
fn ak_with_another_key_size_is_refused() {
    let mut ak = ak_public();
    rsa_parameters(&mut ak).key_bits = 3072;
    assert_eq!(
        check_ak_template(&ak),
        Err(AkError::KeyBits { found: 3072 })
    );
}

#[test]
fn ak_with_sha1_or_oaep_scheme_is_refused() {
    let mut ak = ak_public();
    rsa_parameters(&mut ak).scheme = Scheme::with_hash(ALG_RSASSA, ALG_SHA1);
    assert_eq!(
        check_ak_template(&ak),
        Err(AkError::Scheme {
            scheme: ALG_RSASSA,
            hash_alg: ALG_SHA1
        })
    );
    rsa_parameters(&mut ak).scheme = Scheme::with_hash(ALG_OAEP, ALG_SHA256);
    assert_eq!(
        check_ak_template(&ak),
        Err(AkError::Scheme {
            scheme: ALG_OAEP,
            hash_alg: ALG_SHA256
        })
    );
}

#[test]
fn ak_with_rsapss_sha256_passes() {
    let mut ak = ak_public();
    rsa_parameters(&mut ak).scheme = Scheme::with_hash(ALG_RSAPSS, ALG_SHA256);
    assert_eq!(check_ak_template(&ak), Ok(()));
}

#[test]
fn ak_with_a_symmetric_algorithm_is_refused() {
    let mut ak = ak_public();
    rsa_parameters(&mut ak).symmetric = SymmetricDefinition::AES_128_CFB;
    assert_eq!(check_ak_template(&ak), Err(AkError::Symmetric));
}

#[test]
fn ak_with_sha1_names_is_refused() {
    let mut ak = ak_public();
    ak.name_alg = ALG_SHA1;
    assert_eq!(
        check_ak_template(&ak),
        Err(AkError::NameAlg { found: ALG_SHA1 })
    );
}

#[test]
fn shielded_identity_ek_pem_becomes_a_default_ek_template() {
    let pem = shielded_encryption_ek_pem();
    let key = ek_public_from_pem(&pem).unwrap();
    assert_eq!(rsa::traits::PublicKeyParts::size(&key), 256);
    let ek = ek_template_from_pem(&pem).unwrap();
    assert_eq!(ek.marshal().unwrap().len(), 314);
    assert_eq!(ek.attributes, ObjectAttributes::DEFAULT_EK);
    assert!(ek_matches_pem(&ek, &pem));
}

#[test]
fn ek_to_pem_round_trips_through_the_template() {
    let pem = ek_public_to_pem(&ek_public()).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(ek_template_from_pem(&pem).unwrap(), ek_public());
    assert!(ek_matches_pem(&ek_public(), &pem));
}

#[test]
fn ek_does_not_match_another_keys_pem() {
    let signing_pem =
        fixture("compute-shieldedInstanceIdentity-with-ekcert.json")["signingKey"]["ekPub"]
            .as_str()
            .unwrap()
            .to_owned();
    let ek = ek_template_from_pem(&shielded_encryption_ek_pem()).unwrap();
    assert!(!ek_matches_pem(&ek, &signing_pem));
    assert!(!ek_matches_pem(&ek_public(), &shielded_encryption_ek_pem()));
}

#[test]
fn garbage_pem_is_a_pem_error_and_never_matches() {
    assert!(matches!(
        ek_public_from_pem("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"),
        Err(EkError::Pem(_))
    ));
    assert!(!ek_matches_pem(&ek_public(), "not a pem"));
}

#[test]
fn keyed_hash_object_has_no_ek_pem() {
    let blob = tokendist_core::tpm::create_import_blob(&ek_public(), b"x", None, [0; 32]).unwrap();
    let sealed = tokendist_core::tpm::TpmtPublic::unmarshal(&blob.public).unwrap();
    assert_eq!(
        ek_public_to_pem(&sealed),
        Err(EkError::NotRsa {
            found: ALG_KEYEDHASH
        })
    );
}
