//! `compute#instance` JSON, field for field like `compute-instance-cos-shielded-seed-tokenclient-assembled.json`.

use serde_json::{Value, json};

use crate::compute_links::{COMPUTE_BASE, compute_time};
use crate::world::VmState;

/// `metadata` items in Google's shape (sorted by key).
pub(crate) fn metadata_items(items: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(key, value)| json!({ "key": key, "value": value }))
            .collect(),
    )
}

/// Licence URLs matching the VM's licence codes (COS codes are named; others by code).
pub(crate) fn license_urls(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|code| match code.as_str() {
            "1001010" => format!("{COMPUTE_BASE}projects/cos-cloud/global/licenses/cos"),
            "6880041984096540132" => {
                format!("{COMPUTE_BASE}projects/cos-cloud/global/licenses/cos-pcid")
            }
            "166739712233658766" => {
                format!("{COMPUTE_BASE}projects/cos-cloud-shielded/global/licenses/shielded-cos")
            }
            other => format!("{COMPUTE_BASE}projects/gcpsim/global/licenses/license-{other}"),
        })
        .collect()
}

pub(crate) fn instance(vm: &VmState) -> Value {
    let s = &vm.spec;
    let project_base = format!("{COMPUTE_BASE}projects/{}", s.project);
    let region = s.zone.rsplit_once('-').map(|(r, _)| r).unwrap_or(&s.zone);
    let mut access_configs = Vec::new();
    if let Some(nat_ip) = &s.nat_ip {
        access_configs.push(json!({
            "kind": "compute#accessConfig",
            "type": "ONE_TO_ONE_NAT",
            "name": "external-nat",
            "natIP": nat_ip,
            "networkTier": "PREMIUM",
        }));
    }
    let mut value = json!({
        "kind": "compute#instance",
        "id": s.id.to_string(),
        "creationTimestamp": compute_time(s.created),
        "name": s.name,
        "tags": { "fingerprint": vm.tags_fingerprint },
        "machineType": format!("{project_base}/zones/{}/machineTypes/{}", s.zone, s.machine_type),
        "status": vm.status,
        "zone": format!("{project_base}/zones/{}", s.zone),
        "canIpForward": false,
        "networkInterfaces": [{
            "kind": "compute#networkInterface",
            "network": format!("{project_base}/global/networks/default"),
            "subnetwork": format!("{project_base}/regions/{region}/subnetworks/default"),
            "networkIP": s.internal_ip,
            "name": "nic0",
            "accessConfigs": access_configs,
            "fingerprint": vm.nic_fingerprint,
            "stackType": "IPV4_ONLY",
        }],
        "disks": attached_disks(vm),
        "metadata": {
            "kind": "compute#metadata",
            "fingerprint": vm.metadata_fingerprint,
            "items": metadata_items(&vm.metadata),
        },
        "serviceAccounts": [{ "email": s.service_account, "scopes": s.scopes }],
        "selfLink": vm.self_link(),
        "scheduling": {
            "onHostMaintenance": if s.confidential { "TERMINATE" } else { "MIGRATE" },
            "automaticRestart": true,
            "preemptible": false,
            "provisioningModel": "STANDARD",
        },
        "cpuPlatform": "AMD Rome",
        "labelFingerprint": vm.label_fingerprint,
        "startRestricted": false,
        "deletionProtection": false,
        "shieldedInstanceConfig": {
            "enableSecureBoot": s.shielded.secure_boot,
            "enableVtpm": s.shielded.vtpm,
            "enableIntegrityMonitoring": s.shielded.integrity_monitoring,
        },
        "shieldedInstanceIntegrityPolicy": { "updateAutoLearnPolicy": true },
        "confidentialInstanceConfig": { "enableConfidentialCompute": s.confidential },
        "fingerprint": vm.fingerprint,
        "lastStartTimestamp": compute_time(vm.last_start),
    });
    if let Some(map) = value.as_object_mut() {
        if !s.labels.is_empty() {
            map.insert("labels".into(), json!(s.labels));
        }
        if let Some(stop) = vm.last_stop {
            map.insert("lastStopTimestamp".into(), json!(compute_time(stop)));
        }
    }
    value
}

/// `disks[]`: the boot disk (while attached) and any disk attached since, in attach order.
fn attached_disks(vm: &VmState) -> Value {
    let s = &vm.spec;
    Value::Array(
        vm.attached
            .iter()
            .enumerate()
            .map(|(index, disk)| {
                let mut value = json!({
                    "kind": "compute#attachedDisk",
                    "type": "PERSISTENT",
                    "mode": disk.mode,
                    "source": disk.source,
                    "deviceName": disk.device_name,
                    "index": index,
                    "boot": disk.boot,
                    "autoDelete": disk.boot,
                    "interface": "SCSI",
                    "diskSizeGb": "10",
                });
                if disk.boot
                    && let Some(map) = value.as_object_mut()
                {
                    map.insert("licenses".into(), json!(license_urls(&s.license_codes)));
                    map.insert("guestOsFeatures".into(), guest_os_features());
                }
                value
            })
            .collect(),
    )
}

/// Guest OS features of a COS image.
pub(crate) fn guest_os_features() -> Value {
    json!([
        { "type": "VIRTIO_SCSI_MULTIQUEUE" },
        { "type": "SEV_CAPABLE" },
        { "type": "UEFI_COMPATIBLE" },
        { "type": "GVNIC" },
    ])
}
