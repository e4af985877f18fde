//! Cloud Logging `entries:list`: filtering, ordering, pagination and Google's error envelope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{PROJECT, TAMPERED_VM_ID, http, start};
use tokendist_sim::Scenario;

const PADDED: &str = r#"
[[project]]
id = "bob-project"
number = 493201784516

[[vm]]
id = "18446744073709551557"
name = "padded"
project = "bob-project"
zone = "us-central1-a"
service_account = "sa@bob-project.iam.gserviceaccount.com"
created = "2026-11-01T00:00:00Z"
boot_image = "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-109-17800-147-54"
internal_ip = "10.0.0.2"
shielded = { vtpm = false }
pad_history = 250
[[vm.history]]
method = "v1.compute.instances.setMetadata"
time = "2026-11-01T00:00:30.500Z"
"#;

async fn list(api: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{api}/v2/entries:list"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn three_pages_in_descending_order_place_the_denied_method_on_page_three() {
    let scenario = Scenario::from_toml_str(PADDED, std::path::Path::new("/")).unwrap();
    let sim = start(scenario).await;
    let api = sim.api_url();
    let filter =
        "resource.labels.instance_id=18446744073709551557 AND timestamp>=\"2026-11-01T00:00:00Z\"";
    let mut token: Option<String> = None;
    let mut pages: Vec<Vec<Value>> = Vec::new();
    loop {
        let mut body = json!({
            "resourceNames": [format!("projects/{PROJECT}")],
            "filter": filter,
            "orderBy": "timestamp desc",
            "pageSize": 100,
        });
        if let Some(t) = &token {
            body["pageToken"] = json!(t);
        }
        let (status, page) = list(&api, body).await;
        assert_eq!(status, 200, "{page}");
        pages.push(page["entries"].as_array().unwrap().clone());
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    // 1 insert + 250 padding + 1 declared setMetadata = 252 entries.
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 100, 52]
    );
    let position = |page: &[Value]| {
        page.iter()
            .position(|e| e["protoPayload"]["methodName"] == "v1.compute.instances.setMetadata")
    };
    assert_eq!(position(&pages[0]), None);
    assert_eq!(position(&pages[1]), None);
    // padding at +31 s..+250 s (220 entries) precedes it in descending order.
    assert_eq!(position(&pages[2]), Some(20));
    assert_eq!(
        pages[2].last().unwrap()["protoPayload"]["methodName"],
        "v1.compute.instances.insert"
    );
    let times: Vec<&str> = pages
        .iter()
        .flatten()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not in descending order"
    );
}

#[tokio::test]
async fn default_order_is_ascending_and_default_page_size_is_fifty() {
    let scenario = Scenario::from_toml_str(PADDED, std::path::Path::new("/")).unwrap();
    let sim = start(scenario).await;
    let (status, page) = list(
        &sim.api_url(),
        json!({"resourceNames": ["projects/bob-project"]}),
    )
    .await;
    assert_eq!(status, 200);
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 50);
    assert_eq!(
        entries[0]["protoPayload"]["methodName"],
        "v1.compute.instances.insert"
    );
    assert!(page["nextPageToken"].is_string());
}

#[tokio::test]
async fn unsupported_filter_syntax_is_a_400_invalid_argument_envelope() {
    let sim = support::start_demo().await;
    for filter in [
        "hello world",
        "protoPayload.methodName=~\"set.*\"",
        "(resource.type=gce_instance",
    ] {
        let (status, body) = list(
            &sim.api_url(),
            json!({"resourceNames": ["projects/bob-project"], "filter": filter}),
        )
        .await;
        assert_eq!(status, 400, "{filter}");
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("filter")
        );
    }
}

#[tokio::test]
async fn malformed_list_requests_get_invalid_argument() {
    let sim = support::start_demo().await;
    let api = sim.api_url();
    let cases = [
        json!({"resourceNames": []}),
        json!({"resourceNames": ["organizations/1"]}),
        json!({"resourceNames": ["projects/bob-project"], "pageSize": 1001}),
        json!({"resourceNames": ["projects/bob-project"], "orderBy": "severity"}),
        json!({"resourceNames": ["projects/bob-project"], "pageToken": "bogus"}),
        json!({"resourceNames": ["projects/bob-project"], "unknownField": 1}),
    ];
    for body in cases {
        let (status, answer) = list(&api, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"]["status"], "INVALID_ARGUMENT", "{body}");
    }
    let response = http()
        .post(format!("{api}/v2/entries:list"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn page_token_from_another_query_is_rejected() {
    let scenario = Scenario::from_toml_str(PADDED, std::path::Path::new("/")).unwrap();
    let sim = start(scenario).await;
    let (_, first) = list(
        &sim.api_url(),
        json!({"resourceNames": ["projects/bob-project"], "pageSize": 10}),
    )
    .await;
    let token = first["nextPageToken"].as_str().unwrap();
    let (status, body) = list(
        &sim.api_url(),
        json!({"resourceNames": ["projects/bob-project"], "pageSize": 10, "filter": "resource.type=gce_instance", "pageToken": token}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn tampered_vm_history_shows_declared_set_metadata_after_insert() {
    let sim = support::start_demo().await;
    let (status, page) = list(
        &sim.api_url(),
        json!({
            "resourceNames": [format!("projects/{PROJECT}")],
            "filter": format!("logName=\"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity\" AND resource.labels.instance_id={TAMPERED_VM_ID}"),
        }),
    )
    .await;
    assert_eq!(status, 200);
    let methods: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["protoPayload"]["methodName"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        vec![
            "v1.compute.instances.insert",
            "v1.compute.instances.setMetadata"
        ]
    );
}

#[tokio::test]
async fn logging_fault_returns_unavailable_envelope() {
    let sim = support::start_demo().await;
    sim.handle()
        .inject_fault(tokendist_sim::FaultSpec {
            api: tokendist_sim::Api::Logging,
            status: Some(503),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();
    let (status, body) = list(
        &sim.api_url(),
        json!({"resourceNames": ["projects/bob-project"]}),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["status"], "UNAVAILABLE");
    sim.handle().clear_faults(None);
    let (status, _) = list(
        &sim.api_url(),
        json!({"resourceNames": ["projects/bob-project"]}),
    )
    .await;
    assert_eq!(status, 200);
}
