//! The Compute and Logging clients and the evidence collector against gcpsim (in-process): the
//! evidence equals what the scenario declares; failures are classified and fail closed; the audit
//! log is read across every page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::time::{Duration, Instant};
use tokendist_testkit::demo::{GOOD_VM, PROJECT, TAMPERED_VM, ZONE};

use tokendist_core::evidence::{FetchErrorKind, ShieldedConfig};
use tokendist_gcp::compute_mapping::API_INSTANCES_GET;
use tokendist_sim::{Api, FaultSpec};

fn fault(api: Api, status: u16) -> FaultSpec {
    FaultSpec {
        api,
        status: Some(status),
        count: None,
        rate: None,
        latency_ms: None,
    }
}

#[tokio::test]
async fn clients_pointed_at_gcpsim_return_the_evidence_the_scenario_declares() {
    let scenario = support::demo_scenario();
    let sim = support::start(scenario.clone()).await;
    let collector = support::collector(&sim).await;
    for spec in &scenario.vms {
        let evidence = collector
            .collect(&spec.project, &spec.zone, &spec.name)
            .await;
        let instance = evidence.instance.unwrap();
        assert_eq!(instance.instance_id, spec.id.to_string());
        assert_eq!(instance.name, spec.name);
        assert_eq!(instance.project, spec.project);
        assert_eq!(instance.zone, spec.zone);
        assert_eq!(instance.status, spec.status);
        assert_eq!(instance.creation_timestamp, spec.created);
        assert_eq!(instance.machine_type, spec.machine_type);
        assert_eq!(instance.metadata, spec.metadata, "{}", spec.name);
        let user_data_file =
            support::scenarios_dir().join(format!("{}.cloud-config.yaml", spec.name));
        assert_eq!(
            instance.metadata["user-data"],
            std::fs::read_to_string(user_data_file).unwrap()
        );
        let served = sim.handle().instance_json(&spec.name).unwrap();
        assert_eq!(
            instance.fingerprint,
            served["fingerprint"].as_str().unwrap()
        );
        assert_eq!(
            instance.metadata_fingerprint,
            served["metadata"]["fingerprint"].as_str().unwrap()
        );
        assert_eq!(
            instance.service_accounts,
            std::slice::from_ref(&spec.service_account)
        );
        assert_eq!(
            instance.internal_ips,
            std::slice::from_ref(&spec.internal_ip)
        );
        assert_eq!(
            instance.nat_ips,
            spec.nat_ip.iter().cloned().collect::<Vec<_>>()
        );
        assert_eq!(
            instance.shielded,
            ShieldedConfig {
                secure_boot: spec.shielded.secure_boot,
                vtpm: spec.shielded.vtpm,
                integrity_monitoring: spec.shielded.integrity_monitoring,
            }
        );
        assert_eq!(instance.confidential_compute, spec.confidential);

        let disk = evidence.boot_disk.unwrap();
        assert_eq!(disk.source_image.as_deref(), Some(spec.boot_image.as_str()));

        let shielded = evidence.shielded_identity.unwrap().unwrap();
        let ek_file = support::scenarios_dir().join(format!("keys/{}-ek.pem", spec.name));
        assert_eq!(
            shielded.ek_pub_pem.as_deref().map(str::trim),
            Some(std::fs::read_to_string(ek_file).unwrap().trim())
        );

        let audit = evidence.audit_log.unwrap();
        assert_eq!(
            audit[0].method_name, "v1.compute.instances.insert",
            "{}",
            spec.name
        );
        assert!(
            audit
                .iter()
                .all(|e| e.instance_id.as_deref() == Some(instance.instance_id.as_str()))
        );
        let methods: Vec<&str> = audit.iter().map(|e| e.method_name.as_str()).collect();
        let declared: Vec<&str> = spec.history.iter().map(|h| h.method.as_str()).collect();
        assert_eq!(&methods[1..], declared.as_slice(), "{}", spec.name);
    }
}

