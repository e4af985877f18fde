//! Per-VM metadata servers: header rules, Google's error pages, values, identity tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::{
    GOOD_VM, GOOD_VM_ID, PROJECT, TAMPERED_VM, TAMPERED_VM_ID, http, instance_url, start_demo,
};

fn fixture_body(name: &str) -> String {
    let path = format!(
        "{}/../../shared/fixtures/gce/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap().replace("\r\n", "\n");
    text.split_once("\n\n").unwrap().1.to_string()
}

async fn get(base: &str, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = http()
        .get(format!("{base}{path}"))
        .header("Metadata-Flavor", "Google")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn missing_metadata_flavor_is_403_with_googles_exact_page() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let response = http()
        .get(format!("{base}/computeMetadata/v1/instance/name"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(response.headers()["metadata-flavor"], "Google");
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=UTF-8"
    );
    assert_eq!(
        response.text().await.unwrap(),
        fixture_body("metadata-server-403-missing-flavor.http")
    );
    let wrong = http()
        .get(format!("{base}/computeMetadata/v1/instance/name"))
        .header("Metadata-Flavor", "google-ish")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
}

#[tokio::test]
async fn x_forwarded_for_is_rejected_with_403() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let response = http()
        .get(format!("{base}/computeMetadata/v1/instance/name"))
        .header("Metadata-Flavor", "Google")
        .header("X-Forwarded-For", "10.0.0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn unknown_path_is_404_with_googles_exact_page() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let (status, headers, body) = get(&base, "/computeMetadata/v1/universe/universe_domain").await;
    assert_eq!(status, 404);
    assert_eq!(headers["metadata-flavor"], "Google");
    assert_eq!(body, fixture_body("metadata-server-404-not-found.http"));
}

#[tokio::test]
async fn instance_and_project_values_are_served_as_text() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let cases = [
        ("/computeMetadata/v1/instance/id", GOOD_VM_ID),
        ("/computeMetadata/v1/instance/name", GOOD_VM),
        (
            "/computeMetadata/v1/instance/zone",
            "projects/493201784516/zones/us-central1-a",
        ),
        (
            "/computeMetadata/v1/instance/machine-type",
            "projects/493201784516/machineTypes/e2-small",
        ),
        (
            "/computeMetadata/v1/instance/hostname",
            "tokenclient-good.us-central1-a.c.bob-project.internal",
        ),
        (
            "/computeMetadata/v1/instance/network-interfaces/0/ip",
            "10.128.0.2",
        ),
        (
            "/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip",
            "34.121.225.36",
        ),
        (
            "/computeMetadata/v1/instance/service-accounts/default/email",
            "tokenclient@bob-project.iam.gserviceaccount.com",
        ),
        (
            "/computeMetadata/v1/instance/service-accounts/",
            "default/\ntokenclient@bob-project.iam.gserviceaccount.com/\n",
        ),
        (
            "/computeMetadata/v1/instance/attributes/block-project-ssh-keys",
            "TRUE",
        ),
        ("/computeMetadata/v1/project/project-id", PROJECT),
        (
            "/computeMetadata/v1/project/numeric-project-id",
            "493201784516",
        ),
        (
            "/computeMetadata/v1/project/attributes/enable-oslogin",
            "FALSE",
        ),
    ];
    for (path, expected) in cases {
        let (status, headers, body) = get(&base, path).await;
        assert_eq!((status, body.as_str()), (200, expected), "{path}");
        assert_eq!(headers["metadata-flavor"], "Google");
    }
    let (_, _, user_data) = get(&base, "/computeMetadata/v1/instance/attributes/user-data").await;
    assert!(user_data.starts_with("#cloud-config"));
}

#[tokio::test]
async fn recursive_instance_json_keeps_the_id_as_an_exact_number() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let (status, headers, body) = get(&base, "/computeMetadata/v1/instance/?recursive=true").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert!(body.contains(&format!("\"id\":{GOOD_VM_ID}")));
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["name"], GOOD_VM);
    assert_eq!(
        value["networkInterfaces"][0]["accessConfigs"][0]["externalIp"],
        "34.121.225.36"
    );
    assert_eq!(value["attributes"]["block-project-ssh-keys"], "TRUE");
    assert!(
        value["serviceAccounts"]["tokenclient@bob-project.iam.gserviceaccount.com"].is_object()
    );
}

