//! `compute#disk` JSON for a VM's boot disk (named like the VM), like `compute-disk-cos-seed-tokenclient-assembled.json`:
//! its creation, `users`, `lastAttachTimestamp` and (once detached) `lastDetachTimestamp` come from
//! the world's disk state.

use serde_json::{Value, json};

use super::instance::{guest_os_features, license_urls};
use super::stable_id;
use crate::compute_links::{COMPUTE_BASE, compute_time};
use crate::world::VmState;

pub(crate) fn boot_disk(vm: &VmState) -> Value {
    let s = &vm.spec;
    let d = &vm.disk;
    let zone_base = format!("{COMPUTE_BASE}projects/{}/zones/{}", d.project, d.zone);
    let image_name = s.boot_image.rsplit('/').next().unwrap_or("");
    let mut value = json!({
        "kind": "compute#disk",
        "id": d.id,
        "creationTimestamp": compute_time(d.created),
        "name": d.name,
        "sizeGb": "10",
        "zone": zone_base,
        "status": "READY",
        "selfLink": d.self_link(),
        "sourceImage": s.boot_image,
        "sourceImageId": stable_id(image_name),
        "type": format!("{zone_base}/diskTypes/pd-standard"),
        "licenses": license_urls(&s.license_codes),
        "guestOsFeatures": guest_os_features(),
        "lastAttachTimestamp": compute_time(d.last_attach),
        "users": d.users,
        "labelFingerprint": "42WmSpB8rSM=",
        "licenseCodes": s.license_codes,
        "physicalBlockSizeBytes": "4096",
    });
    if let Some(map) = value.as_object_mut() {
        if let Some(detached) = d.last_detach {
            map.insert("lastDetachTimestamp".into(), json!(compute_time(detached)));
        }
        // Google leaves `users` out when the disk is attached to nothing.
        if d.users.is_empty() {
            map.remove("users");
        }
    }
    value
}
