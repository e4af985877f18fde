//! MakeCredential and import blobs end to end against a software stand-in for the TPM (the EK
//! private key): what comes out is recoverable only with the right name, label and key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tpm_support;

use rsa::Oaep;
use sha2::Sha256;
use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::params::{RsaParameters, Scheme, SymmetricDefinition};
use tokendist_core::tpm::{
    ObjectAttributes, PublicParameters, TpmError, TpmtPublic, create_import_blob, make_credential,
    policy_pcr_digest,
};
use tpm_support::*;

#[test]
fn make_credential_round_trips_through_software_activate_credential() {
    let ak_name = ak_public().name().unwrap();
    let secret = [0xC3; 32];
    let (id_object, encrypted_secret) =
        make_credential(&ek_public(), &ak_name, &secret, [1; 32]).unwrap();
    assert_eq!(id_object.len(), 68);
    assert_eq!(&id_object[..2], &[0x00, 0x20]);
    assert_eq!(encrypted_secret.len(), 256);
    let recovered = software_activate(
        &private_key(EK_PRIVATE_PEM),
        &ak_name,
        &id_object,
        &encrypted_secret,
    )
    .unwrap();
    assert_eq!(recovered, secret);
}

#[test]
fn make_credential_is_deterministic_in_its_seed_and_differs_across_seeds() {
    let ak_name = ak_public().name().unwrap();
    let first = make_credential(&ek_public(), &ak_name, b"secret", [5; 32]).unwrap();
    let again = make_credential(&ek_public(), &ak_name, b"secret", [5; 32]).unwrap();
    let other = make_credential(&ek_public(), &ak_name, b"secret", [6; 32]).unwrap();
    assert_eq!(first, again);
    assert_ne!(first.0, other.0);
    assert_ne!(first.1, other.1);
}

#[test]
fn credential_bound_to_another_ak_fails_integrity() {
    let (id_object, encrypted_secret) = make_credential(
        &ek_public(),
        &other_ak_public().name().unwrap(),
        &[1; 32],
        [2; 32],
    )
    .unwrap();
    let error = software_activate(
        &private_key(EK_PRIVATE_PEM),
        &ak_public().name().unwrap(),
        &id_object,
        &encrypted_secret,
    )
    .unwrap_err();
    assert!(error.contains("integrity"), "{error}");
}

#[test]
fn credential_seed_uses_the_identity_label_with_its_nul() {
    let (_, encrypted_secret) = make_credential(
        &ek_public(),
        &ak_public().name().unwrap(),
        &[1; 32],
        [3; 32],
    )
    .unwrap();
    let ek = private_key(EK_PRIVATE_PEM);
    assert!(
        ek.decrypt(
            Oaep::new_with_label::<Sha256, _>("IDENTITY"),
            &encrypted_secret
        )
        .is_err()
    );
    assert_eq!(
        ek.decrypt(
            Oaep::new_with_label::<Sha256, _>("IDENTITY\0"),
            &encrypted_secret
        )
        .unwrap()
        .len(),
        32
    );
}

#[test]
fn credential_secret_longer_than_a_digest_is_too_long() {
    let result = make_credential(
        &ek_public(),
        &ak_public().name().unwrap(),
        &[0; 33],
        [0; 32],
    );
    assert_eq!(
        result,
        Err(TpmError::TooLong {
            what: "credential secret",
            length: 33,
            max: 32
        })
    );
}

#[test]
fn credential_for_a_malformed_name_is_refused() {
    assert_eq!(
        make_credential(&ek_public(), &[0, 0x0B, 1], &[1], [0; 32]),
        Err(TpmError::BadName { length: 3 })
    );
}

fn keyed_hash_parent() -> TpmtPublic {
    TpmtPublic {
        name_alg: ALG_SHA256,
        attributes: ObjectAttributes(0),
        auth_policy: vec![],
        parameters: PublicParameters::KeyedHash {
            scheme: Scheme::NULL,
        },
        unique: vec![0; 32],
    }
}

#[test]
fn a_non_rsa_ek_is_refused() {
    let result = make_credential(
        &keyed_hash_parent(),
        &ak_public().name().unwrap(),
        &[1],
        [0; 32],
    );
    assert_eq!(
        result,
        Err(TpmError::EkNotRsa {
            found: ALG_KEYEDHASH
        })
    );
}

