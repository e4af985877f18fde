//! `[vm.boot_disk]` in a scenario: a disk made before its VM, detached once, attached elsewhere, with
//! pre-loaded `gce_disk` entries; the admin API's disk entries and Data Access switch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{GOOD_VM, PROJECT, ZONE, demo_path, http};
use tokendist_sim::Scenario;

fn demo_with_boot_disk(lines: &str) -> Result<Scenario, tokendist_sim::ScenarioError> {
    let text = std::fs::read_to_string(demo_path()).unwrap();
    let second = text.match_indices("[[vm]]").nth(1).unwrap().0;
    let cut = text[..second].rfind("\n#").map_or(second, |i| i + 1);
    let text = format!(
        "{}[vm.boot_disk]\n{lines}\n\n{}",
        &text[..cut],
        &text[cut..]
    );
    Scenario::from_toml_str(&text, demo_path().parent().unwrap())
}

async fn disk(sim: &tokendist_sim::RunningSim) -> Value {
    http()
        .get(format!(
            "{}/compute/v1/projects/{PROJECT}/zones/{ZONE}/disks/{GOOD_VM}",
            sim.api_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn entries(sim: &tokendist_sim::RunningSim, filter: &str) -> Vec<Value> {
    let body: Value = http()
        .post(format!("{}/v2/entries:list", sim.api_url()))
        .json(&json!({ "resourceNames": [format!("projects/{PROJECT}")], "filter": filter }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["entries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn declared_disk_history_is_served_by_disks_get_and_logging() {
    let scenario = demo_with_boot_disk(
        "created = \"2026-11-01T10:00:00Z\"\nlast_detach = \"2026-11-01T11:00:00Z\"\n\
         also_attached_to = [\"tokenclient-tampered\"]\n\
         [[vm.boot_disk.history]]\nmethod = \"v1.compute.disks.createSnapshot\"\ntime = \"2026-11-01T10:30:00Z\"",
    )
    .unwrap();
    let sim = support::start(scenario).await;
    let disk = disk(&sim).await;
    assert_eq!(disk["creationTimestamp"], "2026-11-01T03:00:00.000-07:00");
    assert_eq!(disk["lastDetachTimestamp"], "2026-11-01T04:00:00.000-07:00");
    assert_eq!(disk["users"].as_array().unwrap().len(), 2);
    let id = disk["id"].as_str().unwrap();
    let found = entries(
        &sim,
        &format!("resource.type=\"gce_disk\" AND resource.labels.disk_id=\"{id}\""),
    )
    .await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0]["protoPayload"]["methodName"],
        "v1.compute.disks.createSnapshot"
    );
}

#[test]
fn a_disk_attached_to_an_unknown_vm_is_a_scenario_error() {
    let err = demo_with_boot_disk("also_attached_to = [\"nobody\"]").unwrap_err();
    assert!(
        err.to_string().contains("vm[0].boot_disk.also_attached_to"),
        "{err}"
    );
}

#[tokio::test]
async fn admin_disk_entries_and_the_data_access_switch() {
    let sim = support::start(support::demo()).await;
    let admin = format!("{}/admin/v1", sim.api_url());
    let response = http()
        .post(format!("{admin}/auditEntries"))
        .json(&json!({ "disk": GOOD_VM, "method": "v1.compute.disks.setLabels" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{response:?}");
    assert_eq!(entries(&sim, "resource.type=\"gce_disk\"").await.len(), 1);
    let data_access =
        "logName=\"projects/bob-project/logs/cloudaudit.googleapis.com%2Fdata_access\"";
    disk(&sim).await;
    assert!(entries(&sim, data_access).await.is_empty());
    let response = http()
        .post(format!("{admin}/dataAccessReads"))
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{response:?}");
    disk(&sim).await;
    let reads = entries(&sim, data_access).await;
    assert_eq!(reads.len(), 1, "{reads:#?}");
    assert_eq!(
        reads[0]["protoPayload"]["methodName"],
        "v1.compute.disks.get"
    );
    assert_eq!(reads[0]["severity"], "INFO");
    assert!(reads[0].get("operation").is_none());
}
