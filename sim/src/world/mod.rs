//! The simulated cloud's mutable state: projects, VMs, operations, the audit log, keys and faults.

mod disks;
mod mutations;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::audit::{self, AuditRecord, AuditResource};
use crate::compute_links::{disk_link, instance_link};
use crate::error::SimError;
use crate::faults::Faults;
use crate::fingerprint::{new_fingerprint, new_numeric_id};
use crate::scenario::{AuditLogKind, EkSource, HistorySpec, ProjectSpec, Scenario, VmSpec};
use crate::signing::SigningKeys;

pub(crate) use disks::AttachRequest;
pub(crate) use mutations::MetadataUpdate;

/// A project and its live common instance metadata.
#[derive(Debug)]
pub(crate) struct ProjectState {
    pub spec: ProjectSpec,
    pub metadata: BTreeMap<String, String>,
    pub metadata_fingerprint: String,
}

/// A VM and everything about it that changes.
#[derive(Debug)]
pub(crate) struct VmState {
    pub spec: VmSpec,
    pub metadata: BTreeMap<String, String>,
    pub metadata_fingerprint: String,
    pub fingerprint: String,
    pub status: String,
    pub last_start: DateTime<Utc>,
    pub last_stop: Option<DateTime<Utc>>,
    /// EK public key PEM served by `getShieldedInstanceIdentity` (replaceable at run time).
    pub ek_pem: Option<String>,
    /// EK certificate PEM served as `encryptionKey.ekCert` (replaceable at run time; cleared when the
    /// EK is replaced without a certificate, since it certified the previous key).
    pub ek_cert_pem: Option<String>,
    /// The VM's boot disk (named like the VM) and its attach history.
    pub disk: DiskState,
    /// Disks attached to the VM, in `disks[]` order (its boot disk first, while attached).
    pub attached: Vec<Attachment>,
    pub tags_fingerprint: String,
    pub label_fingerprint: String,
    pub nic_fingerprint: String,
}

/// A boot disk's live state (`compute#disk`).
#[derive(Debug, Clone)]
pub(crate) struct DiskState {
    pub id: String,
    pub name: String,
    pub project: String,
    pub zone: String,
    pub created: DateTime<Utc>,
    pub last_attach: DateTime<Utc>,
    pub last_detach: Option<DateTime<Utc>>,
    /// Self links of the instances it is attached to.
    pub users: Vec<String>,
}

impl VmState {
    /// The instance's self link.
    pub(crate) fn self_link(&self) -> String {
        instance_link(&self.spec.project, &self.spec.zone, &self.spec.name)
    }
}

impl DiskState {
    /// The disk's self link.
    pub(crate) fn self_link(&self) -> String {
        disk_link(&self.project, &self.zone, &self.name)
    }

    /// What audit entries about this disk are on (`gce_disk`).
    pub(crate) fn audit_resource(&self) -> AuditResource {
        AuditResource::Disk {
            id: self.id.clone(),
            project: self.project.clone(),
            zone: self.zone.clone(),
            name: self.name.clone(),
        }
    }
}

/// One entry of an instance's `disks[]`: whose boot disk it is, and how it is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attachment {
    /// Name of the VM whose boot disk this is (disks are named like their VM).
    pub disk_owner: String,
    /// The disk's full URL (`disks[].source`).
    pub source: String,
    pub device_name: String,
    pub boot: bool,
    pub mode: String,
}

/// The whole simulated world.
#[derive(Debug)]
pub(crate) struct World {
    pub principal: String,
    pub jwks_max_age_secs: u64,
    pub projects: BTreeMap<String, ProjectState>,
    pub vms: Vec<VmState>,
    /// Operations by name.
    pub operations: BTreeMap<String, Value>,
    /// Audit entries in insertion order (sorted by timestamp when listed).
    pub audit: Vec<AuditRecord>,
    pub keys: SigningKeys,
    pub faults: Faults,
    /// Snapshots by `(project, name)`.
    pub snapshots: BTreeMap<(String, String), Value>,
    /// Every Compute read writes a `data_access` entry (Data Access audit logs on).
    pub data_access_reads: bool,
    /// Logging sinks; every new entry is routed through them.
    pub sinks: crate::sinks::Sinks,
}

impl World {
    pub(crate) fn new(scenario: &Scenario) -> Result<World, SimError> {
        let mut world = World {
            principal: scenario.settings.principal.clone(),
            jwks_max_age_secs: scenario.settings.jwks_max_age_secs,
            projects: BTreeMap::new(),
            vms: Vec::new(),
            operations: BTreeMap::new(),
            audit: Vec::new(),
            keys: SigningKeys::generate()?,
            faults: Faults::default(),
            snapshots: BTreeMap::new(),
            data_access_reads: scenario.settings.data_access_reads,
            sinks: crate::sinks::Sinks::default(),
        };
        for spec in &scenario.projects {
            for entry in &spec.history {
                world.preload(
                    entry,
                    AuditResource::Project {
                        project: spec.id.clone(),
                    },
                    &spec.id,
                );
            }
            world.projects.insert(
                spec.id.clone(),
                ProjectState {
                    spec: spec.clone(),
                    metadata: spec.metadata.clone(),
                    metadata_fingerprint: new_fingerprint(),
                },
            );
        }
        for spec in &scenario.vms {
            world.add_vm(spec);
        }
        for index in 0..world.vms.len() {
            for other in world.vms[index].spec.boot_disk.also_attached_to.clone() {
                if let Some(link) = world.vm_by_name(&other).map(VmState::self_link) {
                    world.vms[index].disk.users.push(link);
                }
            }
        }
        Ok(world)
    }

