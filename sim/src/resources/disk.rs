//! `compute#disk` JSON for a VM's boot disk (named like the VM), like `compute-disk-cos-seed-tokenclient-assembled.json`.

use serde_json::{Value, json};

use super::instance::{guest_os_features, license_urls, self_link};
use super::{COMPUTE_BASE, compute_time, stable_id};
use crate::world::VmState;

pub fn boot_disk(vm: &VmState) -> Value {
    let s = &vm.spec;
    let zone_base = format!("{COMPUTE_BASE}projects/{}/zones/{}", s.project, s.zone);
    let image_name = s.boot_image.rsplit('/').next().unwrap_or("");
    json!({
        "kind": "compute#disk",
        "id": vm.disk_id,
        "creationTimestamp": compute_time(s.created),
        "name": s.name,
        "sizeGb": "10",
        "zone": zone_base,
        "status": "READY",
        "selfLink": format!("{zone_base}/disks/{}", s.name),
        "sourceImage": s.boot_image,
        "sourceImageId": stable_id(image_name),
        "type": format!("{zone_base}/diskTypes/pd-standard"),
        "licenses": license_urls(&s.license_codes),
        "guestOsFeatures": guest_os_features(),
        "lastAttachTimestamp": compute_time(s.created),
        "users": [self_link(vm)],
        "labelFingerprint": "42WmSpB8rSM=",
        "licenseCodes": s.license_codes,
        "physicalBlockSizeBytes": "4096",
    })
}
