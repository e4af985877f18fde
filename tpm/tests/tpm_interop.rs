//! Interop between this crate's TPM layer (real swtpm) and `tokendist_core::tpm` (the server's pure
//! Rust side): MakeCredential → ActivateCredential, import blob → Import/Load/PolicyPCR/Unseal,
//! quote and certify → software verification, envelopes, and the EK against its certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use tokendist_core::keys::pem_block as pem;
use tokendist_core::tpm::{
    self as core_tpm, Envelope, QuoteError, TpmtPublic, check_ak_template, create_import_blob,
    ek_matches_pem, make_credential, open_envelope_with_data_key, policy_pcr_digest, seal_envelope,
    verify_certify, verify_quote,
};
use tokendist_testkit::Swtpm;
use tokendist_tpm::{AkInfo, PcrBank, TpmConfig, TpmError, TpmHandle};

const TPM_ALG_SHA256: u16 = 0x000B;
/// PCRs a test may extend (resettable at locality 0) plus one firmware PCR.
const POLICY_PCRS: [u32; 3] = [7, 16, 23];

async fn connect(swtpm: &Swtpm) -> TpmHandle {
    TpmHandle::connect(TpmConfig::new(swtpm.tcti()))
        .await
        .expect("connect to swtpm")
}

/// Unseals `blob` under [`POLICY_PCRS`] of the SHA-256 bank.
async fn unseal_policy_pcrs(
    tpm: &TpmHandle,
    blob: &core_tpm::ImportBlob,
) -> Result<zeroize::Zeroizing<Vec<u8>>, TpmError> {
    tpm.unseal_import_blob(
        &blob.public,
        &blob.duplicate,
        &blob.encrypted_seed,
        PcrBank::Sha256,
        &POLICY_PCRS,
    )
    .await
}

fn seed() -> [u8; 32] {
    rand::random()
}

fn ek_public(tpm_ek: &[u8]) -> TpmtPublic {
    TpmtPublic::from_tpm2b(tpm_ek).expect("EK public is a TPM2B_PUBLIC")
}

fn ak_public(ak: &AkInfo) -> TpmtPublic {
    TpmtPublic::from_tpm2b(&ak.public).expect("AK public is a TPM2B_PUBLIC")
}

/// Starts a swtpm, connects, and creates an AK; `None` (test skipped) when swtpm is not installed.
async fn tpm_with_ak() -> Option<(Swtpm, TpmHandle, AkInfo)> {
    let swtpm = Swtpm::start_or_skip().await.expect("start swtpm")?;
    let tpm = connect(&swtpm).await;
    let ak = tpm.create_ak().await.expect("create AK");
    Some((swtpm, tpm, ak))
}

#[tokio::test]
async fn software_make_credential_is_recovered_by_tpm_activate_credential() {
    let Some((_swtpm, tpm, ak)) = tpm_with_ak().await else {
        return;
    };
    let ek = tpm.ek_public().await.unwrap();
    let secret = seed();
    let (id_object, encrypted_secret) =
        make_credential(&ek_public(&ek.public), &ak.name, &secret, seed()).unwrap();

    let recovered = tpm
        .activate_credential(&ak, &id_object, &encrypted_secret)
        .await
        .unwrap();

    assert_eq!(recovered.as_slice(), secret.as_slice());
}

#[tokio::test]
async fn credential_made_for_one_tpm_does_not_activate_on_a_different_tpm() {
    let Some((_victim_swtpm, victim, _victim_ak)) = tpm_with_ak().await else {
        return;
    };
    let attacker_swtpm = Swtpm::start_with_new_identity().await.unwrap();
    let attacker = connect(&attacker_swtpm).await;
    let attacker_ak = attacker.create_ak().await.unwrap();
    let victim_ek = victim.ek_public().await.unwrap();
    let attacker_ek = attacker.ek_public().await.unwrap();
    assert_ne!(
        victim_ek.public, attacker_ek.public,
        "the second swtpm must have its own EK"
    );

    // The attacker claims its AK lives with the victim's EK; the server wraps to the victim's EK.
    let (id_object, encrypted_secret) = make_credential(
        &ek_public(&victim_ek.public),
        &attacker_ak.name,
        &seed(),
        seed(),
    )
    .unwrap();
    let error = attacker
        .activate_credential(&attacker_ak, &id_object, &encrypted_secret)
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            TpmError::Command {
                op: "ActivateCredential",
                ..
            }
        ),
        "{error}"
    );
    // libtpms reports a failed OAEP decryption of the seed as TPM_RC_FAILURE (see tpm-notes.md).
    assert_eq!(
        error.response_code_name(),
        Some("TPM_RC_FAILURE"),
        "{error}"
    );
}

