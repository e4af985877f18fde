//! `tokendist approve` sealing to the VM's vTPM and `tokendist seal`, run as the real binary against
//! gcpsim (publishing an swtpm's EK as the good VM's) and a temporary SQLite store: what the console
//! seals opens in that TPM, and only while the approved PCR values hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use support::vtpm::{EXTENDED_PCR, POLICY_PCRS, VmTpm};
use support::{Console, GOOD_VM, GOOD_VM_ID, PROJECT, SECRET_VALUES, ZONE};
use tokendist_core::approval::verify;
use tokendist_store::{EventDetail, EventKind, EventQuery};

/// `--pcr` text for the given values.
fn pcr_arg(values: &std::collections::BTreeMap<u32, Vec<u8>>) -> String {
    values
        .iter()
        .map(|(index, value)| format!("{index}={}", hex::encode(value)))
        .collect::<Vec<_>>()
        .join(",")
}

async fn seal(console: &Console, name: &str, extra: &[&str]) -> support::Run {
    let (input, out) = (console.arg("plain.bin"), console.arg("sealed.bin"));
    let mut args = vec![
        "seal",
        "--instance",
        GOOD_VM,
        "--project",
        PROJECT,
        "--zone",
        ZONE,
        "--name",
        name,
        "--in",
        &input,
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    console.run(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpm_approval_seals_every_secret_so_only_the_vms_tpm_with_the_approved_pcrs_opens_it() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    let record = vm.verified_quote_record(GOOD_VM_ID).await;
    store.put_attestation(&record).await.unwrap();

    let run = console.approve(GOOD_VM, &["--yes"]).await;

    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("TPM sealing"), "{}", run.stdout);
    for value in record.pcr_values.values() {
        assert!(
            run.stdout.contains(value),
            "PCR {value} not shown for review"
        );
    }
    assert!(
        run.stdout.contains("sealed to the VM's vTPM"),
        "{}",
        run.stdout
    );
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&approval, &[console.alice_public()]).unwrap();
    assert!(approval.require_tpm);
    let policy = approval.pcr_policy.as_ref().unwrap();
    assert_eq!(policy.hash_alg, 0x000B);
    assert_eq!(policy.pcrs, record.pcr_values);
    assert_eq!(approval.ek_public_pem.as_deref(), Some(vm.ek_pem.as_str()));

    // Each secret opens in the VM's TPM, bound to this instance and its name.
    let mut envelopes = Vec::new();
    for (secret, value) in approval.secrets.iter().zip(SECRET_VALUES) {
        assert_eq!(secret.protection, "tpm-envelope");
        assert_eq!(secret.plaintext_len, value.len() as u64);
        let envelope = STANDARD.decode(&secret.data).unwrap();
        let opened = vm
            .open(&envelope, &POLICY_PCRS, GOOD_VM_ID, &secret.name)
            .await
            .unwrap();
        assert_eq!(opened, value.as_bytes());
        envelopes.push(envelope);
    }
    assert_eq!(envelopes.len(), 2);

    // Nothing in the store, nor in the output, reveals a secret.
    let bytes = console.store_bytes();
    for value in SECRET_VALUES {
        for form in [
            value.to_owned(),
            support::b64(value),
            hex::encode(value),
            hex::encode_upper(value),
        ] {
            assert!(
                !support::contains(&bytes, form.as_bytes()),
                "{form} (a form of {value}) is in the store"
            );
            assert!(
                !run.stdout.contains(&form) && !run.stderr.contains(&form),
                "secret printed"
            );
        }
    }

    let events = store
        .list_events(&EventQuery::latest(10).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    assert_eq!(events[0].kind, EventKind::Approved);
    let EventDetail::Approved(detail) = &events[0].detail else {
        panic!("not an approved detail: {:?}", events[0].detail)
    };
    assert!(detail.require_tpm);
    assert_eq!(
        detail.ek_fingerprint.as_deref(),
        Some(hex::encode(Sha256::digest(&vm.ek.unique)).as_str())
    );

    // Once a bound PCR changes, the TPM refuses to unseal the data key.
    vm.tpm
        .extend_pcr(EXTENDED_PCR, b"bob boots something else")
        .await
        .unwrap();
    let error = vm
        .open(&envelopes[0], &POLICY_PCRS, GOOD_VM_ID, "db-password")
        .await
        .unwrap_err();
    assert!(
        error.response_code().is_some_and(|rc| rc.is_policy_fail()),
        "expected TPM_RC_POLICY_FAIL, got {error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpm_approval_without_a_verified_quote_or_pcr_is_refused_with_exit_3_saying_what_to_do() {
    let console = Console::start().await;
    let store = console.store().await;

    let run = console.approve(GOOD_VM, &["--yes"]).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("no TPM quote on record")
            && run.stderr.contains("attest")
            && run.stderr.contains("--pcr"),
        "{}",
        run.stderr
    );
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());

    // A quote that did not verify is no better.
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let mut record = vm.verified_quote_record(GOOD_VM_ID).await;
    record.verified = false;
    record.sign(&vm.server_receipt_key);
    store.put_attestation(&record).await.unwrap();
    let run = console.approve(GOOD_VM, &["--yes"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("did not verify"), "{}", run.stderr);
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());

    let seal_run = {
        std::fs::write(console.path("plain.bin"), b"value").unwrap();
        seal(&console, "api-token", &[]).await
    };
    assert_eq!(seal_run.code, 3, "{seal_run:?}");
    assert!(seal_run.stderr.contains("--pcr"), "{}", seal_run.stderr);
    assert!(!console.path("sealed.bin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpm_approval_with_pcr_flags_seals_to_those_values_without_an_attestation_record() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let pcrs = vm.pcrs().await;

    let run = console
        .approve(GOOD_VM, &["--yes", "--pcr", &pcr_arg(&pcrs)])
        .await;

    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("--pcr on the command line"),
        "{}",
        run.stdout
    );
    let approval = console
        .store()
        .await
        .get_approval(GOOD_VM_ID)
        .await
        .unwrap()
        .unwrap();
    let expected: std::collections::BTreeMap<u32, String> =
        pcrs.iter().map(|(i, v)| (*i, hex::encode(v))).collect();
    assert_eq!(approval.pcr_policy.as_ref().unwrap().pcrs, expected);
    let opened = vm.open_approved_secret(&approval, 0).await;
    assert_eq!(opened, SECRET_VALUES[0].as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpm_approval_of_a_vm_without_an_ek_is_refused_suggesting_no_tpm() {
    let console = Console::start_with(support::scenario_without_good_ek()).await;

    let run = console.approve(GOOD_VM, &["--yes"]).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("publishes no EK") && run.stderr.contains("--no-tpm"),
        "{}",
        run.stderr
    );
    let store = console.store().await;
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_file_opens_in_the_vms_tpm_and_approve_stores_it_unchanged() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    store
        .put_attestation(&vm.verified_quote_record(GOOD_VM_ID).await)
        .await
        .unwrap();
    let secret = b"api-token-value-9931 \x00\xff binary too";
    std::fs::write(console.path("plain.bin"), secret).unwrap();

    let run = seal(&console, "api-token", &[]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let sealed = std::fs::read(console.path("sealed.bin")).unwrap();
    let opened = vm
        .open(&sealed, &POLICY_PCRS, GOOD_VM_ID, "api-token")
        .await
        .unwrap();
    assert_eq!(opened, secret);
    let entry = format!(
        r#"{{"data":"{}","name":"api-token","type":"TPM"}}"#,
        STANDARD.encode(&sealed)
    );
    assert!(run.stdout.contains(&entry), "{}", run.stdout);
    assert!(!run.stdout.contains("api-token-value-9931"));
    // Bound to the name: under another name (or instance) the data key does not open it.
    let envelope = tokendist_core::tpm::Envelope::decode(&sealed).unwrap();
    let data_key = vm.unseal_data_key(&envelope, &POLICY_PCRS).await.unwrap();
    for (instance, name) in [
        (GOOD_VM_ID, "db-password"),
        (support::TAMPERED_VM_ID, "api-token"),
    ] {
        assert_eq!(
            tokendist_core::tpm::open_envelope_with_data_key(
                &envelope,
                &data_key,
                &tokendist_core::server_seal::binding(instance, name)
            )
            .unwrap_err(),
            tokendist_core::tpm::EnvelopeError::OpenFailed
        );
    }

    console.write_secrets(&format!(
        r#"[{{"name":"db-password","type":"RAW","data":"{}"}},
            {{"name":"api-token","type":"TPM","data":"{}"}}]"#,
        support::b64(SECRET_VALUES[0]),
        STANDARD.encode(&sealed)
    ));
    let run = console.approve(GOOD_VM, &["--yes"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    let stored = &approval.secrets[1];
    assert_eq!(
        (stored.secret_type.as_str(), stored.protection.as_str()),
        ("TPM", "tpm-envelope")
    );
    assert_eq!(stored.data, STANDARD.encode(&sealed));
    assert_eq!(stored.plaintext_len, secret.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_file_for_other_pcr_values_is_refused_by_approve() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    store
        .put_attestation(&vm.verified_quote_record(GOOD_VM_ID).await)
        .await
        .unwrap();
    std::fs::write(console.path("plain.bin"), b"value").unwrap();
    let other = format!("0={}", "00".repeat(32));
    assert_eq!(
        seal(&console, "api-token", &["--pcr", &other]).await.code,
        0
    );
    let sealed = std::fs::read(console.path("sealed.bin")).unwrap();
    console.write_secrets(&format!(
        r#"[{{"name":"api-token","type":"TPM","data":"{}"}}]"#,
        STANDARD.encode(&sealed)
    ));

    let run = console.approve(GOOD_VM, &["--yes"]).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("different PCR policy"),
        "{}",
        run.stderr
    );
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_compares_the_last_quote_with_the_approved_pcr_policy_per_pcr() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    store
        .put_attestation(&vm.verified_quote_record(GOOD_VM_ID).await)
        .await
        .unwrap();
    assert_eq!(console.approve(GOOD_VM, &["--yes"]).await.code, 0);
    let trust = console.arg("alice.pub");

    let run = console
        .run(&["show", GOOD_VM, "--trust-key", &trust, "--json"])
        .await;

    assert_eq!(run.code, 0, "{run:?}");
    let show = run.json();
    let tpm = &show["tpm"];
    let fingerprint = hex::encode(Sha256::digest(&vm.ek.unique));
    assert_eq!(tpm["ek"]["fingerprint"], fingerprint.as_str());
    assert_eq!(tpm["ek"]["approved_fingerprint"], fingerprint.as_str());
    assert_eq!(tpm["ek"]["matches_approval"], true);
    assert_eq!(tpm["ek"]["matches_last_quote"], true);
    assert_eq!(
        tpm["ek"]["certificate"], true,
        "the swtpm's EK certificate is published"
    );
    assert!(
        tpm["ak"]["attested_name"]
            .as_str()
            .unwrap()
            .starts_with("000b")
    );
    assert!(tpm["ak"]["attested_template_problem"].is_null());
    let outcomes: Vec<(u64, &str)> = tpm["pcrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [(0, "match"), (7, "match"), (16, "match")]);
    for name in ["tpm.ek", "tpm.ak", "tpm.quote"] {
        let check = show["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert_eq!(check["outcome"], "skipped", "{check}");
    }

    // The VM's PCR 16 changes and its next quote records that.
    vm.tpm.extend_pcr(EXTENDED_PCR, b"tampered").await.unwrap();
    store
        .put_attestation(&vm.verified_quote_record(GOOD_VM_ID).await)
        .await
        .unwrap();
    let text = console.run(&["show", GOOD_VM, "--trust-key", &trust]).await;
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("✔ PCR 0"), "{}", text.stdout);
    assert!(text.stdout.contains("✘ PCR 16"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains(&format!("SHA-256 of modulus {fingerprint}")),
        "{}",
        text.stdout
    );
    let json = console
        .run(&["show", GOOD_VM, "--trust-key", &trust, "--json"])
        .await
        .json();
    assert_eq!(json["tpm"]["pcrs"][2]["outcome"], "mismatch");
}
