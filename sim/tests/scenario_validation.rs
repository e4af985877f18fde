//! Scenario validation: every bad scenario is a clear error naming the field and the problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use tokendist_sim::{Scenario, ScenarioError};
use tokendist_testkit::demo::{GOOD_VM, GOOD_VM_ID, TAMPERED_VM};

fn scenarios_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
}

const BASE: &str = r#"
[[project]]
id = "bob-project"
number = 493201784516

[[vm]]
id = "4708131932155938716"
name = "vm-a"
project = "bob-project"
zone = "us-central1-a"
service_account = "sa@bob-project.iam.gserviceaccount.com"
created = "2026-11-01T00:00:00Z"
boot_image = "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-109-17800-147-54"
internal_ip = "10.0.0.2"
ek_public_key = "keys/tokenclient-good-ek.pem"
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml_str(text, scenarios_dir())
}

fn invalid_field(text: &str) -> (String, String) {
    match parse(text).unwrap_err() {
        ScenarioError::Invalid { field, problem, .. } => (field, problem),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn demo_scenario_loads_with_two_vms_and_user_data() {
    let scenario = support::demo();
    assert_eq!(scenario.vms.len(), 2);
    let good = scenario.vm(GOOD_VM).unwrap();
    assert_eq!(good.id.to_string(), GOOD_VM_ID);
    assert!(good.metadata["user-data"].contains("@sha256:"));
    let tampered = scenario.vm(TAMPERED_VM).unwrap();
    assert!(tampered.metadata["user-data"].contains("tokenclient:latest"));
    assert!(tampered.metadata.contains_key("ssh-keys"));
    assert_eq!(
        tampered.history[0].method,
        "v1.compute.instances.setMetadata"
    );
}

#[test]
fn base_scenario_is_valid() {
    assert_eq!(parse(BASE).unwrap().vms[0].name, "vm-a");
}

#[test]
fn unknown_field_is_a_parse_error_naming_it() {
    let err = parse(&BASE.replace("internal_ip =", "colour = \"red\"\ninternal_ip =")).unwrap_err();
    match err {
        ScenarioError::Parse { message, .. } => assert!(message.contains("colour"), "{message}"),
        other => panic!("expected Parse, got {other:?}"),
    }
}

#[test]
fn duplicate_vm_name_is_rejected() {
    let second = BASE
        .split("[[vm]]")
        .nth(1)
        .unwrap()
        .replace("4708131932155938716", "1");
    let (field, problem) = invalid_field(&format!("{BASE}\n[[vm]]{second}"));
    assert_eq!(field, "vm[1].name");
    assert!(problem.contains("duplicate VM name `vm-a`"));
}

#[test]
fn duplicate_vm_id_is_rejected() {
    let second = BASE
        .split("[[vm]]")
        .nth(1)
        .unwrap()
        .replace("\"vm-a\"", "\"vm-b\"");
    let (field, problem) = invalid_field(&format!("{BASE}\n[[vm]]{second}"));
    assert_eq!(field, "vm[1].id");
    assert!(problem.contains("duplicate VM id"));
}

#[test]
fn duplicate_project_id_is_rejected() {
    let text = BASE.replacen(
        "[[vm]]",
        "[[project]]\nid = \"bob-project\"\nnumber = 1\n\n[[vm]]",
        1,
    );
    let (field, _) = invalid_field(&text);
    assert_eq!(field, "project[1].id");
}

#[test]
fn missing_ek_file_names_field_and_path() {
    let err = parse(&BASE.replace("keys/tokenclient-good-ek.pem", "keys/nope.pem")).unwrap_err();
    match &err {
        ScenarioError::MissingFile {
            field, referenced, ..
        } => {
            assert_eq!(field, "vm[0].ek_public_key");
            assert!(referenced.ends_with("keys/nope.pem"));
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
    assert!(err.to_string().contains("relative to the scenario file"));
}

#[test]
fn missing_user_data_file_is_rejected() {
    let text = BASE.replace(
        "internal_ip =",
        "user_data = \"missing.yaml\"\ninternal_ip =",
    );
    assert!(
        matches!(parse(&text).unwrap_err(), ScenarioError::MissingFile { field, .. } if field == "vm[0].user_data")
    );
}

#[test]
fn bad_values_name_their_field() {
    let cases = [
        (
            BASE.replace("\"4708131932155938716\"", "\"4.7e18\""),
            "vm[0].id",
        ),
        (
            BASE.replace("\"2026-11-01T00:00:00Z\"", "\"yesterday\""),
            "vm[0].created",
        ),
        (
            BASE.replace(
                "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/",
                "cos-",
            ),
            "vm[0].boot_image",
        ),
        (
            BASE.replace("\"10.0.0.2\"", "\"10.0.0.300\""),
            "vm[0].internal_ip",
        ),
        (
            BASE.replace("project = \"bob-project\"", "project = \"alice\""),
            "vm[0].project",
        ),
        (
            BASE.replace("ek_public_key = \"keys/tokenclient-good-ek.pem\"", ""),
            "vm[0].ek_public_key",
        ),
        (
            BASE.replace("internal_ip =", "status = \"EXPLODED\"\ninternal_ip ="),
            "vm[0].status",
        ),
        (BASE.replace("\"vm-a\"", "\"VM_A\""), "vm[0].name"),
        (
            format!(
                "{BASE}\n[[vm.history]]\nmethod = \"setMetadata\"\ntime = \"2026-11-01T00:00:00Z\"\n"
            ),
            "vm[0].history[0].method",
        ),
    ];
    for (text, expected) in cases {
        let (field, problem) = invalid_field(&text);
        assert_eq!(field, expected, "{problem}");
        assert!(!problem.is_empty());
    }
}

#[test]
fn malformed_toml_is_a_parse_error_not_a_panic() {
    assert!(matches!(
        parse("[[vm]\nid = ").unwrap_err(),
        ScenarioError::Parse { .. }
    ));
    assert!(matches!(
        parse("[[project]]\nid = \"p\"\nnumber = \"twelve\"").unwrap_err(),
        ScenarioError::Parse { .. }
    ));
}

#[test]
fn from_file_reports_unreadable_scenario() {
    let err = Scenario::from_file(Path::new("/nonexistent/scenario.toml")).unwrap_err();
    assert!(matches!(err, ScenarioError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/scenario.toml"));
}