#[tokio::test]
async fn tampered_vm_audit_entry_summarises_the_modified_metadata_keys() {
    let sim = support::start(support::demo_scenario()).await;
    let collector = support::collector(&sim).await;
    let evidence = collector.collect(PROJECT, ZONE, TAMPERED_VM).await;
    let audit = evidence.audit_log.unwrap();
    let set_metadata = audit
        .iter()
        .find(|e| e.method_name == "v1.compute.instances.setMetadata")
        .unwrap();
    assert_eq!(
        set_metadata.principal_email.as_deref(),
        Some("bob@bob-project.example")
    );
    assert!(
        set_metadata
            .request_summary
            .starts_with("Metadata Keys Modified: ssh-keys, user-data"),
        "{}",
        set_metadata.request_summary
    );
}

#[tokio::test]
async fn project_metadata_change_appears_in_the_collected_audit_log() {
    let sim = support::start(support::demo_scenario()).await;
    sim.handle()
        .add_audit_entry(tokendist_sim::AuditEntryInput {
            project: Some(PROJECT.to_owned()),
            method: "v1.compute.projects.setCommonInstanceMetadata".to_owned(),
            ..Default::default()
        })
        .unwrap();
    let evidence = support::collector(&sim)
        .await
        .collect(PROJECT, ZONE, GOOD_VM)
        .await;
    let audit = evidence.audit_log.unwrap();
    let project_entry = audit
        .iter()
        .find(|e| e.resource_type == "gce_project")
        .unwrap();
    assert_eq!(
        project_entry.method_name,
        "v1.compute.projects.setCommonInstanceMetadata"
    );
    assert_eq!(project_entry.instance_id, None);
}

#[tokio::test]
async fn compute_503_is_unavailable_within_milliseconds_and_collection_fails_closed() {
    let sim = support::start(support::demo_scenario()).await;
    sim.handle().inject_fault(fault(Api::Compute, 503)).unwrap();
    let compute = support::compute(&sim).await;
    let started = Instant::now();
    let err = compute.instance(PROJECT, ZONE, GOOD_VM).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(err.kind, FetchErrorKind::Unavailable);
    assert_eq!(err.api, API_INSTANCES_GET);
    assert!(err.message.contains("503"), "{}", err.message);

    let evidence = support::collector(&sim)
        .await
        .collect(PROJECT, ZONE, GOOD_VM)
        .await;
    assert_eq!(
        evidence.instance.unwrap_err().kind,
        FetchErrorKind::Unavailable
    );
    assert_eq!(
        evidence.boot_disk.unwrap_err().kind,
        FetchErrorKind::Unavailable
    );
    assert_eq!(
        evidence.shielded_identity.unwrap().unwrap_err().kind,
        FetchErrorKind::Unavailable
    );
    assert_eq!(
        evidence.audit_log.unwrap_err().kind,
        FetchErrorKind::Unavailable
    );
}

#[tokio::test]
async fn logging_503_fails_only_the_audit_log() {
    let sim = support::start(support::demo_scenario()).await;
    sim.handle().inject_fault(fault(Api::Logging, 503)).unwrap();
    let evidence = support::collector(&sim)
        .await
        .collect(PROJECT, ZONE, GOOD_VM)
        .await;
    assert!(evidence.instance.is_ok());
    assert!(evidence.boot_disk.is_ok());
    let err = evidence.audit_log.unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Unavailable);
    assert_eq!(err.api, "logging.entries.list");
}

#[tokio::test]
async fn compute_403_is_permission_denied_and_unknown_instance_is_not_found() {
    let sim = support::start(support::demo_scenario()).await;
    let compute = support::compute(&sim).await;
    let missing = compute
        .instance(PROJECT, ZONE, "no-such-vm")
        .await
        .unwrap_err();
    assert_eq!(missing.kind, FetchErrorKind::NotFound);
    sim.handle().inject_fault(fault(Api::Compute, 403)).unwrap();
    let denied = compute.disk(PROJECT, ZONE, GOOD_VM).await.unwrap_err();
    assert_eq!(denied.kind, FetchErrorKind::PermissionDenied);
    assert_eq!(denied.api, "compute.disks.get");
}

