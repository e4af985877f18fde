//! Admin API over HTTP for issue 8's identity attacks: an impostor key published first under the
//! current kid (a JWKS with a duplicate `kid`), and a same-name replacement of an instance (new id,
//! served by Compute and by the VM's metadata server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{GOOD_VM, http, instance_url, start_demo};

async fn post(api: &str, path: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{api}/admin/v1/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get_json(url: &str) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn an_impostor_key_is_listed_first_under_the_current_kid() {
    let sim = start_demo().await;
    let api = sim.api_url();
    let before = get_json(&format!("{api}/oauth2/v3/certs")).await;
    let kid = before["keys"][0]["kid"].as_str().unwrap().to_string();
    let (status, result) = post(&api, "keys:addImpostor", json!({})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["current_kid"], kid.as_str());
    let after = get_json(&format!("{api}/oauth2/v3/certs")).await;
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], keys[1]["kid"]);
    assert_ne!(keys[0]["n"], keys[1]["n"]);
    assert_eq!(
        keys[1]["n"], before["keys"][0]["n"],
        "Google's key stays, listed second"
    );
}

#[tokio::test]
async fn a_replacement_instance_keeps_its_name_and_gets_a_new_id() {
    let sim = start_demo().await;
    let api = sim.api_url();
    let url = instance_url(&sim, GOOD_VM);
    let before = get_json(&url).await;
    let (status, result) = post(&api, &format!("instances/{GOOD_VM}/replacement"), json!({})).await;
    assert_eq!(status, 200, "{result}");
    let after = get_json(&url).await;
    assert_eq!(after["name"], before["name"]);
    assert_ne!(after["id"], before["id"]);
    assert_eq!(after["id"], result["id"]);
    let (status, _) = post(&api, "instances/no-such-vm/replacement", json!({})).await;
    assert_eq!(status, 404);
}
