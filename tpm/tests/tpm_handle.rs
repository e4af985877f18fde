//! The TPM handle against a private swtpm: connection errors, the EK, handle hygiene (swtpm has 3
//! object slots: nothing may stay loaded, on success or failure), leftovers from killed clients,
//! input validation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tokendist_core::tpm::{TpmtPublic, create_import_blob, make_credential, policy_pcr_digest};
use tokendist_testkit::{Swtpm, closed_port};
use tokendist_tpm::{LoadedHandles, PcrBank, TpmConfig, TpmError, TpmHandle};

const NOTHING_LOADED: LoadedHandles = LoadedHandles {
    transient_objects: 0,
    sessions: 0,
};

async fn connect(swtpm: &Swtpm) -> TpmHandle {
    TpmHandle::connect(TpmConfig::new(swtpm.tcti()))
        .await
        .expect("connect to swtpm")
}

#[test]
fn tpm_handle_is_send_sync_and_clone() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    assert_shareable::<TpmHandle>();
}

#[tokio::test]
async fn missing_tpm_device_is_a_no_tpm_error_naming_the_device() {
    let error = TpmHandle::connect(TpmConfig::new("device:/nonexistent/tpmrm0"))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, TpmError::NoTpm { tcti, .. } if tcti == "/nonexistent/tpmrm0"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("no TPM at /nonexistent/tpmrm0: No such file or directory"),
        "{error}"
    );
}

#[tokio::test]
async fn swtpm_port_without_a_tpm_is_a_no_tpm_error() {
    let closed = closed_port();
    let tcti = format!("swtpm:host=127.0.0.1,port={}", closed.port());

    let error = TpmHandle::connect(TpmConfig::new(tcti.clone()))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, TpmError::NoTpm { tcti: t, .. } if *t == tcti),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_tcti_is_rejected_before_connecting() {
    let error = TpmHandle::connect(TpmConfig::new("carrier-pigeon:coop=3"))
        .await
        .unwrap_err();

    assert!(matches!(error, TpmError::InvalidTcti { .. }), "{error:?}");
}

#[tokio::test]
async fn provisioned_swtpm_uses_its_persistent_ek_and_has_an_ek_certificate() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;

    let ek = tpm.ek_public().await.unwrap();

    assert!(
        ek.certificate.as_ref().is_some_and(|der| der.len() > 500),
        "no EK certificate"
    );
    assert_eq!(
        tpm.loaded_handles().await.unwrap(),
        NOTHING_LOADED,
        "a persistent EK needs no transient slot"
    );
    assert_eq!(tpm.vendor(), "SW   TPM");
    let public = TpmtPublic::from_tpm2b(&ek.public).unwrap();
    assert_eq!(public.auth_policy.len(), 32);
}

#[tokio::test]
async fn unprovisioned_tpm_gets_its_ek_from_the_template_and_has_no_certificate() {
    let Some(_) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let swtpm = Swtpm::start_unprovisioned().await.unwrap();
    let tpm = connect(&swtpm).await;

    let ek = tpm.ek_public().await.unwrap();
    let ak = tpm.create_ak().await.unwrap();
    let signer = tpm.create_ak().await.unwrap();

    assert_eq!(ek.certificate, None);
    let ek_public = TpmtPublic::from_tpm2b(&ek.public).unwrap();
    let (id_object, encrypted_secret) =
        make_credential(&ek_public, &ak.name, b"secret", rand::random()).unwrap();
    let secret = tpm
        .activate_credential(&ak, &id_object, &encrypted_secret)
        .await
        .unwrap();
    assert_eq!(secret.as_slice(), b"secret");
    // The created EK holds one of the 3 slots for the worker's lifetime; certify needs the other two.
    assert!(tpm.certify(&signer, &ak, b"nonce").await.is_ok());
    let loaded = tpm.loaded_handles().await.unwrap();
    assert_eq!(
        loaded,
        LoadedHandles {
            transient_objects: 1,
            sessions: 0
        }
    );
}

#[tokio::test]
async fn two_swtpms_from_the_template_have_the_same_ek() {
    let Some(first) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let second = Swtpm::start().await.unwrap();

    let first_ek = connect(&first).await.ek_public().await.unwrap();
    let second_ek = connect(&second).await.ek_public().await.unwrap();

    assert_ne!(first.port(), second.port());
    assert_eq!(first_ek, second_ek);
}

