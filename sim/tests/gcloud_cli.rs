//! The real `gcloud` CLI (a client nobody here wrote) against the `gcpsim` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::gcloud::Gcloud;
use support::{GOOD_VM, GOOD_VM_ID, PROJECT, ZONE, demo_path};

fn metadata_value(instance: &Value, key: &str) -> Option<String> {
    instance["metadata"]["items"]
        .as_array()?
        .iter()
        .find(|item| item["key"] == key)
        .and_then(|item| item["value"].as_str().map(str::to_string))
}

#[test]
fn gcloud_describe_shows_fingerprint_user_data_disks_service_account_and_nat_ip() {
    let gcloud = Gcloud::start();
    let instance = gcloud.describe();
    assert_eq!(instance["id"], GOOD_VM_ID);
    assert_eq!(instance["status"], "RUNNING");
    assert!(instance["fingerprint"].as_str().unwrap().ends_with('='));
    let user_data = metadata_value(&instance, "user-data").unwrap();
    assert!(user_data.starts_with("#cloud-config"));
    assert!(user_data.contains("tokenclient@sha256:"));
    assert_eq!(
        metadata_value(&instance, "block-project-ssh-keys").as_deref(),
        Some("TRUE")
    );
    assert!(
        instance["disks"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("/zones/us-central1-a/disks/tokenclient-good")
    );
    assert_eq!(
        instance["serviceAccounts"][0]["email"],
        "tokenclient@bob-project.iam.gserviceaccount.com"
    );
    assert_eq!(
        instance["networkInterfaces"][0]["accessConfigs"][0]["natIP"],
        "34.121.225.36"
    );
}

#[test]
fn gcloud_get_shielded_identity_returns_the_ek_public_pem() {
    let gcloud = Gcloud::start();
    let identity = gcloud.json(&[
        "compute",
        "instances",
        "get-shielded-identity",
        GOOD_VM,
        "--zone",
        ZONE,
    ]);
    let ek = identity["encryptionKey"]["ekPub"].as_str().unwrap();
    let expected = std::fs::read_to_string(
        demo_path()
            .parent()
            .unwrap()
            .join("keys/tokenclient-good-ek.pem"),
    )
    .unwrap();
    assert_eq!(ek, expected);
    assert!(ek.starts_with("-----BEGIN PUBLIC KEY-----"));
}

#[test]
fn gcloud_add_metadata_changes_fingerprints_and_logging_read_shows_set_metadata() {
    let gcloud = Gcloud::start();
    let before = gcloud.describe();
    gcloud.run(&[
        "compute",
        "instances",
        "add-metadata",
        GOOD_VM,
        "--zone",
        ZONE,
        "--metadata",
        "tamper=yes",
    ]);
    let after = gcloud.describe();
    assert_ne!(after["fingerprint"], before["fingerprint"]);
    assert_ne!(
        after["metadata"]["fingerprint"],
        before["metadata"]["fingerprint"]
    );
    assert_eq!(metadata_value(&after, "tamper").as_deref(), Some("yes"));
    // The old items survive the merge.
    assert_eq!(
        metadata_value(&after, "user-data"),
        metadata_value(&before, "user-data")
    );

    let filter = format!(
        "protoPayload.methodName=\"v1.compute.instances.setMetadata\" AND resource.labels.instance_id={GOOD_VM_ID}"
    );
    let entries = gcloud.json(&["logging", "read", &filter]);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let payload = &entries[0]["protoPayload"];
    assert_eq!(payload["methodName"], "v1.compute.instances.setMetadata");
    assert_eq!(
        payload["resourceName"],
        format!("projects/{PROJECT}/zones/{ZONE}/instances/{GOOD_VM}")
    );
    assert_eq!(payload["request"]["Metadata Keys Modified"][0], "tamper");
    assert_eq!(
        payload["authenticationInfo"]["principalEmail"],
        "bob@bob-project.example"
    );
}

#[test]
fn gcloud_stop_then_start_changes_status_and_fingerprint() {
    let gcloud = Gcloud::start();
    let before = gcloud.describe();
    gcloud.run(&["compute", "instances", "stop", GOOD_VM, "--zone", ZONE]);
    let stopped = gcloud.describe();
    assert_eq!(stopped["status"], "TERMINATED");
    assert_ne!(stopped["fingerprint"], before["fingerprint"]);
    gcloud.run(&["compute", "instances", "start", GOOD_VM, "--zone", ZONE]);
    let started = gcloud.describe();
    assert_eq!(started["status"], "RUNNING");
    assert_ne!(started["fingerprint"], stopped["fingerprint"]);
    let entries = gcloud.json(&[
        "logging",
        "read",
        &format!("resource.labels.instance_id={GOOD_VM_ID} AND (protoPayload.methodName:stop OR protoPayload.methodName:start)"),
    ]);
    let methods: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["protoPayload"]["methodName"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        vec!["v1.compute.instances.start", "v1.compute.instances.stop"]
    );
}

#[test]
fn gcloud_project_info_add_metadata_updates_common_metadata_and_logs_it() {
    let gcloud = Gcloud::start();
    let before = gcloud.json(&["compute", "project-info", "describe"]);
    gcloud.run(&[
        "compute",
        "project-info",
        "add-metadata",
        "--metadata",
        "ssh-keys=mallory:ssh-ed25519 AAAA",
    ]);
    let after = gcloud.json(&["compute", "project-info", "describe"]);
    assert_ne!(
        after["commonInstanceMetadata"]["fingerprint"],
        before["commonInstanceMetadata"]["fingerprint"]
    );
    let items = after["commonInstanceMetadata"]["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["key"] == "ssh-keys"));
    assert!(items.iter().any(|i| i["key"] == "enable-oslogin"));
    let entries = gcloud.json(&[
        "logging",
        "read",
        "resource.type=gce_project AND protoPayload.methodName=\"v1.compute.projects.setCommonInstanceMetadata\"",
    ]);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["protoPayload"]["metadata"]["projectMetadataDelta"]["addedMetadataKeys"][0],
        "ssh-keys"
    );
}
