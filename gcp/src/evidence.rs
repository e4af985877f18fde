//! `EvidenceCollector`: everything Google says about one VM for one decision. Fetches the instance
//! (and, at the same time, its project's common instance metadata), then concurrently its boot disk
//! (then the disk's own audit entries and copies made from it), its shielded identity, the audit log
//! since its creation and the newest Data Access entry.
//! Fails closed: any failure becomes that part's `Fetched::Err` (and parts that depend on the
//! instance inherit its failure), never a pass.

use chrono::{DateTime, Utc};
use tokendist_core::auditlog::AuditEntry;
use tokendist_core::evidence::{
    DataAccessEvidence, DiskEvidence, Evidence, FetchError, Fetched, InstanceEvidence,
    PeerEvidence, ProjectEvidence, ShieldedIdentity,
};
use tokendist_core::identity::{IdentityClaims, IdentityError};

use crate::auditlog_decode::API_ENTRIES_LIST;
use crate::compute::ComputeClient;
use crate::compute_mapping::{API_DISKS_GET, API_SHIELDED_IDENTITY, disk_location};
use crate::fetch_error::malformed;
use crate::logging::{CopySources, LoggingClient};

/// The Google-sourced parts of the evidence for one VM.
#[derive(Debug, Clone, PartialEq)]
pub struct VmEvidence {
    pub instance: Fetched<InstanceEvidence>,
    pub boot_disk: Fetched<DiskEvidence>,
    pub shielded_identity: Fetched<ShieldedIdentity>,
    /// `projects.get` of the VM's project: its common instance metadata.
    pub project: Fetched<ProjectEvidence>,
    /// Instance-scoped entries and project metadata changes since the instance's creation, the boot
    /// disk's entries and copies made from it since the disk's creation; oldest first.
    pub audit_log: Fetched<Vec<AuditEntry>>,
    /// The newest Data Access entry of the instance (`auditlog.data_access`).
    pub data_access: Fetched<DataAccessEvidence>,
}

impl VmEvidence {
    /// Assembles `core::Evidence` with the parts the server owns (no TPM session: the server sets
    /// `tpm` from a verified session); the shielded identity is handed back alongside.
    pub fn into_evidence(
        self,
        identity: Result<IdentityClaims, IdentityError>,
        peer: PeerEvidence,
        gathered_at: DateTime<Utc>,
    ) -> (Evidence, Fetched<ShieldedIdentity>) {
        let evidence = Evidence {
            identity,
            instance: self.instance,
            boot_disk: self.boot_disk,
            project: self.project,
            audit_log: self.audit_log,
            data_access: self.data_access,
            peer,
            tpm: None,
            gathered_at,
        };
        (evidence, self.shielded_identity)
    }
}

/// Collects [`VmEvidence`] with one Compute and one Logging client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EvidenceCollector {
    compute: ComputeClient,
    logging: LoggingClient,
}

impl EvidenceCollector {
    pub fn new(compute: ComputeClient, logging: LoggingClient) -> Self {
        Self { compute, logging }
    }

    /// The Logging client (the audit watch's reconciliation reads).
    pub fn logging(&self) -> &LoggingClient {
        &self.logging
    }

    /// The Compute client, for single reads (an instance, its shielded identity).
    pub fn compute(&self) -> &ComputeClient {
        &self.compute
    }

    /// Fetches the instance `project/zone/name` and the project's metadata, then the rest concurrently.
    pub async fn collect(&self, project: &str, zone: &str, name: &str) -> VmEvidence {
        self.collect_with(project, zone, name, true).await
    }

    /// [`EvidenceCollector::collect`]; without `read_audit_log` no Cloud Logging call is made and
    /// the audit log and Data Access parts are empty (the caller fills them from the audit watch).
    pub async fn collect_with(
        &self,
        project: &str,
        zone: &str,
        name: &str,
        read_audit_log: bool,
    ) -> VmEvidence {
        let (instance, project_metadata) = tokio::join!(
            self.compute.instance(project, zone, name),
            self.compute.project(project)
        );
        let instance = match instance {
            Ok(instance) => instance,
            Err(err) => {
                return VmEvidence {
                    project: project_metadata,
                    boot_disk: Err(dependent(API_DISKS_GET, &err)),
                    shielded_identity: Err(dependent(API_SHIELDED_IDENTITY, &err)),
                    audit_log: Err(dependent(API_ENTRIES_LIST, &err)),
                    data_access: Err(dependent(API_ENTRIES_LIST, &err)),
                    instance: Err(err),
                };
            }
        };
        let boot_disk = async {
            let source = instance
                .boot_disk_source
                .as_deref()
                .ok_or_else(|| malformed(API_DISKS_GET, "the instance has no boot disk"))?;
            let (disk_project, disk_zone, disk) = disk_location(source).ok_or_else(|| {
                malformed(
                    API_DISKS_GET,
                    format!("boot disk source {source:?} is not a projects/P/zones/Z/disks/D URL"),
                )
            })?;
            self.compute.disk(&disk_project, &disk_zone, &disk).await
        };
        let boot_disk_and_log = async {
            let disk = boot_disk.await;
            let log = match &disk {
                Ok(_) if !read_audit_log => Ok(Vec::new()),
                Ok(disk) => self.disk_history(&instance, disk).await,
                Err(err) => Err(dependent(API_ENTRIES_LIST, err)),
            };
            (disk, log)
        };
        let shielded =
            self.compute
                .shielded_identity(&instance.project, &instance.zone, &instance.name);
        let since = instance.creation_timestamp;
        let instance_log = self.logging.audit_entries_for_instance(
            &instance.project,
            &instance.instance_id,
            since,
        );
        let project_log = self
            .logging
            .project_metadata_changes(&instance.project, since);
        let data_access =
            self.logging
                .newest_data_access(&instance.project, &instance.instance_id, since);
        let logs = async {
            if read_audit_log {
                tokio::join!(instance_log, project_log, data_access)
            } else {
                (
                    Ok(Vec::new()),
                    Ok(Vec::new()),
                    Ok(DataAccessEvidence::default()),
                )
            }
        };
        let ((boot_disk, disk_log), shielded_identity, (instance_log, project_log, data_access)) =
            tokio::join!(boot_disk_and_log, shielded, logs);
        VmEvidence {
            boot_disk,
            shielded_identity,
            project: project_metadata,
            audit_log: merge_logs(merge_logs(instance_log, project_log), disk_log),
            data_access,
            instance: Ok(instance),
        }
    }

