//! Boot-disk mutations and reads: `disks.createSnapshot` (a `gce_disk` audit entry and a snapshot),
//! `instances.attachDisk` / `detachDisk` (audit entries on the instance; the disk's `users`,
//! `lastAttachTimestamp`, `lastDetachTimestamp` follow), and the `data_access` entries reads write
//! when the scenario turns Data Access logs on.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{VmState, World};
use crate::audit::{self, AuditResource};
use crate::compute_links::{COMPUTE_BASE, compute_time};
use crate::fingerprint::{new_fingerprint, new_numeric_id};
use crate::google_error::ComputeError;
use crate::operation::{self, Scope};
use crate::scenario::AuditLogKind;

/// A disk named by a request: `.../projects/P/zones/Z/disks/D`, full URL or partial path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskRef {
    pub project: Option<String>,
    pub zone: Option<String>,
    pub name: String,
}

impl DiskRef {
    pub(crate) fn parse(reference: &str) -> Option<DiskRef> {
        let segments: Vec<&str> = reference.trim().trim_end_matches('/').split('/').collect();
        let after = |word: &str| {
            segments
                .iter()
                .position(|s| *s == word)
                .and_then(|i| segments.get(i + 1))
                .map(|s| s.to_string())
        };
        let name = after("disks").filter(|n| !n.is_empty())?;
        Some(DiskRef {
            project: after("projects"),
            zone: after("zones"),
            name,
        })
    }
}

/// The body of `instances.attachDisk` (an `AttachedDisk`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttachRequest {
    pub source: String,
    #[serde(default)]
    pub device_name: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub boot: Option<bool>,
}

impl World {
    /// The VM whose boot disk is `projects/P/zones/Z/disks/D`.
    fn disk_index(&self, project: &str, zone: &str, disk: &str) -> Result<usize, ComputeError> {
        self.vms
            .iter()
            .position(|vm| {
                vm.disk.project == project && vm.disk.zone == zone && vm.disk.name == disk
            })
            .ok_or_else(|| {
                ComputeError::not_found(&format!("projects/{project}/zones/{zone}/disks/{disk}"))
            })
    }

    /// The VM whose boot disk is `projects/P/zones/Z/disks/D` (`disks.get` serves its disk).
    pub(crate) fn vm_with_boot_disk(
        &self,
        project: &str,
        zone: &str,
        disk: &str,
    ) -> Result<&VmState, ComputeError> {
        self.disk_index(project, zone, disk)
            .map(|index| &self.vms[index])
    }

