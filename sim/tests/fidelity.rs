//! gcpsim's JSON has the same key sets, nesting and types as Google's (the fixtures), with every
//! known difference listed explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::{
    GOOD_VM, GOOD_VM_ID, PROJECT, ZONE, fixture, http, instance_url, shape_diff, start_demo,
};
use tokendist_sim::{Api, FaultSpec, MintTokenRequest};

fn assert_shape(ours: &Value, google: &Value, allowed: &[&str]) {
    let diffs: Vec<String> = shape_diff(ours, google)
        .into_iter()
        .filter(|d| !allowed.iter().any(|a| d.starts_with(a)))
        .collect();
    assert!(diffs.is_empty(), "shape differences: {diffs:#?}");
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn instance_has_the_shape_of_a_real_cos_shielded_instance() {
    let sim = start_demo().await;
    let (status, ours) = get_json(&instance_url(&sim, GOOD_VM)).await;
    assert_eq!(status, 200);
    assert_shape(
        &ours,
        &fixture("compute-instance-cos-shielded-seed-tokenclient-assembled.json"),
        &[
            "$.description: missing in ours",
            "$.tags.items: missing in ours",
            "$.labels: extra in ours",
        ],
    );
    assert_eq!(ours["id"], GOOD_VM_ID);
}

#[tokio::test]
async fn shielded_identity_has_the_shape_of_the_real_one() {
    let sim = start_demo().await;
    let url = format!(
        "{}/getShieldedInstanceIdentity",
        instance_url(&sim, GOOD_VM)
    );
    let (status, ours) = get_json(&url).await;
    assert_eq!(status, 200);
    assert_shape(
        &ours,
        &fixture("compute-shieldedInstanceIdentity-ekpub-only.json"),
        &[],
    );
}

#[tokio::test]
async fn disk_and_image_have_the_shape_of_real_ones() {
    let sim = start_demo().await;
    let (status, disk) = get_json(&format!(
        "{}/compute/v1/projects/{PROJECT}/zones/{ZONE}/disks/{GOOD_VM}",
        sim.api_url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_shape(
        &disk,
        &fixture("compute-disk-cos-seed-tokenclient-assembled.json"),
        &[],
    );
    let image_url = disk["sourceImage"].as_str().unwrap();
    let local = image_url.replace("https://www.googleapis.com", &sim.api_url());
    let (status, image) = get_json(&local).await;
    assert_eq!(status, 200);
    assert_eq!(image["selfLink"], image_url);
    assert_shape(
        &image,
        &fixture("compute-image-cos-97-lts-assembled.json"),
        &["$.guestOsFeatures: extra in ours"],
    );
}

#[tokio::test]
async fn compute_errors_use_googles_envelope() {
    let sim = start_demo().await;
    let (status, not_found) = get_json(&instance_url(&sim, "tokenclient")).await;
    assert_eq!(status, 404);
    assert_shape(
        &not_found,
        &fixture("compute-error-404-notfound-instance-assembled.json"),
        &[],
    );
    assert_eq!(
        not_found["error"]["message"],
        "The resource 'projects/bob-project/zones/us-central1-a/instances/tokenclient' was not found"
    );
    sim.handle()
        .inject_fault(FaultSpec {
            api: Api::Compute,
            status: Some(503),
            count: Some(1),
            rate: None,
            latency_ms: None,
        })
        .unwrap();
    let (status, unavailable) = get_json(&instance_url(&sim, GOOD_VM)).await;
    assert_eq!(status, 503);
    assert_shape(
        &unavailable,
        &fixture("compute-error-503-backenderror.json"),
        &[],
    );
    assert_eq!(unavailable["error"]["errors"][0]["reason"], "backendError");
    let (status, _) = get_json(&instance_url(&sim, GOOD_VM)).await;
    assert_eq!(status, 200, "a count=1 fault must apply once");
}

#[tokio::test]
async fn set_metadata_audit_entry_and_list_envelope_have_googles_shape() {
    let sim = start_demo().await;
    let instance = sim.handle().instance_json(GOOD_VM).unwrap();
    let mut items = instance["metadata"]["items"].as_array().unwrap().clone();
    items.push(json!({"key": "windows-keys", "value": "x"}));
    let body = json!({"fingerprint": instance["metadata"]["fingerprint"], "items": items});
    let response = http()
        .post(format!("{}/setMetadata", instance_url(&sim, GOOD_VM)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let operation: Value = response.json().await.unwrap();
    assert_eq!(operation["kind"], "compute#operation");
    assert_eq!(operation["status"], "DONE");
    assert_eq!(operation["operationType"], "setMetadata");

    let list: Value = http()
        .post(format!("{}/v2/entries:list", sim.api_url()))
        .json(&json!({
            "resourceNames": [format!("projects/{PROJECT}")],
            "filter": format!("protoPayload.methodName=\"v1.compute.instances.setMetadata\" resource.labels.instance_id={GOOD_VM_ID}"),
            "orderBy": "timestamp desc",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    // Our single entry is both first and last of its operation: the "last" fixture's shape plus the
    // request metadata, resource location and operation id that the "first" fixture carries.
    assert_shape(
        entry,
        &fixture("logging-entry-v1-compute-instances-setMetadata-last.json"),
        &[
            "$.protoPayload.requestMetadata.callerIp: extra",
            "$.protoPayload.requestMetadata.callerSuppliedUserAgent: extra",
            "$.protoPayload.resourceLocation: extra",
            "$.operation.id: extra",
            "$.operation.first: extra",
        ],
    );
    assert_eq!(
        entry["protoPayload"]["request"]["Metadata Keys Modified"],
        json!(["windows-keys"])
    );
    assert_eq!(
        entry["protoPayload"]["metadata"]["instanceMetadataDelta"]["addedMetadataKeys"],
        json!(["windows-keys"])
    );
    assert_eq!(
        entry["logName"],
        "projects/bob-project/logs/cloudaudit.googleapis.com%2Factivity"
    );
    assert_eq!(entry["severity"], "NOTICE");
    assert_eq!(entry["resource"]["labels"]["instance_id"], GOOD_VM_ID);
    let google_list = fixture("logging-entries-list-response-two-entries.json");
    assert_eq!(
        list.as_object().unwrap().keys().collect::<Vec<_>>(),
        google_list.as_object().unwrap().keys().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn insert_entry_is_synthesised_at_creation_time_with_googles_shape() {
    let sim = start_demo().await;
    let list: Value = http()
        .post(format!("{}/v2/entries:list", sim.api_url()))
        .json(&json!({
            "resourceNames": [format!("projects/{PROJECT}")],
            "filter": format!("protoPayload.methodName=\"v1.compute.instances.insert\" AND resource.labels.instance_id={GOOD_VM_ID}"),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &list["entries"][0];
    assert_eq!(entry["timestamp"], "2026-11-02T10:15:30.250000Z");
    assert_shape(
        entry,
        &fixture("logging-entry-v1-compute-instances-insert-last-real-2024.json"),
        &[
            "$.labels: missing",
            "$.protoPayload.authenticationInfo.principalSubject: missing",
            "$.protoPayload.requestMetadata.requestAttributes: missing",
            "$.protoPayload.requestMetadata.destinationAttributes: missing",
            "$.protoPayload.resourceLocation: extra",
            "$.operation.first: extra",
        ],
    );
}

#[tokio::test]
async fn jwks_has_googles_shape_and_cache_headers() {
    let sim = start_demo().await;
    let response = http()
        .get(format!("{}/oauth2/v3/certs", sim.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        cache,
        "public, max-age=21155, must-revalidate, no-transform"
    );
    assert!(response.headers().contains_key("expires"));
    let jwks: Value = response.json().await.unwrap();
    let google = fixture("google-oauth2-v3-certs-jwks.json");
    assert_shape(&jwks, &google, &[]);
    assert_eq!(jwks["keys"][0]["e"], "AQAB");
    assert_eq!(jwks["keys"][0]["kid"].as_str().unwrap().len(), 40);
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn identity_token_claims_have_exactly_googles_shape_and_verify_against_the_jwks() {
    let sim = start_demo().await;
    let token = sim
        .handle()
        .mint_identity_token(&MintTokenRequest {
            vm: GOOD_VM.to_string(),
            audience: "https://tokenserver".to_string(),
            format: Some("full".to_string()),
            licenses: true,
            iat: None,
            exp: None,
        })
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let google = fixture("identity-token-gce-cos-full-seed-tokenclient-assembled.json");
    let header = decode_part(parts[0]);
    let claims = decode_part(parts[1]);
    assert_shape(&header, &google["header"], &[]);
    assert_shape(&claims, &google["payload"], &[]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(
        claims["google"]["compute_engine"]["project_number"],
        493201784516u64
    );
    // Google's payloads are compact JSON with sorted keys.
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert!(raw.starts_with("{\"aud\":"));
    let resorted = serde_json::to_string(
        &serde_json::from_str::<std::collections::BTreeMap<String, Value>>(&raw).unwrap(),
    )
    .unwrap();
    assert_eq!(raw, resorted, "payload keys must be sorted and compact");

    let jwks = sim.handle().jwks();
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], header["kid"]);
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["https://tokenserver"]);
    validation.set_issuer(&["https://accounts.google.com"]);
    let verified = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
    assert_eq!(
        verified.claims["email"],
        "tokenclient@bob-project.iam.gserviceaccount.com"
    );
}
