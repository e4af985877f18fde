//! EK certificates: `getShieldedInstanceIdentity` serves `encryptionKey.ekCert` when a VM's EK has
//! one — set from the scenario (`ek_cert`), through `SimHandle::set_ek_certificate_pem` / `set_ek`,
//! or through `POST /admin/v1/instances/NAME/ek` with `{ekPub, ekCert?}`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use support::{GOOD_VM, TAMPERED_VM, http, instance_url, start, start_demo};
use tokendist_sim::{RunningSim, Scenario, ScenarioError, SimError};

/// Google's EK certificate of a real Confidential VM (read in place, never copied).
fn fixture_ek_cert() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/gce/tpm-gce-ekcert-core-eso-instance-1.pem"
    ))
    .unwrap()
}

fn scenario_key(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/keys")
            .join(name),
    )
    .unwrap()
}

async fn shielded_identity(sim: &RunningSim, vm: &str) -> Value {
    let response = http()
        .get(format!(
            "{}/getShieldedInstanceIdentity",
            instance_url(sim, vm)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn post_ek(sim: &RunningSim, vm: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{}/admin/v1/instances/{vm}/ek", sim.api_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn certificate_set_through_the_handle_is_served_as_ek_cert_in_googles_shape() {
    let sim = start_demo().await;
    let cert = fixture_ek_cert();
    let before = shielded_identity(&sim, GOOD_VM).await;
    assert!(before["encryptionKey"].get("ekCert").is_none());

    sim.handle().set_ek_certificate_pem(GOOD_VM, &cert).unwrap();

    let after = shielded_identity(&sim, GOOD_VM).await;
    assert_eq!(after["encryptionKey"]["ekCert"], cert.as_str());
    assert_eq!(
        after["encryptionKey"]["ekPub"],
        before["encryptionKey"]["ekPub"]
    );
    let google = support::fixture("compute-shieldedInstanceIdentity-with-ekcert.json");
    assert_eq!(
        keys(&after["encryptionKey"]),
        keys(&google["encryptionKey"])
    );
    // Other VMs are untouched.
    let other = shielded_identity(&sim, TAMPERED_VM).await;
    assert!(other["encryptionKey"].get("ekCert").is_none());
}

#[tokio::test]
async fn replacing_the_ek_drops_the_certificate_of_the_previous_key() {
    let sim = start_demo().await;
    let handle = sim.handle();
    handle
        .set_ek_certificate_pem(GOOD_VM, &fixture_ek_cert())
        .unwrap();
    let new_ek = scenario_key("tokenclient-tampered-ek.pem");

    handle.set_ek_public_pem(GOOD_VM, &new_ek).unwrap();

    let identity = shielded_identity(&sim, GOOD_VM).await;
    assert_eq!(identity["encryptionKey"]["ekPub"], new_ek.as_str());
    assert!(
        identity["encryptionKey"].get("ekCert").is_none(),
        "{identity}"
    );
}

#[tokio::test]
async fn a_certificate_that_is_not_pem_or_names_an_unknown_vm_is_rejected() {
    let sim = start_demo().await;
    let handle = sim.handle();

    let not_pem = handle.set_ek_certificate_pem(GOOD_VM, "MIIF3zCCA8eg");
    assert!(
        matches!(&not_pem, Err(SimError::InvalidRequest(m)) if m.contains("BEGIN CERTIFICATE")),
        "{not_pem:?}"
    );
    let unknown = handle.set_ek_certificate_pem("no-such-vm", &fixture_ek_cert());
    assert!(
        matches!(&unknown, Err(SimError::UnknownVm(vm)) if vm == "no-such-vm"),
        "{unknown:?}"
    );
    let identity = shielded_identity(&sim, GOOD_VM).await;
    assert!(identity["encryptionKey"].get("ekCert").is_none());
}

#[tokio::test]
async fn admin_api_sets_ek_pub_and_ek_cert_together_and_ek_pub_alone_clears_the_cert() {
    let sim = start_demo().await;
    let (ek, cert) = (
        scenario_key("tokenclient-tampered-ek.pem"),
        fixture_ek_cert(),
    );

    let (status, _) = post_ek(&sim, GOOD_VM, json!({"ekPub": ek, "ekCert": cert})).await;
    assert_eq!(status, 200);
    let identity = shielded_identity(&sim, GOOD_VM).await;
    assert_eq!(identity["encryptionKey"]["ekPub"], ek.as_str());
    assert_eq!(identity["encryptionKey"]["ekCert"], cert.as_str());

    let good_ek = scenario_key("tokenclient-good-ek.pem");
    let (status, _) = post_ek(&sim, GOOD_VM, json!({"ekPub": good_ek})).await;
    assert_eq!(status, 200);
    let identity = shielded_identity(&sim, GOOD_VM).await;
    assert_eq!(identity["encryptionKey"]["ekPub"], good_ek.as_str());
    assert!(identity["encryptionKey"].get("ekCert").is_none());
}

#[tokio::test]
async fn admin_api_rejects_a_bad_certificate_with_400_and_keeps_the_old_ek() {
    let sim = start_demo().await;
    let before = shielded_identity(&sim, GOOD_VM).await;

    let (status, body) = post_ek(
        &sim,
        GOOD_VM,
        json!({"ekPub": scenario_key("tokenclient-tampered-ek.pem"), "ekCert": "not a certificate"}),
    )
    .await;

    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE"),
        "{body}"
    );
    assert_eq!(shielded_identity(&sim, GOOD_VM).await, before);
    let (status, _) = post_ek(&sim, GOOD_VM, json!({"ekCert": fixture_ek_cert()})).await;
    assert_eq!(status, 400, "ekPub is required");
}

fn scenario_with_cert(cert_path: &str) -> String {
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/keys");
    format!(
        r#"
[[project]]
id = "bob-project"
number = 493201784516

[[vm]]
id = "4708131932155938716"
name = "tokenclient-good"
project = "bob-project"
zone = "us-central1-a"
service_account = "sa@bob-project.iam.gserviceaccount.com"
created = "2026-11-01T00:00:00Z"
boot_image = "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-109-17800-147-54"
internal_ip = "10.0.0.2"
ek_public_key = "{}"
ek_cert = "{cert_path}"
"#,
        keys.join("tokenclient-good-ek.pem").display()
    )
}

#[tokio::test]
async fn scenario_ek_cert_file_is_served_with_the_ek() {
    let cert_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/gce/tpm-gce-ekcert-core-eso-instance-1.pem"
    );
    let scenario = Scenario::from_toml_str(&scenario_with_cert(cert_path), Path::new("/")).unwrap();
    let sim = start(scenario).await;

    let identity = shielded_identity(&sim, GOOD_VM).await;

    assert_eq!(
        identity["encryptionKey"]["ekCert"],
        fixture_ek_cert().as_str()
    );
    assert_eq!(
        identity["encryptionKey"]["ekPub"],
        scenario_key("tokenclient-good-ek.pem").as_str()
    );
}

#[test]
fn scenario_ek_cert_that_is_not_a_certificate_names_the_field() {
    let not_a_cert =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/keys/tokenclient-good-ek.pem");
    let error = Scenario::from_toml_str(
        &scenario_with_cert(not_a_cert.to_str().unwrap()),
        Path::new("/"),
    )
    .unwrap_err();
    match error {
        ScenarioError::Invalid { field, problem, .. } => {
            assert_eq!(field, "vm[0].ek_cert");
            assert!(problem.contains("BEGIN CERTIFICATE"), "{problem}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn scenario_ek_cert_without_an_ek_says_to_add_the_ek() {
    let cert_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/gce/tpm-gce-ekcert-core-eso-instance-1.pem"
    );
    let text = scenario_with_cert(cert_path)
        .lines()
        .filter(|line| !line.starts_with("ek_public_key"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n[vm.shielded]\nvtpm = false\n";
    match Scenario::from_toml_str(&text, Path::new("/")).unwrap_err() {
        ScenarioError::Invalid { field, problem, .. } => {
            assert_eq!(field, "vm[0].ek_cert");
            assert!(problem.contains("ek_public_key"), "{problem}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}