#[tokio::test]
async fn software_import_blob_is_unsealed_under_matching_pcrs() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;
    tpm.extend_pcr(23, b"workload measurement").await.unwrap();
    let pcrs = tpm.read_pcrs(PcrBank::Sha256, &POLICY_PCRS).await.unwrap();
    let policy = policy_pcr_digest(TPM_ALG_SHA256, &pcrs).unwrap();
    let ek = tpm.ek_public().await.unwrap();
    let data = b"a 42-byte secret for the approved vm only!";
    let blob = create_import_blob(&ek_public(&ek.public), data, Some(&policy), seed()).unwrap();

    let unsealed = unseal_policy_pcrs(&tpm, &blob).await.unwrap();

    assert_eq!(unsealed.as_slice(), data.as_slice());
}

#[tokio::test]
async fn unseal_after_extending_a_bound_pcr_fails_with_policy_fail() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;
    let pcrs = tpm.read_pcrs(PcrBank::Sha256, &POLICY_PCRS).await.unwrap();
    let policy = policy_pcr_digest(TPM_ALG_SHA256, &pcrs).unwrap();
    let ek = tpm.ek_public().await.unwrap();
    let blob =
        create_import_blob(&ek_public(&ek.public), b"sealed", Some(&policy), seed()).unwrap();

    tpm.extend_pcr(16, b"tampering").await.unwrap();
    let error = unseal_policy_pcrs(&tpm, &blob).await.unwrap_err();

    assert!(
        matches!(error, TpmError::Command { op: "Unseal", .. }),
        "{error}"
    );
    assert_eq!(
        error.response_code_name(),
        Some("TPM_RC_POLICY_FAIL"),
        "{error}"
    );
    assert_eq!(
        error.response_code().map(|code| code.raw()),
        Some(0x99d),
        "{error}"
    );
}

#[tokio::test]
async fn quote_verifies_in_software_and_fails_for_another_nonce() {
    let Some((_swtpm, tpm, ak)) = tpm_with_ak().await else {
        return;
    };
    tpm.extend_pcr(23, b"boot").await.unwrap();
    let nonce = seed();

    let quote = tpm
        .quote(&ak, &nonce, PcrBank::Sha256, &[0, 7, 16, 23])
        .await
        .unwrap();

    assert_eq!(
        quote.pcr_values.keys().copied().collect::<Vec<_>>(),
        vec![0, 7, 16, 23]
    );
    let verified = verify_quote(
        &ak_public(&ak),
        &quote.attest,
        &quote.signature,
        &nonce,
        &quote.pcr_values,
    );
    assert!(verified.is_ok(), "{verified:?}");
    let other_nonce = seed();
    let replayed = verify_quote(
        &ak_public(&ak),
        &quote.attest,
        &quote.signature,
        &other_nonce,
        &quote.pcr_values,
    );
    assert_eq!(replayed.unwrap_err(), QuoteError::NonceMismatch);
}

#[tokio::test]
async fn quote_does_not_verify_against_pcr_values_from_before_an_extend() {
    let Some((_swtpm, tpm, ak)) = tpm_with_ak().await else {
        return;
    };
    let before = tpm.read_pcrs(PcrBank::Sha256, &[16, 23]).await.unwrap();
    tpm.extend_pcr(16, b"changed").await.unwrap();
    let nonce = seed();

    let quote = tpm
        .quote(&ak, &nonce, PcrBank::Sha256, &[16, 23])
        .await
        .unwrap();

    assert_ne!(quote.pcr_values, before);
    let stale = verify_quote(
        &ak_public(&ak),
        &quote.attest,
        &quote.signature,
        &nonce,
        &before,
    );
    assert_eq!(stale.unwrap_err(), QuoteError::PcrDigestMismatch);
}

