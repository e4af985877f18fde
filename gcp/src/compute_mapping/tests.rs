//! Fixture tests for `compute_mapping`: real Google JSON deserialised straight into the client
//! library's model types, mapped, and compared with what the fixture says.

use chrono::TimeZone as _;
use google_cloud_compute_v1::model::{Disk, Image, Instance, ShieldedInstanceIdentity};
use tokendist_core::evidence::{FetchErrorKind, ShieldedConfig};

use super::*;
use crate::test_fixtures::{fixture, keys};

#[test]
fn seed_tokenclient_instance_maps_every_field_the_checks_use() {
    let instance: Instance =
        fixture("compute-instance-cos-shielded-seed-tokenclient-assembled.json");
    let evidence = instance_evidence(&instance).unwrap();
    assert_eq!(evidence.instance_id, "8939838129032687278");
    assert_eq!(evidence.name, "tokenclient");
    assert_eq!(evidence.project, "tc-4f4f5a70");
    assert_eq!(evidence.zone, "us-central1-a");
    assert_eq!(evidence.status, "RUNNING");
    assert_eq!(
        evidence.creation_timestamp,
        Utc.with_ymd_and_hms(2021, 6, 22, 11, 57, 59).unwrap()
            + chrono::Duration::milliseconds(255)
    );
    assert_eq!(evidence.fingerprint, "sSHMqlnfdVM=");
    assert_eq!(evidence.metadata_fingerprint, "wXaR2D5iY1E=");
    assert_eq!(
        keys(&evidence.metadata),
        [
            "google-logging-enabled",
            "google-monitoring-enabled",
            "user-data"
        ]
    );
    assert_eq!(evidence.metadata["google-logging-enabled"], "true");
    let user_data = &evidence.metadata["user-data"];
    assert!(
        user_data.starts_with("#cloud-config\n\nwrite_files:\n"),
        "{user_data}"
    );
    assert!(user_data.ends_with("- systemctl start cloudservice.service\n"));
    assert_eq!(
        evidence.service_accounts,
        ["tokenclient@tc-4f4f5a70.iam.gserviceaccount.com"]
    );
    assert_eq!(evidence.internal_ips, ["10.0.0.2"]);
    assert_eq!(evidence.nat_ips, ["34.121.225.36"]);
    assert_eq!(
        evidence.boot_disk_source.as_deref(),
        Some(
            "https://www.googleapis.com/compute/v1/projects/tc-4f4f5a70/zones/us-central1-a/disks/tokenclient"
        )
    );
    assert_eq!(evidence.machine_type, "e2-small");
    assert_eq!(evidence.cpu_platform.as_deref(), Some("AMD Rome"));
    assert_eq!(
        evidence.shielded,
        ShieldedConfig {
            secure_boot: true,
            vtpm: true,
            integrity_monitoring: true
        }
    );
    assert!(!evidence.confidential_compute);
}

#[test]
fn confidential_instance_reports_confidential_compute_on() {
    let instance: Instance = fixture("compute-instance-confidential-cos-seed-sev-assembled.json");
    let evidence = instance_evidence(&instance).unwrap();
    assert_eq!(evidence.instance_id, "5055893581146000589");
    assert_eq!(evidence.project, "tc-b23369ac");
    assert_eq!(evidence.fingerprint, "qfss0buk2f0=");
    assert_eq!(evidence.metadata_fingerprint, "RYhXYys0Rdo=");
    assert_eq!(evidence.machine_type, "n2d-standard-2");
    assert_eq!(evidence.nat_ips, ["34.72.0.10"]);
    assert!(evidence.confidential_compute);
}

#[test]
fn verbatim_ubuntu_instance_without_service_account_maps_shielded_flags_as_served() {
    let instance: Instance = fixture("compute-instance-shielded-ubuntu-verbatim-2026.json");
    let evidence = instance_evidence(&instance).unwrap();
    assert_eq!(evidence.instance_id, "6463665942288193451");
    assert_eq!(evidence.name, "pleasant-pipefish");
    assert_eq!(evidence.project, "cloud-custodian");
    assert_eq!(evidence.fingerprint, "TDT_czJlqWo=");
    assert!(evidence.service_accounts.is_empty());
    assert!(evidence.metadata.is_empty());
    assert_eq!(
        evidence.shielded,
        ShieldedConfig {
            secure_boot: false,
            vtpm: true,
            integrity_monitoring: true
        }
    );
    assert!(!evidence.confidential_compute);
}

#[test]
fn instance_without_id_is_malformed_not_a_pass() {
    let mut instance: Instance =
        fixture("compute-instance-cos-shielded-seed-tokenclient-assembled.json");
    instance.id = None;
    let err = instance_evidence(&instance).unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Malformed);
    assert_eq!(err.api, API_INSTANCES_GET);
}

#[test]
fn seed_boot_disk_maps_source_image_and_licenses() {
    let disk: Disk = fixture("compute-disk-cos-seed-tokenclient-assembled.json");
    let evidence = disk_evidence(&disk).unwrap();
    assert_eq!(evidence.name, "tokenclient");
    assert_eq!(
        evidence.source_image.as_deref(),
        Some(
            "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-81-12871-119-0"
        )
    );
    assert_eq!(
        evidence.source_image_id.as_deref(),
        Some("3276425563712370946")
    );
    assert_eq!(evidence.licenses.len(), 3);
    assert_eq!(
        evidence.licenses[0],
        "https://www.googleapis.com/compute/v1/projects/cos-cloud-shielded/global/licenses/shielded-cos"
    );
}

