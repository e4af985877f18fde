//! The real `gcloud` snapshots, attaches and detaches the demo VM's boot disk in `gcpsim`: the disk's
//! own `gce_disk` audit entry, the instance's attach/detach entries and the disk's `users`,
//! `lastAttachTimestamp`, `lastDetachTimestamp` follow, as in GCE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::gcloud::Gcloud;
use support::{GOOD_VM, PROJECT, TAMPERED_VM, ZONE};

#[test]
fn disks_snapshot_writes_a_gce_disk_entry_and_a_snapshot() {
    let gcloud = Gcloud::start();
    let disk = gcloud.disk(GOOD_VM);
    let disk_id = disk["id"].as_str().unwrap().to_owned();
    assert_eq!(disk["users"].as_array().unwrap().len(), 1);
    assert!(disk.get("lastDetachTimestamp").is_none());
    gcloud.run(&[
        "compute",
        "disks",
        "snapshot",
        GOOD_VM,
        "--zone",
        ZONE,
        "--snapshot-names",
        "bobs-copy",
    ]);
    let snapshot = gcloud.json(&["compute", "snapshots", "describe", "bobs-copy"]);
    assert!(
        snapshot["sourceDisk"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/disks/{GOOD_VM}"))
    );
    let entries = gcloud.entries(&format!(
        "resource.type=\"gce_disk\" AND resource.labels.disk_id=\"{disk_id}\""
    ));
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    assert_eq!(
        entry["protoPayload"]["methodName"],
        "v1.compute.disks.createSnapshot"
    );
    assert_eq!(entry["resource"]["labels"]["zone"], ZONE);
    assert_eq!(entry["resource"]["labels"]["project_id"], PROJECT);
    assert_eq!(
        entry["protoPayload"]["resourceName"],
        format!("projects/{PROJECT}/zones/{ZONE}/disks/{GOOD_VM}")
    );
}

#[test]
fn attach_and_detach_disk_update_users_timestamps_and_the_instance_log() {
    let gcloud = Gcloud::start();
    let before = gcloud.disk(GOOD_VM);
    gcloud.run(&[
        "compute",
        "instances",
        "attach-disk",
        TAMPERED_VM,
        "--disk",
        GOOD_VM,
        "--zone",
        ZONE,
        "--mode",
        "ro",
    ]);
    let attached = gcloud.disk(GOOD_VM);
    let users: Vec<&str> = attached["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert!(users[1].ends_with(&format!("/instances/{TAMPERED_VM}")));
    assert_ne!(
        attached["lastAttachTimestamp"],
        before["lastAttachTimestamp"]
    );
    let tampered = gcloud.json(&[
        "compute",
        "instances",
        "describe",
        TAMPERED_VM,
        "--zone",
        ZONE,
    ]);
    assert_eq!(tampered["disks"].as_array().unwrap().len(), 2);

    gcloud.run(&[
        "compute",
        "instances",
        "detach-disk",
        TAMPERED_VM,
        "--disk",
        GOOD_VM,
        "--zone",
        ZONE,
    ]);
    let detached = gcloud.disk(GOOD_VM);
    assert_eq!(detached["users"].as_array().unwrap().len(), 1);
    assert!(detached["lastDetachTimestamp"].is_string(), "{detached:#}");
    let methods: Vec<String> = gcloud
        .entries(&format!(
            "resource.type=\"gce_instance\" AND protoPayload.resourceName:\"instances/{TAMPERED_VM}\" AND protoPayload.methodName:\"Disk\""
        ))
        .iter()
        .map(|e| e["protoPayload"]["methodName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        methods,
        [
            "v1.compute.instances.detachDisk",
            "v1.compute.instances.attachDisk"
        ],
        "gcloud logging read lists newest first"
    );
}
