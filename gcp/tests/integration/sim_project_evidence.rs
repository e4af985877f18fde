//! `ComputeClient::project` and the collector's project part against gcpsim through Google's Compute
//! client: the demo project's common instance metadata decodes, a project with no metadata (Google
//! then omits `items`) is an empty map, and an unknown project is a classified fetch error, never a
//! pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use tokendist_core::evidence::FetchErrorKind;
use tokendist_sim::Scenario;
use tokendist_testkit::demo::{GOOD_VM, PROJECT, ZONE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_projects_metadata_decodes_and_is_collected_with_the_vm() {
    let sim = support::start(support::demo_scenario()).await;
    let project = support::compute(&sim).await.project(PROJECT).await.unwrap();
    assert_eq!(project.project, PROJECT);
    assert_eq!(project.project_number.as_deref(), Some("493201784516"));
    assert!(!project.metadata_fingerprint.is_empty());
    assert_eq!(
        project.metadata.iter().collect::<Vec<_>>(),
        [(&"enable-oslogin".to_owned(), &"FALSE".to_owned())]
    );

    let collected = support::collector(&sim)
        .await
        .collect(PROJECT, ZONE, GOOD_VM)
        .await;
    assert_eq!(collected.project, Ok(project));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_without_metadata_is_an_empty_map() {
    let text = std::fs::read_to_string(support::scenarios_dir().join("demo.toml"))
        .unwrap()
        .replacen("[project.metadata]\nenable-oslogin = \"FALSE\"\n", "", 1);
    let scenario = Scenario::from_toml_str(&text, &support::scenarios_dir()).unwrap();
    let sim = support::start(scenario).await;
    let project = support::compute(&sim).await.project(PROJECT).await.unwrap();
    assert!(project.metadata.is_empty(), "{project:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_project_is_not_found() {
    let sim = support::start(support::demo_scenario()).await;
    let err = support::compute(&sim)
        .await
        .project("nobody-project")
        .await
        .unwrap_err();
    assert_eq!(err.api, "compute.projects.get");
    assert_eq!(err.kind, FetchErrorKind::NotFound);
    // The collector still reports the project part when the instance is missing too.
    let collected = support::collector(&sim)
        .await
        .collect("nobody-project", ZONE, GOOD_VM)
        .await;
    assert_eq!(
        collected.project.unwrap_err().kind,
        FetchErrorKind::NotFound
    );
    assert!(collected.instance.is_err());
}
