//! Compute REST semantics: fingerprint preconditions, operations, errors for bad requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{GOOD_VM, GOOD_VM_ID, PROJECT, ZONE, http, instance_url, start_demo};

async fn post(url: &str, body: &str) -> (u16, Value) {
    let response = http()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn set_metadata_with_stale_fingerprint_is_412_condition_not_met_and_changes_nothing() {
    let sim = start_demo().await;
    let before = sim.handle().instance_json(GOOD_VM).unwrap();
    let fresh = before["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let items = before["metadata"]["items"].clone();
    let url = format!("{}/setMetadata", instance_url(&sim, GOOD_VM));
    let (status, _) = post(
        &url,
        &json!({"fingerprint": fresh, "items": items}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    // Re-using the fingerprint we already consumed is now stale.
    let (status, error) = post(
        &url,
        &json!({"fingerprint": fresh, "items": []}).to_string(),
    )
    .await;
    assert_eq!(status, 412);
    assert_eq!(error["error"]["code"], 412);
    assert_eq!(error["error"]["errors"][0]["reason"], "conditionNotMet");
    let after = sim.handle().instance_json(GOOD_VM).unwrap();
    assert_eq!(after["metadata"]["items"], before["metadata"]["items"]);
    // A missing fingerprint is refused the same way.
    let (status, _) = post(&url, &json!({"items": []}).to_string()).await;
    assert_eq!(status, 412);
}

#[tokio::test]
async fn set_metadata_operation_can_be_fetched_and_waited_on() {
    let sim = start_demo().await;
    let instance = sim.handle().instance_json(GOOD_VM).unwrap();
    let url = format!("{}/setMetadata", instance_url(&sim, GOOD_VM));
    let body = json!({"fingerprint": instance["metadata"]["fingerprint"], "items": []});
    let (status, op) = post(&url, &body.to_string()).await;
    assert_eq!(status, 200);
    let name = op["name"].as_str().unwrap();
    assert!(name.starts_with("operation-"));
    let op_url = format!(
        "{}/compute/v1/projects/{PROJECT}/zones/{ZONE}/operations/{name}",
        sim.api_url()
    );
    let (status, waited) = post(&format!("{op_url}/wait"), "").await;
    assert_eq!(status, 200);
    assert_eq!(waited, op);
    let got: Value = http()
        .get(&op_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "DONE");
    assert_eq!(got["targetId"], GOOD_VM_ID);
    // Metadata removed entirely, both fingerprints changed.
    let after = sim.handle().instance_json(GOOD_VM).unwrap();
    assert_eq!(after["metadata"]["items"], json!([]));
    assert_ne!(after["fingerprint"], instance["fingerprint"]);
    // A zonal operation is not found under the global collection.
    let global = format!(
        "{}/compute/v1/projects/{PROJECT}/global/operations/{name}",
        sim.api_url()
    );
    assert_eq!(
        http().get(&global).send().await.unwrap().status().as_u16(),
        404
    );
}

#[tokio::test]
async fn malformed_set_metadata_bodies_get_400_envelopes() {
    let sim = start_demo().await;
    let url = format!("{}/setMetadata", instance_url(&sim, GOOD_VM));
    let fp = sim.handle().instance_json(GOOD_VM).unwrap()["metadata"]["fingerprint"].clone();
    let (status, error) = post(&url, "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["errors"][0]["reason"], "parseError");
    let (status, error) = post(
        &url,
        &json!({"fingerprint": "!!not base64!!", "items": []}).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["errors"][0]["domain"], "global");
    let dup = json!({"fingerprint": fp, "items": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]});
    let (status, _) = post(&url, &dup.to_string()).await;
    assert_eq!(status, 400);
    let bad_key = json!({"fingerprint": fp, "items": [{"key": "bad key!", "value": "1"}]});
    let (status, _) = post(&url, &bad_key.to_string()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn unknown_paths_and_resources_get_404_not_found_envelopes_and_query_params_are_ignored() {
    let sim = start_demo().await;
    let url = format!(
        "{}?%24alt=json&%24apiVersion=2026-09-01&alt=json",
        instance_url(&sim, GOOD_VM)
    );
    assert_eq!(
        http().get(&url).send().await.unwrap().status().as_u16(),
        200
    );
    for path in [
        "/compute/v1/projects/nope",
        "/compute/v1/projects/bob-project/zones/us-central1-a/disks/nope",
        "/compute/v1/projects/cos-cloud/global/images/nope",
        "/compute/v1/projects/bob-project/zones/us-central1-a/instances/tokenclient-good/frobnicate",
        "/nothing/here",
    ] {
        let response = http()
            .get(format!("{}{path}", sim.api_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["errors"][0]["reason"], "notFound", "{path}");
    }
}

#[tokio::test]
async fn stop_and_start_change_status_fingerprint_and_write_audit_entries() {
    let sim = start_demo().await;
    let count = sim.handle().audit_entry_count();
    let before = sim.handle().instance_json(GOOD_VM).unwrap();
    let (status, op) = post(&format!("{}/stop", instance_url(&sim, GOOD_VM)), "").await;
    assert_eq!(status, 200);
    assert_eq!(op["operationType"], "stop");
    let stopped = sim.handle().instance_json(GOOD_VM).unwrap();
    assert_eq!(stopped["status"], "TERMINATED");
    assert_ne!(stopped["fingerprint"], before["fingerprint"]);
    assert_eq!(
        stopped["metadata"]["fingerprint"],
        before["metadata"]["fingerprint"]
    );
    let (status, _) = post(&format!("{}/start", instance_url(&sim, GOOD_VM)), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        sim.handle().instance_json(GOOD_VM).unwrap()["status"],
        "RUNNING"
    );
    assert_eq!(sim.handle().audit_entry_count(), count + 2);
}

#[tokio::test]
async fn project_get_has_common_instance_metadata_and_stale_set_is_412() {
    let sim = start_demo().await;
    let url = format!("{}/compute/v1/projects/{PROJECT}", sim.api_url());
    let project: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(project["kind"], "compute#project");
    assert_eq!(project["id"], "493201784516");
    assert_eq!(
        project["commonInstanceMetadata"]["items"][0]["key"],
        "enable-oslogin"
    );
    let body = json!({"fingerprint": "AAAAAAAAAAA=", "items": []});
    let (status, error) = post(
        &format!("{url}/setCommonInstanceMetadata"),
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 412);
    assert_eq!(error["error"]["errors"][0]["reason"], "conditionNotMet");
    let body = json!({"fingerprint": project["commonInstanceMetadata"]["fingerprint"], "items": [{"key": "ssh-keys", "value": "x"}]});
    let (status, op) = post(
        &format!("{url}/setCommonInstanceMetadata"),
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(op.get("zone").is_none());
    assert!(
        op["selfLink"]
            .as_str()
            .unwrap()
            .contains("/global/operations/")
    );
}