#[tokio::test]
async fn attributes_reflect_set_metadata() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let instance = sim.handle().instance_json(GOOD_VM).unwrap();
    let mut items = instance["metadata"]["items"].as_array().unwrap().clone();
    items.push(json!({"key": "ssh-keys", "value": "mallory:ssh-ed25519 AAAA"}));
    let response = http()
        .post(format!("{}/setMetadata", instance_url(&sim, GOOD_VM)))
        .json(&json!({"fingerprint": instance["metadata"]["fingerprint"], "items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (status, _, value) = get(&base, "/computeMetadata/v1/instance/attributes/ssh-keys").await;
    assert_eq!((status, value.as_str()), (200, "mallory:ssh-ed25519 AAAA"));
    let (_, _, listing) = get(&base, "/computeMetadata/v1/instance/attributes/").await;
    assert_eq!(
        listing,
        "block-project-ssh-keys\ngoogle-logging-enabled\nssh-keys\nuser-data\n"
    );
}

#[tokio::test]
async fn identity_full_with_licenses_has_compute_engine_claims_for_this_vm() {
    let sim = start_demo().await;
    let base = sim.metadata_url(TAMPERED_VM).unwrap();
    let (status, _, token) = get(
        &base,
        "/computeMetadata/v1/instance/service-accounts/default/identity?audience=https%3A%2F%2Ftokenserver&format=full&licenses=TRUE",
    )
    .await;
    assert_eq!(status, 200);
    let claims = claims(&token);
    assert_eq!(claims["aud"], "https://tokenserver");
    let engine = &claims["google"]["compute_engine"];
    assert_eq!(engine["instance_id"], TAMPERED_VM_ID);
    assert_eq!(engine["instance_name"], TAMPERED_VM);
    assert_eq!(
        engine["license_id"],
        json!(["1001010", "6880041984096540132", "166739712233658766"])
    );
    assert!(engine.get("instance_confidentiality").is_none());
}

#[tokio::test]
async fn identity_standard_has_no_google_claim_and_full_without_licenses_has_no_license_id() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let (_, _, standard) = get(
        &base,
        "/computeMetadata/v1/instance/service-accounts/default/identity?audience=aud",
    )
    .await;
    let standard = claims(&standard);
    assert!(standard.get("google").is_none());
    assert!(standard.get("email").is_none());
    let (_, _, full) = get(
        &base,
        "/computeMetadata/v1/instance/service-accounts/default/identity?audience=aud&format=full",
    )
    .await;
    let full = claims(&full);
    assert!(full["google"]["compute_engine"].get("license_id").is_none());
    assert_eq!(full["email_verified"], true);
}

#[tokio::test]
async fn identity_without_audience_is_400() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let (status, _, body) = get(
        &base,
        "/computeMetadata/v1/instance/service-accounts/default/identity?format=full",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("audience"));
}

#[tokio::test]
async fn confidential_vm_token_carries_instance_confidentiality() {
    let text = std::fs::read_to_string(support::demo_path())
        .unwrap()
        .replacen("confidential = false", "confidential = true", 1);
    let scenario =
        tokendist_sim::Scenario::from_toml_str(&text, support::demo_path().parent().unwrap())
            .unwrap();
    let sim = support::start(scenario).await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let (_, _, token) = get(
        &base,
        "/computeMetadata/v1/instance/service-accounts/default/identity?audience=a&format=full",
    )
    .await;
    assert_eq!(
        claims(&token)["google"]["compute_engine"]["instance_confidentiality"],
        1
    );
}

#[tokio::test]
async fn access_token_has_googles_shape() {
    let sim = start_demo().await;
    let base = sim.metadata_url(GOOD_VM).unwrap();
    let (status, _, body) = get(
        &base,
        "/computeMetadata/v1/instance/service-accounts/default/token",
    )
    .await;
    assert_eq!(status, 200);
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["token_type"], "Bearer");
    assert_eq!(value["expires_in"], 3599);
    assert!(value["access_token"].as_str().unwrap().starts_with("ya29."));
}