#[test]
fn verbatim_gke_disk_maps_its_attach_history() {
    let disk: Disk = fixture("compute-disk-gke-cos-verbatim.json");
    let evidence = disk_evidence(&disk).unwrap();
    assert_eq!(evidence.disk_id.as_deref(), Some("7595388187556896112"));
    let created = evidence.creation_timestamp.unwrap();
    assert_eq!(created.to_rfc3339(), "2019-01-01T12:57:05.076+00:00");
    // Created by instances.insert: attached 7 ms after creation, never detached.
    let attached = evidence.last_attach_timestamp.unwrap();
    assert_eq!((attached - created).num_milliseconds(), 7);
    assert_eq!(evidence.last_detach_timestamp, None);
    assert_eq!(
        evidence.users,
        [
            "https://www.googleapis.com/compute/v1/projects/cloud-custodian/zones/us-central1-a/instances/gke-dev-cluster-pool-1-faf29496-zp1k"
        ]
    );
}

#[test]
fn disk_with_an_unreadable_timestamp_is_malformed() {
    let mut disk: Disk = fixture("compute-disk-gke-cos-verbatim.json");
    disk.last_detach_timestamp = Some("yesterday".into());
    let err = disk_evidence(&disk).unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Malformed);
}

#[test]
fn verbatim_gke_disk_maps_source_image() {
    let disk: Disk = fixture("compute-disk-gke-cos-verbatim.json");
    let evidence = disk_evidence(&disk).unwrap();
    assert_eq!(evidence.name, "gke-dev-cluster-pool-1-faf29496-zp1k");
    assert_eq!(
        evidence.source_image_id.as_deref(),
        Some("368056898204918146")
    );
    assert_eq!(
        evidence.licenses,
        [
            "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/licenses/cos",
            "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/licenses/cos-pcid",
            "https://www.googleapis.com/compute/v1/projects/gke-node-images/global/licenses/gke-node",
        ]
    );
}

#[test]
fn shielded_identity_with_ek_cert_maps_encryption_key_to_ek_and_signing_key_to_ak() {
    let identity: ShieldedInstanceIdentity =
        fixture("compute-shieldedInstanceIdentity-with-ekcert.json");
    let mapped = shielded_identity(&identity);
    let ek_pub = mapped.ek_pub_pem.unwrap();
    assert!(ek_pub.starts_with("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq5cnPGMv8/nUW3+U7bNj\n"));
    assert!(ek_pub.ends_with("-----END PUBLIC KEY-----\n"));
    let ek_cert = mapped.ek_cert_pem.unwrap();
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/gce/tpm-gce-ekcert-core-eso-instance-1.pem"
    ))
    .unwrap();
    // The EK certificate in the API response is the same certificate as the PEM file of that VM.
    assert_eq!(ek_cert.trim(), on_disk.trim());
    assert!(
        mapped
            .ak_pub_pem
            .unwrap()
            .contains("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAo8eSWufjPsYEhaMDTq+k")
    );
    assert!(mapped.ak_cert_pem.is_some());
}

#[test]
fn shielded_identity_ekpub_only_has_no_certificates() {
    let identity: ShieldedInstanceIdentity =
        fixture("compute-shieldedInstanceIdentity-ekpub-only.json");
    let mapped = shielded_identity(&identity);
    assert!(
        mapped
            .ek_pub_pem
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    assert!(
        mapped
            .ak_pub_pem
            .unwrap()
            .contains("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0VwxlBWLhIdTiJyU23eF")
    );
    assert_eq!(mapped.ek_cert_pem, None);
    assert_eq!(mapped.ak_cert_pem, None);
}

#[test]
fn cos_97_lts_image_maps_family_and_status() {
    let image: Image = fixture("compute-image-cos-97-lts-assembled.json");
    let evidence = image_evidence(&image).unwrap();
    assert_eq!(evidence.name, "cos-97-16919-29-9");
    assert_eq!(evidence.image_id.as_deref(), Some("130573481484558442"));
    assert_eq!(evidence.family.as_deref(), Some("cos-97-lts"));
    assert_eq!(evidence.status.as_deref(), Some("READY"));
    assert_eq!(evidence.licenses.len(), 3);
}

#[test]
fn urls_split_into_project_zone_disk_and_image() {
    assert_eq!(
        project_and_zone("https://www.googleapis.com/compute/v1/projects/p-1/zones/us-central1-a"),
        Some(("p-1".to_owned(), "us-central1-a".to_owned()))
    );
    assert_eq!(
        project_and_zone("projects/634665912513/zones/us-central1-a"),
        Some(("634665912513".to_owned(), "us-central1-a".to_owned()))
    );
    assert_eq!(project_and_zone("us-central1-a"), None);
    assert_eq!(
        disk_location("https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d1"),
        Some(("p".to_owned(), "z".to_owned(), "d1".to_owned()))
    );
    assert_eq!(
        disk_location("https://x/projects/p/zones/z/instances/d1"),
        None
    );
    assert_eq!(
        project_and_image(
            "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-81-12871-119-0"
        ),
        Some((
            "cos-cloud".to_owned(),
            "cos-stable-81-12871-119-0".to_owned()
        ))
    );
    assert_eq!(
        project_and_image("projects/cos-cloud/global/images/family/cos-stable"),
        None
    );
}