#[tokio::test]
async fn certify_by_the_ak_verifies_in_software_and_names_the_certified_key() {
    let Some((_swtpm, tpm, ak)) = tpm_with_ak().await else {
        return;
    };
    let subject = tpm.create_ak().await.unwrap();
    let nonce = seed();

    let certification = tpm.certify(&ak, &subject, &nonce).await.unwrap();

    let verified = verify_certify(
        &ak_public(&ak),
        &certification.attest,
        &certification.signature,
        &subject.name,
        &nonce,
    );
    assert!(verified.is_ok(), "{verified:?}");
    let wrong_key = verify_certify(
        &ak_public(&ak),
        &certification.attest,
        &certification.signature,
        &ak.name,
        &nonce,
    );
    assert_eq!(wrong_key.unwrap_err(), QuoteError::NameMismatch);
}

#[tokio::test]
async fn tpm_ak_passes_the_ak_template_check_and_its_name_is_the_software_name() {
    let Some((_swtpm, _tpm, ak)) = tpm_with_ak().await else {
        return;
    };

    let public = ak_public(&ak);

    assert_eq!(check_ak_template(&public), Ok(()));
    assert_eq!(public.name().unwrap(), ak.name);
}

#[tokio::test]
async fn envelopes_of_1_byte_128_bytes_and_1_mib_round_trip_through_the_tpm() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;
    let pcrs = tpm.read_pcrs(PcrBank::Sha256, &POLICY_PCRS).await.unwrap();
    let policy = policy_pcr_digest(TPM_ALG_SHA256, &pcrs).unwrap();
    let ek = ek_public(&tpm.ek_public().await.unwrap().public);
    let aad = b"instance 1234567890 / secret db-password";

    for size in [1usize, 128, 1 << 20] {
        let plaintext: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let sealed = seal_envelope(&ek, &plaintext, Some(&policy), aad, seed()).unwrap();
        let envelope = Envelope::decode(&sealed).unwrap();
        let blob = &envelope.import_blob;

        let data_key = unseal_policy_pcrs(&tpm, blob).await.unwrap();
        let opened = open_envelope_with_data_key(&envelope, &data_key, aad).unwrap();

        assert_eq!(opened.len(), size);
        assert!(
            opened.as_slice() == plaintext.as_slice(),
            "envelope of {size} bytes did not round trip"
        );
    }
}

#[tokio::test]
async fn ek_public_from_the_tpm_matches_its_certificate_issued_by_the_swtpm_ca() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;

    let ek = tpm.ek_public().await.unwrap();

    let der = ek
        .certificate
        .expect("the provisioned swtpm has an EK certificate");
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).unwrap();
    let spki_pem = pem("PUBLIC KEY", certificate.public_key().raw);
    assert!(
        ek_matches_pem(&ek_public(&ek.public), &spki_pem),
        "EK public differs from the certificate's key"
    );
    let issuer_der = x509_parser::pem::parse_x509_pem(swtpm.ek_ca().issuer_pem.as_bytes())
        .unwrap()
        .1
        .contents;
    let (_, issuer) = x509_parser::parse_x509_certificate(&issuer_der).unwrap();
    assert_eq!(certificate.issuer(), issuer.subject());
    // A different TPM's EK does not match this certificate.
    let other = Swtpm::start_with_new_identity().await.unwrap();
    let other_ek = connect(&other).await.ek_public().await.unwrap();
    assert!(!ek_matches_pem(&ek_public(&other_ek.public), &spki_pem));
}

#[tokio::test]
async fn quote_values_equal_a_separate_pcr_read_and_the_software_composite() {
    let Some((_swtpm, tpm, ak)) = tpm_with_ak().await else {
        return;
    };
    let read: BTreeMap<u32, Vec<u8>> = tpm.read_pcrs(PcrBank::Sha256, &[0, 23]).await.unwrap();

    let quote = tpm
        .quote(&ak, &seed(), PcrBank::Sha256, &[23, 0])
        .await
        .unwrap();

    assert_eq!(quote.pcr_values, read);
    assert_eq!(core_tpm::pcr_composite_digest(&read).len(), 32);
}