#[tokio::test]
async fn fifty_operations_in_a_row_succeeding_and_failing_leave_nothing_loaded() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;
    let ak = tpm.create_ak().await.unwrap();
    let ek = TpmtPublic::from_tpm2b(&tpm.ek_public().await.unwrap().public).unwrap();
    let pcrs = tpm.read_pcrs(PcrBank::Sha256, &[16]).await.unwrap();
    let policy = policy_pcr_digest(0x000B, &pcrs).unwrap();
    let good_blob = create_import_blob(&ek, b"data", Some(&policy), rand::random()).unwrap();
    let wrong_policy = [7u8; 32];
    let refused_blob =
        create_import_blob(&ek, b"data", Some(&wrong_policy), rand::random()).unwrap();
    let (id_object, encrypted_secret) =
        make_credential(&ek, &ak.name, b"credential", rand::random()).unwrap();
    let mut wrong_name = ak.name.clone();
    wrong_name[5] ^= 1;
    let (foreign_id_object, foreign_secret) =
        make_credential(&ek, &wrong_name, b"credential", rand::random()).unwrap();

    for round in 0..50 {
        match round % 5 {
            0 => assert_eq!(
                tpm.activate_credential(&ak, &id_object, &encrypted_secret)
                    .await
                    .unwrap()
                    .as_slice(),
                b"credential"
            ),
            1 => {
                let error = tpm
                    .activate_credential(&ak, &foreign_id_object, &foreign_secret)
                    .await
                    .unwrap_err();
                assert_eq!(
                    error.response_code_name(),
                    Some("TPM_RC_INTEGRITY"),
                    "round {round}: {error}"
                );
            }
            2 => {
                let quote = tpm
                    .quote(&ak, &[round as u8; 32], PcrBank::Sha256, &[16])
                    .await
                    .unwrap();
                assert_eq!(quote.pcr_values, pcrs);
            }
            3 => {
                let data = tpm
                    .unseal_import_blob(
                        &good_blob.public,
                        &good_blob.duplicate,
                        &good_blob.encrypted_seed,
                        PcrBank::Sha256,
                        &[16],
                    )
                    .await
                    .unwrap();
                assert_eq!(data.as_slice(), b"data");
            }
            _ => {
                let error = tpm
                    .unseal_import_blob(
                        &refused_blob.public,
                        &refused_blob.duplicate,
                        &refused_blob.encrypted_seed,
                        PcrBank::Sha256,
                        &[16],
                    )
                    .await
                    .unwrap_err();
                assert_eq!(
                    error.response_code_name(),
                    Some("TPM_RC_POLICY_FAIL"),
                    "round {round}: {error}"
                );
            }
        }
    }

    assert_eq!(tpm.loaded_handles().await.unwrap(), NOTHING_LOADED);
}

/// A client that fills all 3 of swtpm's object slots and dies without its Drop (as after SIGKILL).
fn fill_object_slots_and_die(swtpm: &Swtpm) {
    use tss_esapi::{
        Context, TctiNameConf,
        abstraction::{AsymmetricAlgorithmSelection, DefaultKey, ek},
        interface_types::key_bits::RsaKeyBits,
    };
    let mut dead_client = Context::new(swtpm.tcti().parse::<TctiNameConf>().unwrap()).unwrap();
    for _ in 0..3 {
        ek::create_ek_object_2(
            &mut dead_client,
            AsymmetricAlgorithmSelection::Rsa(RsaKeyBits::Rsa2048),
            None::<DefaultKey>,
        )
        .unwrap();
    }
    std::mem::forget(dead_client);
}