#[test]
fn an_ek_without_aes_cfb_is_refused() {
    let mut ek = ek_public();
    ek.parameters = PublicParameters::Rsa(RsaParameters {
        symmetric: SymmetricDefinition::Null,
        scheme: Scheme::NULL,
        key_bits: 2048,
        exponent: 0,
    });
    assert_eq!(
        create_import_blob(&ek, b"x", None, [0; 32]),
        Err(TpmError::EkSymmetric)
    );
}

#[test]
fn an_ek_with_sha1_names_is_refused() {
    let mut ek = ek_public();
    ek.name_alg = ALG_SHA1;
    assert_eq!(
        create_import_blob(&ek, b"x", None, [0; 32]),
        Err(TpmError::EkNameAlg { found: ALG_SHA1 })
    );
}

#[test]
fn import_blob_round_trips_through_software_import_and_unseal() {
    let policy = policy_pcr_digest(ALG_SHA256, &pcrs(&[7, 23])).unwrap();
    let secret = [0x42; 42];
    let blob = create_import_blob(&ek_public(), &secret, Some(&policy), [4; 32]).unwrap();
    assert_eq!(blob.public.len(), 78);
    assert_eq!(blob.duplicate.len(), 118);
    assert_eq!(blob.encrypted_seed.len(), 256);
    assert_eq!(
        software_unseal(&private_key(EK_PRIVATE_PEM), &blob).unwrap(),
        secret
    );
}

#[test]
fn sealed_object_has_the_documented_public_area() {
    let policy = policy_pcr_digest(ALG_SHA256, &pcrs(&[7, 23])).unwrap();
    let blob = create_import_blob(&ek_public(), b"data", Some(&policy), [4; 32]).unwrap();
    let public = TpmtPublic::unmarshal(&blob.public).unwrap();
    assert_eq!(public.object_type(), ALG_KEYEDHASH);
    assert_eq!(public.name_alg, ALG_SHA256);
    assert_eq!(
        public.attributes,
        ObjectAttributes(0),
        "fixedTPM/fixedParent/userWithAuth must be clear"
    );
    assert_eq!(public.auth_policy, policy);
    assert_eq!(
        public.parameters,
        PublicParameters::KeyedHash {
            scheme: Scheme::NULL
        }
    );
    assert_eq!(public.unique.len(), 32);
}

#[test]
fn sealed_object_without_policy_is_unsealable_with_the_empty_auth() {
    let blob = create_import_blob(&ek_public(), b"data", None, [4; 32]).unwrap();
    let public = TpmtPublic::unmarshal(&blob.public).unwrap();
    assert_eq!(
        public.attributes,
        ObjectAttributes(ObjectAttributes::USER_WITH_AUTH)
    );
    assert!(public.auth_policy.is_empty());
}

#[test]
fn tampered_duplicate_fails_integrity() {
    let mut blob = create_import_blob(&ek_public(), b"data", None, [4; 32]).unwrap();
    let last = blob.duplicate.len() - 1;
    blob.duplicate[last] ^= 1;
    let error = software_unseal(&private_key(EK_PRIVATE_PEM), &blob).unwrap_err();
    assert!(error.contains("integrity"), "{error}");
}

#[test]
fn import_blob_with_a_swapped_public_fails_integrity() {
    let mut blob = create_import_blob(&ek_public(), b"data", None, [4; 32]).unwrap();
    blob.public = create_import_blob(&ek_public(), b"other", None, [5; 32])
        .unwrap()
        .public;
    let error = software_unseal(&private_key(EK_PRIVATE_PEM), &blob).unwrap_err();
    assert!(error.contains("integrity"), "{error}");
}

#[test]
fn sealed_data_over_128_bytes_is_too_long() {
    assert_eq!(
        create_import_blob(&ek_public(), &[0; 129], None, [0; 32]),
        Err(TpmError::TooLong {
            what: "sealed data",
            length: 129,
            max: 128
        })
    );
}

#[test]
fn policy_digest_of_the_wrong_length_is_refused() {
    assert_eq!(
        create_import_blob(&ek_public(), b"x", Some(&[0; 20]), [0; 32]),
        Err(TpmError::PolicyDigestLength { length: 20 })
    );
}
