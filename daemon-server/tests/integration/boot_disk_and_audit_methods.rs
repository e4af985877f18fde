//! The boot disk's history and the audit-method allow-list, against the real `tokenserver` with
//! gcpsim: a snapshot of the approved VM's boot disk made with the real `gcloud`, a VM booted from a
//! disk made before it or attached elsewhere before, and an audit method nobody listed are denied by
//! name; a harmless method (labels) is still released.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::assert_denied;
use crate::support::world::{World, demo_toml, scenario_from};
use crate::support::{GOOD_VM, GOOD_VM_ID, TAMPERED_VM, ZONE};
use tokendist_sim::AuditEntryInput;
use tonic::Code;

/// The demo scenario with `[vm.boot_disk]` lines added to the good VM.
fn demo_with_good_boot_disk(lines: &str) -> String {
    let text = demo_toml();
    // The good VM is the first [[vm]]; its table ends where the second [[vm]] begins (after its comment).
    let second = text.match_indices("[[vm]]").nth(1).unwrap().0;
    let comment_start = text[..second].rfind("\n#").map_or(second, |i| i + 1);
    format!(
        "{}[vm.boot_disk]\n{lines}\n\n{}",
        &text[..comment_start],
        &text[comment_start..]
    )
}

async fn approved(world: &World) -> (support::server::ServerProcess, support::client::Client) {
    approve(world, GOOD_VM, &sample_secrets("disk")).await;
    let server = world.server("server").await;
    let client = world.client(server.addr).await;
    (server, client)
}

/// The reason the store recorded for `check` on the good VM's last denial.
async fn recorded_reason(world: &World, check: &str) -> String {
    let pending = world.store.list_pending().await.unwrap();
    let record = pending
        .iter()
        .find(|p| p.instance_id == GOOD_VM_ID)
        .unwrap_or_else(|| panic!("no pending record for the good VM: {pending:?}"));
    record
        .failed_checks
        .iter()
        .find(|c| c.name == check)
        .unwrap_or_else(|| panic!("{check} not recorded: {:?}", record.failed_checks))
        .reason
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcloud_disks_snapshot_of_the_boot_disk_is_denied_by_boot_disk_and_audit_log() {
    let world = World::start().await;
    let (_server, mut client) = approved(&world).await;
    world.release(&mut client, GOOD_VM).await.unwrap();
    world.gcloud(&[
        "compute",
        "disks",
        "snapshot",
        GOOD_VM,
        "--zone",
        ZONE,
        "--snapshot-names",
        "bobs-copy-of-the-boot-disk",
    ]);
    world.assert_decodable(GOOD_VM).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean", "instance.boot_disk"],
    );
    let reason = recorded_reason(&world, "instance.boot_disk").await;
    assert!(reason.contains("compute.disks.createsnapshot"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcloud_attach_disk_of_the_boot_disk_to_another_vm_is_denied_by_boot_disk() {
    let world = World::start().await;
    let (_server, mut client) = approved(&world).await;
    for verb in ["attach-disk", "detach-disk"] {
        let mut args = vec![
            "compute",
            "instances",
            verb,
            TAMPERED_VM,
            "--disk",
            GOOD_VM,
            "--zone",
            ZONE,
        ];
        if verb == "attach-disk" {
            args.extend(["--mode", "ro"]);
        }
        world.gcloud(&args);
    }
    world.assert_decodable(GOOD_VM).await;
    // The attach and detach are logged on the other VM; the disk's own record shows the detach, and
    // the other VM's attachDisk names the boot disk as its source.
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean", "instance.boot_disk"],
    );
    let reason = recorded_reason(&world, "instance.boot_disk").await;
    assert!(reason.contains("detached from an instance"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vm_booted_from_a_disk_made_a_day_before_it_is_denied_by_boot_disk() {
    let text = demo_with_good_boot_disk("created = \"2026-11-01T10:15:30Z\"");
    let world = World::start_with(scenario_from(&text)).await;
    let (_server, mut client) = approved(&world).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["instance.boot_disk"],
    );
    let reason = recorded_reason(&world, "instance.boot_disk").await;
    assert!(reason.contains("before its instance"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vm_booted_from_a_disk_attached_elsewhere_before_is_denied_by_boot_disk() {
    // Bob made the disk with the VM's image, attached it to a VM of his, wrote to it, detached it,
    // and created the VM from it, all within the creation tolerance (the VM is created at
    // 10:15:30.250): the disk's own record keeps the detach.
    let text = demo_with_good_boot_disk(
        "created = \"2026-11-02T10:15:28Z\"\nlast_detach = \"2026-11-02T10:15:29Z\"\nlast_attach = \"2026-11-02T10:15:30.300Z\"",
    );
    let world = World::start_with(scenario_from(&text)).await;
    let (_server, mut client) = approved(&world).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["instance.boot_disk"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_audit_method_is_denied_by_audit_log_as_unknown() {
    let world = World::start().await;
    let (_server, mut client) = approved(&world).await;
    world
        .sim
        .handle()
        .add_audit_entry(AuditEntryInput {
            vm: Some(GOOD_VM.into()),
            method: "v1.compute.instances.performMaintenance".into(),
            ..Default::default()
        })
        .unwrap();
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean"],
    );
    let reason = recorded_reason(&world, "auditlog.clean").await;
    assert!(
        reason.contains("unknown method compute.instances.performmaintenance"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harmless_label_changes_on_the_instance_and_its_disk_are_still_released() {
    let world = World::start().await;
    let (_server, mut client) = approved(&world).await;
    let handle = world.sim.handle();
    handle
        .add_audit_entry(AuditEntryInput {
            vm: Some(GOOD_VM.into()),
            method: "v1.compute.instances.setLabels".into(),
            ..Default::default()
        })
        .unwrap();
    handle
        .add_audit_entry(AuditEntryInput {
            disk: Some(GOOD_VM.into()),
            method: "v1.compute.disks.setLabels".into(),
            ..Default::default()
        })
        .unwrap();
    let response = world.release(&mut client, GOOD_VM).await;
    assert!(response.is_ok(), "{response:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_requiring_data_access_is_denied_until_the_data_access_log_is_readable() {
    let world = World::start().await;
    support::approvals::approve_with(&world, GOOD_VM, &sample_secrets("da"), |a| {
        a.require_data_access = true;
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.data_access"],
    );
    let reason = recorded_reason(&world, "auditlog.data_access").await;
    assert!(reason.starts_with("not readable"), "{reason}");
    // Bob's project turns Data Access audit logs on: the server's own reads are logged, proving the
    // log is on and readable; they are not fetched as evidence, so they never deny.
    world.sim.handle().set_data_access_reads(true);
    // A release reads everything at once, so its Data Access probe sees the reads of earlier
    // releases, not its own (Cloud Logging shows an entry only once ingested anyway): the first
    // attempt after the switch may still find none.
    let first = world.release(&mut client, GOOD_VM).await;
    if first.is_err() {
        assert_denied(first, Code::PermissionDenied, &["auditlog.data_access"]);
    }
    for _ in 0..3 {
        let response = world.release(&mut client, GOOD_VM).await;
        assert!(response.is_ok(), "{response:?}");
    }
}