    /// `disks.createSnapshot`: a `DONE` operation, the snapshot (`snapshots.get` serves it) and a
    /// `v1.compute.disks.createSnapshot` entry on the disk (`gce_disk`).
    pub(crate) fn create_snapshot(
        &mut self,
        project: &str,
        zone: &str,
        disk: &str,
        snapshot_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, ComputeError> {
        let index = self.disk_index(project, zone, disk)?;
        if snapshot_name.is_empty() {
            return Err(ComputeError::bad_request(
                "required",
                "Required field 'resource.name' not specified".to_string(),
            ));
        }
        let key = (project.to_string(), snapshot_name.to_string());
        if self.snapshots.contains_key(&key) {
            return Err(ComputeError::bad_request(
                "alreadyExists",
                format!(
                    "The resource 'projects/{project}/global/snapshots/{snapshot_name}' already exists"
                ),
            ));
        }
        let principal = self.principal.clone();
        let disk_state = self.vms[index].disk.clone();
        let disk_link = disk_state.self_link();
        let op = operation::done(
            Scope::Zone { project, zone },
            "createSnapshot",
            &disk_link,
            &disk_state.id,
            &principal,
            now,
        );
        let op_name = op["name"].as_str().unwrap_or_default().to_string();
        let mut request = Map::new();
        request.insert("name".into(), json!(snapshot_name));
        let resource = disk_state.audit_resource();
        let record = audit::entry(&audit::EntryInput {
            project,
            resource: &resource,
            method: "v1.compute.disks.createSnapshot",
            time: now,
            principal: &principal,
            log: AuditLogKind::Activity,
            request: Some(&request),
            delta: None,
            operation_id: Some(&op_name),
        });
        self.push_audit(record);
        let snapshot = json!({
            "kind": "compute#snapshot",
            "id": new_numeric_id(),
            "creationTimestamp": compute_time(now),
            "name": snapshot_name,
            "status": "READY",
            "sourceDisk": disk_link,
            "sourceDiskId": disk_state.id,
            "diskSizeGb": "10",
            "storageBytes": "1319958912",
            "storageBytesStatus": "UP_TO_DATE",
            "selfLink": format!("{COMPUTE_BASE}projects/{project}/global/snapshots/{snapshot_name}"),
            "labelFingerprint": "42WmSpB8rSM=",
            "storageLocations": [zone.rsplit_once('-').map_or(zone, |(region, _)| region)],
        });
        self.snapshots.insert(key, snapshot);
        self.operations.insert(op_name, op.clone());
        Ok(op)
    }

    /// `snapshots.get`.
    pub(crate) fn snapshot(&self, project: &str, name: &str) -> Result<Value, ComputeError> {
        self.snapshots
            .get(&(project.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| {
                ComputeError::not_found(&format!("projects/{project}/global/snapshots/{name}"))
            })
    }

    /// `instances.attachDisk` of one of the scenario's disks: the disk's `users` gains the instance,
    /// `lastAttachTimestamp` is now; the entry is on the instance, its request names the disk.
    pub(crate) fn attach_disk(
        &mut self,
        project: &str,
        zone: &str,
        name: &str,
        request: &AttachRequest,
        now: DateTime<Utc>,
    ) -> Result<Value, ComputeError> {
        let index = self.instance_index(project, zone, name)?;
        let disk = DiskRef::parse(&request.source).ok_or_else(|| {
            ComputeError::bad_request(
                "invalid",
                format!(
                    "Invalid value for field 'resource.source': '{}'. The URL is malformed.",
                    request.source
                ),
            )
        })?;
        let disk_index = self.disk_index(
            disk.project.as_deref().unwrap_or(project),
            disk.zone.as_deref().unwrap_or(zone),
            &disk.name,
        )?;
        let link = self.vms[index].self_link();
        if self.vms[disk_index].disk.users.contains(&link) {
            return Err(ComputeError::bad_request(
                "invalid",
                format!(
                    "The disk resource '{}' is already being used by '{link}'",
                    disk.name
                ),
            ));
        }
        let device_name = request
            .device_name
            .clone()
            .unwrap_or_else(|| disk.name.clone());
        let mode = request
            .mode
            .clone()
            .unwrap_or_else(|| "READ_WRITE".to_string());
        let owner = self.vms[disk_index].spec.name.clone();
        let source = self.vms[disk_index].disk.self_link();
        let vm = &mut self.vms[index];
        vm.attached.push(super::Attachment {
            disk_owner: owner,
            source,
            device_name: device_name.clone(),
            boot: request.boot.unwrap_or(false),
            mode: mode.clone(),
        });
        vm.fingerprint = new_fingerprint();
        let disk_state = &mut self.vms[disk_index].disk;
        disk_state.users.push(link);
        disk_state.last_attach = now;
        let mut audited = Map::new();
        audited.insert("source".into(), json!(request.source));
        audited.insert("deviceName".into(), json!(device_name));
        audited.insert("mode".into(), json!(mode));
        Ok(self.finish_instance_op_with(index, "attachDisk", None, Some(&audited), now))
    }

    /// `instances.detachDisk?deviceName=D`: the disk leaves the instance's `disks[]` and `users`,
    /// its `lastDetachTimestamp` is now.
    pub(crate) fn detach_disk(
        &mut self,
        project: &str,
        zone: &str,
        name: &str,
        device_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, ComputeError> {
        let index = self.instance_index(project, zone, name)?;
        let position = self.vms[index]
            .attached
            .iter()
            .position(|a| a.device_name == device_name)
            .ok_or_else(|| {
                ComputeError::bad_request(
                    "invalid",
                    format!("Invalid value for field 'deviceName': '{device_name}'. No attached disk found with device name '{device_name}'"),
                )
            })?;
        let link = self.vms[index].self_link();
        let attachment = self.vms[index].attached.remove(position);
        self.vms[index].fingerprint = new_fingerprint();
        if let Ok(owner) = self.known_vm_mut(&attachment.disk_owner) {
            owner.disk.users.retain(|user| *user != link);
            owner.disk.last_detach = Some(now);
        }
        let mut audited = Map::new();
        audited.insert("deviceName".into(), json!(device_name));
        Ok(self.finish_instance_op_with(index, "detachDisk", None, Some(&audited), now))
    }

    /// A `data_access` entry for a Compute read (`v1.compute.instances.get`, ...) when the scenario
    /// turns Data Access logs on; nothing otherwise.
    pub(crate) fn record_read(
        &mut self,
        method: &str,
        resource: AuditResource,
        now: DateTime<Utc>,
    ) {
        if !self.data_access_reads {
            return;
        }
        let project = match &resource {
            AuditResource::Instance { project, .. }
            | AuditResource::Disk { project, .. }
            | AuditResource::Project { project } => project.clone(),
        };
        let principal = self.principal.clone();
        let record = audit::entry(&audit::EntryInput {
            project: &project,
            resource: &resource,
            method,
            time: now,
            principal: &principal,
            log: AuditLogKind::DataAccess,
            request: None,
            delta: None,
            operation_id: None,
        });
        self.push_audit(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_references_parse_in_full_and_partial_form() {
        let full =
            DiskRef::parse("https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d")
                .unwrap();
        assert_eq!(
            full,
            DiskRef {
                project: Some("p".into()),
                zone: Some("z".into()),
                name: "d".into()
            }
        );
        assert_eq!(DiskRef::parse("zones/z/disks/d").unwrap().project, None);
        assert_eq!(DiskRef::parse("projects/p/zones/z/instances/i"), None);
    }
}
