//! Cloud Logging sinks against the real `gcloud` CLI and the real Pub/Sub emulator: `gcloud logging
//! sinks create/describe/list/delete` work against gcpsim, every new entry matching a sink's filter
//! is published to its topic with the LogEntry JSON as the message data, entries that do not match
//! are not, and a filter gcpsim cannot interpret is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use support::{GOOD_VM, GOOD_VM_ID, PROJECT, ZONE, demo_path};
use tokendist_testkit::PubsubEmulator;
use tokendist_testkit::gcpsim::{GcpsimProcess, gcloud};

const TOPIC: &str = "projects/bob-project/topics/tokendist-audit";
const SUBSCRIPTION: &str = "projects/bob-project/subscriptions/test-reader";
const FILTER: &str =
    "logName:\"cloudaudit.googleapis.com\" AND protoPayload.methodName:\"setMetadata\"";

struct World {
    pubsub: PubsubEmulator,
    sim: GcpsimProcess,
    config: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let pubsub = PubsubEmulator::start();
        pubsub.create_topic(TOPIC);
        let (status, answer) =
            pubsub.request("PUT", SUBSCRIPTION, Some(&json!({ "topic": TOPIC })));
        assert_eq!(status, 200, "{answer}");
        let dir = tempfile::tempdir().unwrap();
        let sim = GcpsimProcess::spawn_with(
            Path::new(env!("CARGO_BIN_EXE_gcpsim")),
            &demo_path(),
            dir.path(),
            Some(pubsub.host()),
        );
        World {
            pubsub,
            sim,
            config: tempfile::tempdir().unwrap(),
            _dir: dir,
        }
    }

    fn gcloud(&self, args: &[&str]) -> String {
        gcloud(self.sim.api, self.config.path(), args)
    }

    /// Pulls until `want` messages arrived (bounded), acknowledging them; their LogEntry JSON.
    fn pull(&self, want: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut entries = Vec::new();
        while entries.len() < want {
            assert!(
                Instant::now() < deadline,
                "only {} of {want} messages",
                entries.len()
            );
            let (status, answer) = self.pubsub.request(
                "POST",
                &format!("{SUBSCRIPTION}:pull"),
                Some(&json!({ "maxMessages": 10, "returnImmediately": true })),
            );
            assert_eq!(status, 200, "{answer}");
            let received = answer["receivedMessages"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if received.is_empty() {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let ack_ids: Vec<Value> = received.iter().map(|m| m["ackId"].clone()).collect();
            self.pubsub.request(
                "POST",
                &format!("{SUBSCRIPTION}:acknowledge"),
                Some(&json!({ "ackIds": ack_ids })),
            );
            for message in received {
                let data = base64::engine::general_purpose::STANDARD
                    .decode(message["message"]["data"].as_str().unwrap())
                    .unwrap();
                let entry: Value = serde_json::from_slice(&data).unwrap();
                assert_eq!(
                    message["message"]["attributes"]["logging.googleapis.com/timestamp"],
                    entry["timestamp"]
                );
                entries.push(entry);
            }
        }
        entries
    }

    fn nothing_more(&self) {
        let (_, answer) = self.pubsub.request(
            "POST",
            &format!("{SUBSCRIPTION}:pull"),
            Some(&json!({ "maxMessages": 10, "returnImmediately": true })),
        );
        assert!(
            answer.get("receivedMessages").is_none(),
            "unexpected: {answer}"
        );
    }
}

#[test]
fn gcloud_sink_routes_matching_entries_to_the_pubsub_topic() {
    let world = World::start();
    let destination = format!("pubsub.googleapis.com/{TOPIC}");
    let filter = format!("--log-filter={FILTER}");
    world.gcloud(&[
        "logging",
        "sinks",
        "create",
        "tokendist-audit",
        &destination,
        &filter,
    ]);

    let described: Value = serde_json::from_str(&world.gcloud(&[
        "logging",
        "sinks",
        "describe",
        "tokendist-audit",
        "--format=json",
    ]))
    .unwrap();
    assert_eq!(described["destination"], destination);
    assert_eq!(described["filter"], FILTER);
    assert!(
        described["writerIdentity"]
            .as_str()
            .unwrap()
            .starts_with("serviceAccount:")
    );
    let listed: Value =
        serde_json::from_str(&world.gcloud(&["logging", "sinks", "list", "--format=json"]))
            .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Not matching (a start), then matching (metadata added): only the second is published.
    world.gcloud(&["compute", "instances", "stop", GOOD_VM, "--zone", ZONE]);
    world.gcloud(&[
        "compute",
        "instances",
        "add-metadata",
        GOOD_VM,
        "--zone",
        ZONE,
        "--metadata",
        "tamper=yes",
    ]);
    let entries = world.pull(1);
    let entry = &entries[0];
    assert_eq!(
        entry["protoPayload"]["methodName"],
        "v1.compute.instances.setMetadata"
    );
    assert_eq!(entry["resource"]["labels"]["instance_id"], GOOD_VM_ID);
    assert_eq!(
        entry["logName"],
        format!("projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity")
    );
    assert!(entry["insertId"].as_str().is_some());
    world.nothing_more();

    world.gcloud(&["logging", "sinks", "delete", "tokendist-audit"]);
    world.gcloud(&[
        "compute",
        "instances",
        "add-metadata",
        GOOD_VM,
        "--zone",
        ZONE,
        "--metadata",
        "again=yes",
    ]);
    std::thread::sleep(Duration::from_millis(500));
    world.nothing_more();
}

#[test]
fn a_filter_gcpsim_cannot_interpret_is_refused() {
    let world = World::start();
    let output = Command::new("gcloud")
        .args([
            "logging",
            "sinks",
            "create",
            "bad",
            &format!("pubsub.googleapis.com/{TOPIC}"),
            "--log-filter=protoPayload.methodName=~\"set.*\"",
        ])
        .env("CLOUDSDK_AUTH_DISABLE_CREDENTIALS", "true")
        .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
        .env("CLOUDSDK_CORE_PROJECT", PROJECT)
        .env(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING",
            format!("http://{}/", world.sim.api),
        )
        .env("CLOUDSDK_CONFIG", world.config.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Invalid filter"), "{stderr}");
    let listed: Value =
        serde_json::from_str(&world.gcloud(&["logging", "sinks", "list", "--format=json"]))
            .unwrap();
    assert_eq!(listed, json!([]));
}
