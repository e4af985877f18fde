//! Admin API over HTTP: key rotation, faults, audit entries, minted tokens, EK replacement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::{GOOD_VM, http, instance_url, start_demo};

async fn admin(api: &str, path: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{api}/admin/v1/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn published_kids(api: &str) -> Vec<String> {
    let jwks: Value = http()
        .get(format!("{api}/oauth2/v3/certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn header_kid(token: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn rotation_publishes_new_key_keeps_previous_until_next_rotation_or_drop() {
    let sim = start_demo().await;
    let api = sim.api_url();
    let original = published_kids(&api).await;
    assert_eq!(original.len(), 1);
    let (status, rotated) = admin(&api, "keys:rotate", json!({})).await;
    assert_eq!(status, 200);
    let second = rotated["current_kid"].as_str().unwrap().to_string();
    assert_eq!(
        published_kids(&api).await,
        vec![second.clone(), original[0].clone()]
    );
    let (_, minted) = admin(
        &api,
        "identityTokens",
        json!({"vm": GOOD_VM, "audience": "a"}),
    )
    .await;
    assert_eq!(header_kid(minted["token"].as_str().unwrap()), second);
    admin(&api, "keys:rotate", json!({})).await;
    let kids = published_kids(&api).await;
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[1], second);
    assert!(!kids.contains(&original[0]));
    let (_, dropped) = admin(&api, "keys:rotate", json!({"drop_previous": true})).await;
    assert_eq!(
        published_kids(&api).await,
        vec![dropped["current_kid"].as_str().unwrap().to_string()]
    );
}

#[tokio::test]
async fn minted_token_honours_iat_and_exp_overrides() {
    let sim = start_demo().await;
    let (status, minted) = admin(
        &sim.api_url(),
        "identityTokens",
        json!({"vm": GOOD_VM, "audience": "https://tokenserver", "iat": 1_700_000_000i64, "exp": 1_700_000_600i64, "licenses": true}),
    )
    .await;
    assert_eq!(status, 200);
    let token = minted["token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iat"], 1_700_000_000i64);
    assert_eq!(claims["exp"], 1_700_000_600i64);
    assert_eq!(claims["google"]["compute_engine"]["instance_name"], GOOD_VM);
    let (status, error) = admin(
        &sim.api_url(),
        "identityTokens",
        json!({"vm": "nope", "audience": "a"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["status"], "NOT_FOUND");
}

#[tokio::test]
async fn compute_fault_for_two_requests_then_recovers() {
    let sim = start_demo().await;
    let (status, _) = admin(
        &sim.api_url(),
        "faults",
        json!({"api": "compute", "status": 503, "count": 2}),
    )
    .await;
    assert_eq!(status, 200);
    let url = instance_url(&sim, GOOD_VM);
    let statuses = [
        http().get(&url).send().await.unwrap().status().as_u16(),
        http().get(&url).send().await.unwrap().status().as_u16(),
        http().get(&url).send().await.unwrap().status().as_u16(),
    ];
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn latency_fault_delays_metadata_answers_until_cleared() {
    let sim = start_demo().await;
    let (status, _) = admin(
        &sim.api_url(),
        "faults",
        json!({"api": "metadata", "latency_ms": 1000}),
    )
    .await;
    assert_eq!(status, 200);
    let url = format!(
        "{}/computeMetadata/v1/instance/name",
        sim.metadata_url(GOOD_VM).unwrap()
    );
    let started = Instant::now();
    let response = http()
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    admin(&sim.api_url(), "faults:clear", json!({"api": "metadata"})).await;
    let started = Instant::now();
    http()
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(1000));
}

#[tokio::test]
async fn invalid_fault_and_unknown_admin_paths_are_rejected() {
    let sim = start_demo().await;
    let (status, body) = admin(
        &sim.api_url(),
        "faults",
        json!({"api": "compute", "status": 200}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    let (status, _) = admin(
        &sim.api_url(),
        "faults",
        json!({"api": "dns", "status": 503}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = admin(&sim.api_url(), "nothing", json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn added_audit_entry_is_listed_with_its_principal() {
    let sim = start_demo().await;
    let (status, _) = admin(
        &sim.api_url(),
        "auditEntries",
        json!({"vm": GOOD_VM, "method": "v1.compute.instances.setServiceAccount", "time": "2026-11-20T12:00:00Z", "principal": "mallory@example.com"}),
    )
    .await;
    assert_eq!(status, 200);
    let list: Value = http()
        .post(format!("{}/v2/entries:list", sim.api_url()))
        .json(&json!({"resourceNames": ["projects/bob-project"], "filter": "protoPayload.methodName:setServiceAccount"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &list["entries"][0];
    assert_eq!(entry["timestamp"], "2026-11-20T12:00:00.000000Z");
    assert_eq!(
        entry["protoPayload"]["authenticationInfo"]["principalEmail"],
        "mallory@example.com"
    );
    assert_eq!(
        entry["protoPayload"]["request"]["@type"],
        "type.googleapis.com/compute.instances.setServiceAccount"
    );
}

#[tokio::test]
async fn ek_can_be_replaced_at_run_time() {
    let sim = start_demo().await;
    let pem = std::fs::read_to_string(
        support::demo_path()
            .parent()
            .unwrap()
            .join("keys/tokenclient-tampered-ek.pem"),
    )
    .unwrap();
    let (status, _) = admin(
        &sim.api_url(),
        &format!("instances/{GOOD_VM}/ek"),
        json!({"pem": pem}),
    )
    .await;
    assert_eq!(status, 200);
    let identity: Value = http()
        .get(format!(
            "{}/getShieldedInstanceIdentity",
            instance_url(&sim, GOOD_VM)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(identity["encryptionKey"]["ekPub"], pem);
    let (status, _) = admin(
        &sim.api_url(),
        &format!("instances/{GOOD_VM}/ek"),
        json!({"pem": "nope"}),
    )
    .await;
    assert_eq!(status, 400);
}