    /// The boot disk's own entries and anything made from it or from the instance, since the
    /// earlier of the disk's and the instance's creation. A disk without an id cannot be queried:
    /// `instance.boot_disk` fails on it, and its entries are then just the copies.
    async fn disk_history(
        &self,
        instance: &InstanceEvidence,
        disk: &DiskEvidence,
    ) -> Fetched<Vec<AuditEntry>> {
        let since = disk
            .creation_timestamp
            .map_or(instance.creation_timestamp, |created| {
                created.min(instance.creation_timestamp)
            });
        let disk_id = disk.disk_id.as_deref().unwrap_or("");
        let own = async {
            if disk_id.is_empty() {
                Ok(Vec::new())
            } else {
                self.logging
                    .audit_entries_for_disk(&instance.project, disk_id, since)
                    .await
            }
        };
        let sources = CopySources {
            disk_name: &disk.name,
            disk_id: if disk_id.is_empty() {
                &disk.name
            } else {
                disk_id
            },
            instance_name: &instance.name,
            instance_id: &instance.instance_id,
        };
        let copies = self.logging.copies_of(&instance.project, &sources, since);
        let (own, copies) = tokio::join!(own, copies);
        merge_logs(own, copies)
    }
}

/// Both logs, oldest first, without duplicates; the first failure wins.
fn merge_logs(
    instance_log: Fetched<Vec<AuditEntry>>,
    project_log: Fetched<Vec<AuditEntry>>,
) -> Fetched<Vec<AuditEntry>> {
    let mut entries = instance_log?;
    entries.extend(project_log?);
    entries.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.insert_id.cmp(&b.insert_id))
    });
    entries.dedup_by(|a, b| a.insert_id == b.insert_id && a.log_name == b.log_name);
    Ok(entries)
}

fn dependent(api: &str, cause: &FetchError) -> FetchError {
    FetchError {
        api: api.to_owned(),
        kind: cause.kind,
        message: format!(
            "not fetched because {} failed: {}",
            cause.api, cause.message
        ),
    }
}

#[cfg(test)]
mod tests {
    use tokendist_core::evidence::FetchErrorKind;

    use super::*;

    fn entry(id: &str, second: u32) -> AuditEntry {
        AuditEntry {
            insert_id: id.to_owned(),
            timestamp: DateTime::from_timestamp(1_700_000_000 + i64::from(second), 0).unwrap(),
            log_name: "projects/p/logs/cloudaudit.googleapis.com%2Factivity".to_owned(),
            resource_type: "gce_instance".to_owned(),
            instance_id: Some("1".to_owned()),
            disk_id: None,
            source_disk: None,
            source_instance: None,
            method_name: "v1.compute.instances.start".to_owned(),
            service_name: "compute.googleapis.com".to_owned(),
            resource_name: "projects/p/zones/z/instances/vm".to_owned(),
            principal_email: None,
            severity: "NOTICE".to_owned(),
            operation_first: true,
            operation_last: false,
            request_summary: String::new(),
        }
    }

    #[test]
    fn merged_logs_are_chronological_and_deduplicated() {
        let merged = merge_logs(
            Ok(vec![entry("b", 3), entry("a", 1)]),
            Ok(vec![entry("c", 2), entry("a", 1)]),
        )
        .unwrap();
        let ids: Vec<&str> = merged.iter().map(|e| e.insert_id.as_str()).collect();
        assert_eq!(ids, ["a", "c", "b"]);
    }

    #[test]
    fn a_failed_project_log_fails_the_whole_audit_log() {
        let failure = malformed(API_ENTRIES_LIST, "boom");
        let merged = merge_logs(Ok(vec![entry("a", 1)]), Err(failure.clone()));
        assert_eq!(merged, Err(failure));
    }

    #[test]
    fn dependent_failures_keep_the_kind_and_name_the_cause() {
        let cause = FetchError {
            api: "compute.instances.get".to_owned(),
            kind: FetchErrorKind::Unavailable,
            message: "HTTP 503".to_owned(),
        };
        let dep = dependent(API_DISKS_GET, &cause);
        assert_eq!(dep.kind, FetchErrorKind::Unavailable);
        assert_eq!(dep.api, "compute.disks.get");
        assert!(
            dep.message
                .contains("compute.instances.get failed: HTTP 503")
        );
    }
}