#[tokio::test]
async fn objects_left_by_a_killed_client_are_flushed_when_connecting() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    fill_object_slots_and_die(&swtpm);

    let tpm = connect(&swtpm).await;

    assert_eq!(tpm.loaded_handles().await.unwrap(), NOTHING_LOADED);
    let ak = tpm.create_ak().await.unwrap();
    assert!(
        tpm.quote(&ak, b"nonce", PcrBank::Sha256, &[0])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn without_flushing_leftovers_connecting_to_a_full_tpm_fails_with_object_memory() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    fill_object_slots_and_die(&swtpm);
    let config = TpmConfig {
        flush_leftovers_on_connect: false,
        ..TpmConfig::new(swtpm.tcti())
    };

    let error = TpmHandle::connect(config).await.unwrap_err();

    // Even using the persistent EK needs a free object slot.
    assert!(
        matches!(
            error,
            TpmError::Command {
                op: "TR_FromTPMPublic(EK)",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.response_code_name(),
        Some("TPM_RC_OBJECT_MEMORY"),
        "{error}"
    );
}

/// The error of quoting `pcrs` over `nonce` with a fresh AK in a private swtpm (`None`: skipped).
async fn quote_error(nonce: &[u8], pcrs: &[u32]) -> Option<TpmError> {
    let swtpm = Swtpm::start_or_skip().await.unwrap()?;
    let tpm = connect(&swtpm).await;
    let ak = tpm.create_ak().await.unwrap();
    Some(
        tpm.quote(&ak, nonce, PcrBank::Sha256, pcrs)
            .await
            .unwrap_err(),
    )
}

#[tokio::test]
async fn quote_of_a_pcr_that_does_not_exist_is_invalid_input() {
    let Some(error) = quote_error(b"nonce", &[7, 24]).await else {
        return;
    };

    assert!(
        matches!(
            error,
            TpmError::InvalidInput {
                op: "Quote",
                what: "PCR selection",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn nonce_longer_than_64_bytes_is_invalid_input() {
    let Some(error) = quote_error(&[0u8; 65], &[0]).await else {
        return;
    };

    assert!(
        matches!(
            error,
            TpmError::InvalidInput {
                op: "Quote",
                what: "nonce",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn reading_an_inactive_pcr_bank_is_a_clear_error() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;

    let error = tpm.read_pcrs(PcrBank::Sha384, &[0]).await.unwrap_err();

    assert!(
        matches!(
            error,
            TpmError::InvalidInput {
                what: "PCR bank",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("not active"), "{error}");
}

#[tokio::test]
async fn malformed_import_blob_is_invalid_input_and_leaves_nothing_loaded() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;

    let error = tpm
        .unseal_import_blob(b"\x00\x08garbage", b"dup", b"seed", PcrBank::Sha256, &[16])
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            TpmError::InvalidInput {
                op: "Import",
                what: "sealed object public",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(tpm.loaded_handles().await.unwrap(), NOTHING_LOADED);
}

#[tokio::test]
async fn tampered_duplicate_fails_import_with_integrity() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;
    let ek = TpmtPublic::from_tpm2b(&tpm.ek_public().await.unwrap().public).unwrap();
    let pcrs = tpm.read_pcrs(PcrBank::Sha256, &[16]).await.unwrap();
    let policy = policy_pcr_digest(0x000B, &pcrs).unwrap();
    let mut blob = create_import_blob(&ek, b"data", Some(&policy), rand::random()).unwrap();
    let last = blob.duplicate.len() - 1;
    blob.duplicate[last] ^= 0x01;

    let error = tpm
        .unseal_import_blob(
            &blob.public,
            &blob.duplicate,
            &blob.encrypted_seed,
            PcrBank::Sha256,
            &[16],
        )
        .await
        .unwrap_err();

    assert!(
        matches!(error, TpmError::Command { op: "Import", .. }),
        "{error}"
    );
    assert_eq!(
        error.response_code_name(),
        Some("TPM_RC_INTEGRITY"),
        "{error}"
    );
    assert_eq!(tpm.loaded_handles().await.unwrap(), NOTHING_LOADED);
}

#[tokio::test]
async fn clones_of_a_handle_share_one_worker_and_run_concurrently_without_exhausting_slots() {
    let Some(swtpm) = Swtpm::start_or_skip().await.unwrap() else {
        return;
    };
    let tpm = connect(&swtpm).await;
    let ak = tpm.create_ak().await.unwrap();

    let quotes = (0..8u8).map(|i| {
        let (tpm, ak) = (tpm.clone(), ak.clone());
        tokio::spawn(async move { tpm.quote(&ak, &[i; 16], PcrBank::Sha256, &[0, 16]).await })
    });
    for quote in quotes {
        assert!(quote.await.unwrap().is_ok());
    }

    assert_eq!(tpm.loaded_handles().await.unwrap(), NOTHING_LOADED);
}