#[tokio::test]
async fn boot_image_is_fetched_by_url() {
    let scenario = support::demo_scenario();
    let sim = support::start(scenario.clone()).await;
    let image = support::compute(&sim)
        .await
        .image(&scenario.vms[0].boot_image)
        .await
        .unwrap();
    assert_eq!(image.name, "cos-stable-109-17800-147-54");
    let not_an_image = support::compute(&sim)
        .await
        .image("cos-stable")
        .await
        .unwrap_err();
    assert_eq!(not_an_image.kind, FetchErrorKind::Malformed);
}

#[tokio::test]
async fn audit_log_across_several_pages_is_read_entirely() {
    // The good VM with 25 padding entries after its insert: 26 entries, read 10 per page.
    let scenario = tokendist_testkit::demo::scenario_with_padded_history(25);
    let vm = scenario.vm(GOOD_VM).unwrap().clone();
    assert_eq!(vm.pad_history, 25);
    let sim = support::start(scenario).await;
    let logging = support::logging(&sim).await.with_page_size(10);
    let entries = logging
        .audit_entries_for_instance(&vm.project, &vm.id.to_string(), vm.created)
        .await
        .unwrap();
    assert_eq!(entries.len(), 26);
    assert_eq!(entries[0].method_name, "v1.compute.instances.insert");
    assert!(
        entries[1..]
            .iter()
            .all(|e| e.method_name == "v1.compute.instances.setLabels")
    );
    assert!(
        entries.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "oldest first"
    );
    let mut ids: Vec<&str> = entries.iter().map(|e| e.insert_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 26, "no entry read twice");
}

#[tokio::test]
async fn audit_window_starts_at_since() {
    let scenario = support::demo_scenario();
    let vm = scenario.vm(TAMPERED_VM).unwrap().clone();
    let sim = support::start(scenario).await;
    let logging = support::logging(&sim).await;
    let after_insert = vm.created + chrono::Duration::seconds(1);
    let entries = logging
        .audit_entries_for_instance(&vm.project, &vm.id.to_string(), after_insert)
        .await
        .unwrap();
    let methods: Vec<&str> = entries.iter().map(|e| e.method_name.as_str()).collect();
    assert_eq!(methods, ["v1.compute.instances.setMetadata"]);
}

#[tokio::test]
async fn attempt_limit_retries_a_single_503_and_succeeds() {
    let sim = support::start(support::demo_scenario()).await;
    let config = tokendist_gcp::GcpConfig {
        retry: tokendist_gcp::RetryMode::Attempts(2),
        ..support::config(&sim, None)
    };
    let compute = tokendist_gcp::ComputeClient::new(&config).await.unwrap();
    sim.handle()
        .inject_fault(FaultSpec {
            count: Some(1),
            ..fault(Api::Compute, 503)
        })
        .unwrap();
    let started = Instant::now();
    let disk = compute.disk(PROJECT, ZONE, GOOD_VM).await.unwrap();
    assert_eq!(disk.name, GOOD_VM);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn attempt_limit_gives_up_after_the_limit() {
    let sim = support::start(support::demo_scenario()).await;
    let config = tokendist_gcp::GcpConfig {
        retry: tokendist_gcp::RetryMode::Attempts(2),
        ..support::config(&sim, None)
    };
    let compute = tokendist_gcp::ComputeClient::new(&config).await.unwrap();
    sim.handle()
        .inject_fault(FaultSpec {
            count: Some(2),
            ..fault(Api::Compute, 503)
        })
        .unwrap();
    let err = compute.disk(PROJECT, ZONE, GOOD_VM).await.unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Unavailable);
    // Both faulty answers were consumed; the next call succeeds.
    assert!(compute.disk(PROJECT, ZONE, GOOD_VM).await.is_ok());
}
