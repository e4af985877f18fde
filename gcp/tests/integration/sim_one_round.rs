//! The release path's collection against gcpsim (in-process): what is known before any read (the
//! instance id and creation time, the boot disk's name) starts every read at once; ONE `entries:list`
//! listing returns the instance's, its boot disk's and the project's metadata entries (plus the one-page
//! Data Access probe); the shielded identity is not read unless asked for; a VM booting from another
//! disk than the expected one fails its boot disk, closed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokendist_core::evidence::FetchErrorKind;
use tokendist_gcp::{CallObserver, EvidenceCollector, KnownVm, ShieldedIdentityRead};
use tokendist_sim::AuditEntryInput;
use tokendist_testkit::demo::{GOOD_VM, PROJECT};

/// Counts calls per API.
#[derive(Debug, Default)]
struct Calls(Mutex<BTreeMap<String, usize>>);

impl CallObserver for Calls {
    fn observe(&self, api: &str, _: Duration, _: Result<(), FetchErrorKind>) {
        *self.0.lock().unwrap().entry(api.to_owned()).or_default() += 1;
    }
}

impl Calls {
    fn of(&self, api: &str) -> usize {
        self.0.lock().unwrap().get(api).copied().unwrap_or(0)
    }
}

async fn counted_collector(sim: &tokendist_sim::RunningSim) -> (EvidenceCollector, Arc<Calls>) {
    let calls = Arc::new(Calls::default());
    let compute = support::compute(sim).await.with_observer(calls.clone());
    let logging = support::logging(sim).await.with_observer(calls.clone());
    (EvidenceCollector::new(compute, logging), calls)
}

fn entry(method: &str) -> AuditEntryInput {
    AuditEntryInput {
        method: method.to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn one_listing_covers_the_instance_its_boot_disk_and_project_metadata() {
    let scenario = support::demo_scenario();
    let vm = scenario.vm(GOOD_VM).unwrap().clone();
    let sim = support::start(scenario).await;
    let handle = sim.handle();
    handle
        .add_audit_entry(AuditEntryInput {
            vm: Some(GOOD_VM.to_owned()),
            ..entry("v1.compute.instances.setLabels")
        })
        .unwrap();
    handle
        .add_audit_entry(AuditEntryInput {
            disk: Some(GOOD_VM.to_owned()),
            ..entry("v1.compute.disks.createSnapshot")
        })
        .unwrap();
    handle
        .add_audit_entry(AuditEntryInput {
            project: Some(PROJECT.to_owned()),
            ..entry("v1.compute.projects.setCommonInstanceMetadata")
        })
        .unwrap();
    let (collector, calls) = counted_collector(&sim).await;
    let id = vm.id.to_string();
    let known = KnownVm {
        project: &vm.project,
        zone: &vm.zone,
        name: &vm.name,
        instance_id: &id,
        created: vm.created,
        boot_disk: &vm.name,
    };
    let evidence = collector
        .collect_known(&known, ShieldedIdentityRead::Skip)
        .await;

    let audit = evidence.audit_log.unwrap();
    let types: Vec<&str> = audit.iter().map(|e| e.resource_type.as_str()).collect();
    for wanted in ["gce_instance", "gce_disk", "gce_project"] {
        assert!(types.contains(&wanted), "{wanted} missing from {types:?}");
    }
    assert!(
        audit
            .iter()
            .any(|e| e.method_name == "v1.compute.disks.createSnapshot")
    );
    assert!(evidence.boot_disk.is_ok());
    assert!(evidence.shielded_identity.is_none());
    // The history listing and the Data Access probe: one page each here.
    assert_eq!(calls.of("logging.entries.list"), 2, "{calls:?}");
    assert_eq!(calls.of("compute.instances.get"), 1);
    assert_eq!(calls.of("compute.disks.get"), 1);
    assert_eq!(calls.of("compute.projects.get"), 1);
    assert_eq!(calls.of("compute.instances.getShieldedInstanceIdentity"), 0);
}

#[tokio::test]
async fn a_boot_disk_other_than_the_expected_one_fails_closed() {
    let scenario = support::demo_scenario();
    let vm = scenario.vm(GOOD_VM).unwrap().clone();
    let sim = support::start(scenario).await;
    let (collector, _) = counted_collector(&sim).await;
    let id = vm.id.to_string();
    let known = KnownVm {
        project: &vm.project,
        zone: &vm.zone,
        name: &vm.name,
        instance_id: &id,
        created: vm.created,
        boot_disk: "not-the-boot-disk",
    };
    let evidence = collector
        .collect_known(&known, ShieldedIdentityRead::Skip)
        .await;
    assert!(evidence.instance.is_ok());
    let failure = match evidence.boot_disk {
        Err(failure) => failure,
        Ok(disk) => panic!("boot disk {disk:?} accepted"),
    };
    assert_eq!(failure.api, "compute.disks.get");
    assert_ne!(failure.kind, FetchErrorKind::Unavailable);
    assert!(
        failure
            .message
            .contains("not from the expected boot disk projects/"),
        "{}",
        failure.message
    );
}

/// Bob copies the boot disk naming it by its numeric id (Compute accepts ids in resource URLs), which
/// is not known before `disks.get`: the one listing still returns the copy, and another disk's copy
/// in the same project is left out by classification, not by the query.
#[tokio::test]
async fn a_copy_naming_the_boot_disk_by_numeric_id_is_in_the_history() {
    let scenario = support::demo_scenario();
    let vm = scenario.vm(GOOD_VM).unwrap().clone();
    let sim = support::start(scenario).await;
    let (collector, _) = counted_collector(&sim).await;
    let id = vm.id.to_string();
    let known = KnownVm {
        project: &vm.project,
        zone: &vm.zone,
        name: &vm.name,
        instance_id: &id,
        created: vm.created,
        boot_disk: &vm.name,
    };
    let before = collector
        .collect_known(&known, ShieldedIdentityRead::Skip)
        .await;
    let disk_id = before.boot_disk.unwrap().disk_id.unwrap();
    let mut request = serde_json::Map::new();
    request.insert(
        "sourceDisk".to_owned(),
        format!("projects/{}/zones/{}/disks/{disk_id}", vm.project, vm.zone).into(),
    );
    sim.handle()
        .add_audit_entry(AuditEntryInput {
            project: Some(PROJECT.to_owned()),
            request: Some(request),
            ..entry("v1.compute.images.insert")
        })
        .unwrap();

    let after = collector
        .collect_known(&known, ShieldedIdentityRead::Skip)
        .await;
    let audit = after.audit_log.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.method_name == "v1.compute.images.insert"
                && e.source_disk
                    .as_deref()
                    .is_some_and(|s| s.ends_with(&disk_id))),
        "the copy by id is missing from {audit:#?}"
    );
}