    fn add_vm(&mut self, spec: &VmSpec) {
        let resource = AuditResource::instance(spec);
        let principal = self.principal.clone();
        self.push_audit(audit::entry(&audit::EntryInput {
            project: &spec.project,
            resource: &resource,
            method: "v1.compute.instances.insert",
            time: spec.created,
            principal: &principal,
            log: AuditLogKind::Activity,
            request: None,
            delta: None,
            operation_id: None,
        }));
        for index in 1..=spec.pad_history {
            self.push_audit(audit::entry(&audit::EntryInput {
                project: &spec.project,
                resource: &resource,
                method: "v1.compute.instances.setLabels",
                time: spec.created + chrono::Duration::seconds(i64::from(index)),
                principal: &principal,
                log: AuditLogKind::Activity,
                request: None,
                delta: None,
                operation_id: None,
            }));
        }
        for entry in &spec.history {
            let resource = if entry.method.contains(".projects.") {
                AuditResource::Project {
                    project: spec.project.clone(),
                }
            } else {
                resource.clone()
            };
            self.preload(entry, resource, &spec.project);
        }
        let disk = DiskState {
            id: new_numeric_id(),
            name: spec.name.clone(),
            project: spec.project.clone(),
            zone: spec.zone.clone(),
            created: spec.boot_disk.created,
            last_attach: spec.boot_disk.last_attach,
            last_detach: spec.boot_disk.last_detach,
            users: vec![instance_link(&spec.project, &spec.zone, &spec.name)],
        };
        let disk_resource = disk.audit_resource();
        for entry in &spec.boot_disk.history {
            self.preload(entry, disk_resource.clone(), &spec.project);
        }
        let ek_pem = match &spec.ek {
            EkSource::PemFile { pem, .. } => Some(pem.clone()),
            EkSource::None => None,
        };
        let boot_source = disk.self_link();
        self.vms.push(VmState {
            spec: spec.clone(),
            metadata: spec.metadata.clone(),
            metadata_fingerprint: new_fingerprint(),
            fingerprint: new_fingerprint(),
            status: spec.status.clone(),
            last_start: spec.created + chrono::Duration::seconds(9),
            last_stop: None,
            ek_pem,
            ek_cert_pem: spec.ek_cert_pem.clone(),
            disk,
            attached: vec![Attachment {
                disk_owner: spec.name.clone(),
                source: boot_source,
                device_name: "persistent-disk-0".to_string(),
                boot: true,
                mode: "READ_WRITE".to_string(),
            }],
            tags_fingerprint: new_fingerprint(),
            label_fingerprint: new_fingerprint(),
            nic_fingerprint: new_fingerprint(),
        });
    }

    fn preload(&mut self, entry: &HistorySpec, resource: AuditResource, project: &str) {
        let principal = entry
            .principal
            .clone()
            .unwrap_or_else(|| self.principal.clone());
        self.push_audit(audit::entry(&audit::EntryInput {
            project,
            resource: &resource,
            method: &entry.method,
            time: entry.time,
            principal: &principal,
            log: entry.log,
            request: entry.request.as_ref(),
            delta: None,
            operation_id: None,
        }));
    }

    /// Appends an audit record, stamping its insertion sequence.
    pub(crate) fn push_audit(&mut self, mut record: AuditRecord) {
        record.sequence = self.audit.len() as u64;
        self.sinks.route(&record.entry);
        self.audit.push(record);
    }

    pub(crate) fn vm_by_name(&self, name: &str) -> Option<&VmState> {
        self.vms.iter().find(|vm| vm.spec.name == name)
    }

    /// The VM with this name, or `UnknownVm` (admin operations name VMs).
    pub(crate) fn known_vm(&self, name: &str) -> Result<&VmState, SimError> {
        self.vm_by_name(name)
            .ok_or_else(|| SimError::UnknownVm(name.to_string()))
    }

    /// Like [`World::known_vm`], to change it.
    pub(crate) fn known_vm_mut(&mut self, name: &str) -> Result<&mut VmState, SimError> {
        self.vms
            .iter_mut()
            .find(|vm| vm.spec.name == name)
            .ok_or_else(|| SimError::UnknownVm(name.to_string()))
    }

    /// The VM at `projects/P/zones/Z/instances/NAME`, if it exists there.
    pub(crate) fn vm_at(&self, project: &str, zone: &str, name: &str) -> Option<&VmState> {
        self.vms
            .iter()
            .find(|vm| vm.spec.project == project && vm.spec.zone == zone && vm.spec.name == name)
    }

    pub(crate) fn project(&self, id: &str) -> Option<&ProjectState> {
        self.projects.get(id)
    }
}
