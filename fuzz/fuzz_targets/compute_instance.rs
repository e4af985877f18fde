//! Fuzzes the Compute instance mapping: `instances.get` JSON into Google's
//! `google_cloud_compute_v1::model::Instance` (as the client library reads the response), then
//! `gcp::compute_mapping::instance_evidence` and the URL helpers on its zone and boot disk source.
//! Never panics; the evidence survives a serde round trip (it is stored and shown as JSON), says
//! where the zone URL says the VM is, and its fingerprint is the bytes Google sent.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use google_cloud_compute_v1::model::{Instance, ShieldedInstanceIdentity};
use libfuzzer_sys::fuzz_target;
use tokendist_core::evidence::InstanceEvidence;
use tokendist_gcp::compute_mapping::{
    disk_location, instance_evidence, project_and_zone, shielded_identity,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(identity) = serde_json::from_slice::<ShieldedInstanceIdentity>(data) {
        let _ = shielded_identity(&identity);
    }
    let Ok(instance) = serde_json::from_slice::<Instance>(data) else {
        return;
    };
    let Ok(evidence) = instance_evidence(&instance) else {
        return;
    };
    let json = serde_json::to_vec(&evidence).unwrap();
    let back: InstanceEvidence = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, evidence);
    let zone = instance.zone.as_deref().unwrap();
    assert_eq!(
        project_and_zone(zone),
        Some((evidence.project.clone(), evidence.zone.clone()))
    );
    assert_eq!(
        URL_SAFE.decode(&evidence.fingerprint).ok().as_deref(),
        instance.fingerprint.as_deref()
    );
    if let Some(source) = &evidence.boot_disk_source {
        let _ = disk_location(source);
    }
});
