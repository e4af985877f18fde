//! With Data Access audit logs on (gcpsim writes a `data_access` entry for every Compute read), the
//! evidence of repeated releases stays the same size: the collector's own reads are left out of the
//! Logging queries, while `auditlog.data_access` sees them (the newest Data Access entry).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use tokendist_testkit::demo::{GOOD_VM as VM, PROJECT, ZONE};

#[tokio::test]
async fn entries_fetched_stay_flat_over_releases_while_data_access_entries_pile_up() {
    let sim = support::start(support::demo_scenario()).await;
    let collector = support::collector(&sim).await;
    let handle = sim.handle();

    // Data Access logs off: the log is read, but holds nothing for the VM.
    let off = collector.collect(PROJECT, ZONE, VM).await;
    assert_eq!(off.data_access.unwrap().newest_entry, None);

    handle.set_data_access_reads(true);
    let mut fetched = Vec::new();
    let mut stored = Vec::new();
    for _ in 0..6 {
        let evidence = collector.collect(PROJECT, ZONE, VM).await;
        fetched.push(evidence.audit_log.unwrap().len());
        let data_access = evidence.data_access.unwrap();
        assert!(data_access.newest_entry.is_some());
        assert!(
            data_access
                .newest_method
                .as_deref()
                .is_some_and(|m| m.starts_with("v1.compute.")),
            "{data_access:?}"
        );
        stored.push(handle.audit_entry_count());
    }
    // Each collection reads the instance, its disk and its shielded identity: 3 new entries each.
    assert!(
        stored.windows(2).all(|w| w[1] >= w[0] + 3),
        "the log grows with every release: {stored:?}"
    );
    assert!(
        fetched.iter().all(|n| *n == fetched[0]),
        "entries fetched per release: {fetched:?}"
    );
}

#[tokio::test]
async fn a_serial_port_read_in_the_data_access_log_is_still_fetched() {
    let sim = support::start(support::demo_scenario()).await;
    sim.handle().set_data_access_reads(true);
    sim.handle()
        .add_audit_entry(tokendist_sim::AuditEntryInput {
            vm: Some(VM.into()),
            method: "v1.compute.instances.getSerialPortOutput".into(),
            log: Some("data_access".into()),
            ..Default::default()
        })
        .unwrap();
    let evidence = support::collector(&sim)
        .await
        .collect(PROJECT, ZONE, VM)
        .await;
    let methods: Vec<String> = evidence
        .audit_log
        .unwrap()
        .into_iter()
        .map(|e| e.method_name)
        .collect();
    assert!(
        methods.contains(&"v1.compute.instances.getSerialPortOutput".to_owned()),
        "{methods:?}"
    );
    assert!(!methods.iter().any(|m| m.ends_with(".get")), "{methods:?}");
}
