//! `EvidenceCollector`: everything Google says about one VM for one decision, in ONE concurrent
//! round when the VM is known ([`EvidenceCollector::collect_known`], the release path): the instance id
//! and creation time come from the identity token and the boot disk's name from the approval, so
//! `instances.get`, `disks.get`, `projects.get`, the audit history ([`EvidenceCollector::audit_history`],
//! one `entries:list` listing) and the newest Data Access entry all start at once. The boot disk named
//! by the fetched instance is then checked against the expected one: a mismatch fails the boot disk
//! (never passes). [`EvidenceCollector::collect`] (the console) knows only the name: it reads the
//! instance and project first, then the rest in one round, shielded identity included.
//! Fails closed: any failure becomes that part's `Fetched::Err` (and parts that depend on the
//! instance inherit its failure), never a pass.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use tokendist_core::auditlog::AuditEntry;
use tokendist_core::evidence::{
    DataAccessEvidence, DiskEvidence, Evidence, FetchError, FetchErrorKind, Fetched,
    InstanceEvidence, PeerEvidence, ProjectEvidence, ShieldedIdentity,
};
use tokendist_core::identity::{IdentityClaims, IdentityError};

use crate::auditlog_decode::API_ENTRIES_LIST;
use crate::compute::ComputeClient;
use crate::compute_mapping::{API_DISKS_GET, API_SHIELDED_IDENTITY, disk_location};
use crate::fetch_error::malformed;
use crate::logging::{LoggingClient, VmHistoryQuery};

/// How long before its instance a boot disk may have been created and still be read for: the
/// largest tolerance `instance.boot_disk` accepts (a day). The window is narrowed to the disk's real
/// creation once `disks.get` answers.
const DISK_LEAD_SECS: i64 = 86_400;

/// The Google-sourced parts of the evidence for one VM.
#[derive(Debug, Clone, PartialEq)]
pub struct VmEvidence {
    pub instance: Fetched<InstanceEvidence>,
    pub boot_disk: Fetched<DiskEvidence>,
    /// `None` when the collection did not ask for it (the release path does not use it).
    pub shielded_identity: Option<Fetched<ShieldedIdentity>>,
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
    /// `tpm` from a verified session); the shielded identity (if it was asked for) is handed back
    /// alongside.
    pub fn into_evidence(
        self,
        identity: Result<IdentityClaims, IdentityError>,
        peer: PeerEvidence,
        gathered_at: DateTime<Utc>,
    ) -> (Evidence, Option<Fetched<ShieldedIdentity>>) {
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

/// What is known about a VM before anything is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownVm<'a> {
    pub project: &'a str,
    pub zone: &'a str,
    pub name: &'a str,
    /// From the identity token (or the approval).
    pub instance_id: &'a str,
    /// From the identity token (`instance_creation_timestamp`).
    pub created: DateTime<Utc>,
    /// The boot disk's name, in the instance's project and zone.
    pub boot_disk: &'a str,
}

impl<'a> KnownVm<'a> {
    /// The history query for this VM.
    pub fn history_query(&self) -> VmHistoryQuery<'a> {
        VmHistoryQuery {
            project: self.project,
            zone: self.zone,
            instance_name: self.name,
            instance_id: self.instance_id,
            created: self.created,
            boot_disk: self.boot_disk,
            disk_lead: Duration::seconds(DISK_LEAD_SECS),
        }
    }
}

/// Whether a collection also reads the instance's shielded identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShieldedIdentityRead {
    Fetch,
    Skip,
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

    /// Everything about the known VM `vm` in one concurrent round (the release path).
    pub async fn collect_known(
        &self,
        vm: &KnownVm<'_>,
        shielded: ShieldedIdentityRead,
    ) -> VmEvidence {
        self.known_round(vm, shielded, true).await
    }

    /// [`EvidenceCollector::collect_known`] without any Cloud Logging call: the audit log and Data
    /// Access parts are empty, for a caller that fills them from the audit watch's state.
    pub async fn collect_known_without_audit_log(
        &self,
        vm: &KnownVm<'_>,
        shielded: ShieldedIdentityRead,
    ) -> VmEvidence {
        self.known_round(vm, shielded, false).await
    }

    async fn known_round(
        &self,
        vm: &KnownVm<'_>,
        shielded: ShieldedIdentityRead,
        read_audit_log: bool,
    ) -> VmEvidence {
        let instance = self.compute.instance(vm.project, vm.zone, vm.name);
        let project = self.compute.project(vm.project);
        self.gather(vm, instance, project, shielded, read_audit_log)
            .await
    }

    /// Fetches the instance `project/zone/name` and the project's metadata, then the rest (shielded
    /// identity included) concurrently, for the boot disk the instance names.
    pub async fn collect(&self, project: &str, zone: &str, name: &str) -> VmEvidence {
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
                    shielded_identity: Some(Err(dependent(API_SHIELDED_IDENTITY, &err))),
                    audit_log: Err(dependent(API_ENTRIES_LIST, &err)),
                    data_access: Err(dependent(API_ENTRIES_LIST, &err)),
                    instance: Err(err),
                };
            }
        };
        let boot_disk = match boot_disk_location(&instance) {
            Ok((_, _, disk)) => disk,
            Err(err) => {
                return VmEvidence {
                    project: project_metadata,
                    boot_disk: Err(err.clone()),
                    shielded_identity: Some(
                        self.compute
                            .shielded_identity(&instance.project, &instance.zone, &instance.name)
                            .await,
                    ),
                    audit_log: Err(dependent(API_ENTRIES_LIST, &err)),
                    data_access: Err(dependent(API_ENTRIES_LIST, &err)),
                    instance: Ok(instance),
                };
            }
        };
        let known = KnownVm {
            project: &instance.project,
            zone: &instance.zone,
            name: &instance.name,
            instance_id: &instance.instance_id,
            created: instance.creation_timestamp,
            boot_disk: &boot_disk,
        };
        let known_instance = instance.clone();
        self.gather(
            &known,
            async { Ok(known_instance) },
            async { project_metadata },
            ShieldedIdentityRead::Fetch,
            true,
        )
        .await
    }

    /// The VM's audit history: one paged `entries:list` listing covering the instance, its boot
    /// disk, copies of either and project metadata changes. The audit-log step of a collection,
    /// kept apart so that it can be served from other state.
    pub async fn audit_history(&self, vm: &KnownVm<'_>) -> Fetched<Vec<AuditEntry>> {
        self.logging.vm_history(&vm.history_query()).await
    }

    /// One round: `instance` and `project` (already under way or done), `disks.get` of the expected
    /// boot disk, the audit history, the newest Data Access entry and (if asked) the shielded
    /// identity, all at once; then the boot disk is checked against the instance.
    async fn gather(
        &self,
        vm: &KnownVm<'_>,
        instance: impl Future<Output = Fetched<InstanceEvidence>>,
        project: impl Future<Output = Fetched<ProjectEvidence>>,
        shielded: ShieldedIdentityRead,
        read_audit_log: bool,
    ) -> VmEvidence {
        let disk = self.compute.disk(vm.project, vm.zone, vm.boot_disk);
        let shielded_identity = async {
            match shielded {
                ShieldedIdentityRead::Fetch => Some(
                    self.compute
                        .shielded_identity(vm.project, vm.zone, vm.name)
                        .await,
                ),
                ShieldedIdentityRead::Skip => None,
            }
        };
        let history = async {
            if read_audit_log {
                self.audit_history(vm).await
            } else {
                Ok(Vec::new())
            }
        };
        let data_access = async {
            if read_audit_log {
                self.logging
                    .newest_data_access(vm.project, vm.instance_id, vm.created)
                    .await
            } else {
                Ok(DataAccessEvidence::default())
            }
        };
        let (instance, project, disk, shielded_identity, history, data_access) = tokio::join!(
            instance,
            project,
            disk,
            shielded_identity,
            history,
            data_access
        );
        let boot_disk = match &instance {
            Ok(instance) => expected_boot_disk(instance.boot_disk_source.as_deref(), vm).and(disk),
            Err(err) => Err(dependent(API_DISKS_GET, err)),
        };
        let disk_since = boot_disk.as_ref().ok().map(|disk| {
            disk.creation_timestamp
                .map_or(vm.created, |created| created.min(vm.created))
        });
        let audit_log = history.map(|entries| narrow_to_disk(entries, disk_since));
        VmEvidence {
            instance,
            boot_disk,
            shielded_identity,
            project,
            audit_log,
            data_access,
        }
    }
}

/// `project`, `zone` and name of the boot disk the instance names.
fn boot_disk_location(instance: &InstanceEvidence) -> Fetched<(String, String, String)> {
    disk_source_location(instance.boot_disk_source.as_deref())
}

fn disk_source_location(source: Option<&str>) -> Fetched<(String, String, String)> {
    let source = source.ok_or_else(|| malformed(API_DISKS_GET, "the instance has no boot disk"))?;
    disk_location(source).ok_or_else(|| {
        malformed(
            API_DISKS_GET,
            format!("boot disk source {source:?} is not a projects/P/zones/Z/disks/D URL"),
        )
    })
}

/// Ok when the fetched instance boots from the disk that was read; a mismatch fails the boot disk.
fn expected_boot_disk(boot_disk_source: Option<&str>, vm: &KnownVm<'_>) -> Fetched<()> {
    let (project, zone, disk) = disk_source_location(boot_disk_source)?;
    if (project.as_str(), zone.as_str(), disk.as_str()) == (vm.project, vm.zone, vm.boot_disk) {
        Ok(())
    } else {
        Err(FetchError {
            api: API_DISKS_GET.to_owned(),
            kind: FetchErrorKind::NotFound,
            message: format!(
                "the instance boots from projects/{project}/zones/{zone}/disks/{disk}, not from the \
                 expected boot disk projects/{}/zones/{}/disks/{}",
                vm.project, vm.zone, vm.boot_disk
            ),
        })
    }
}

/// The history was read from a day before the instance's creation for disk entries and copies;
/// once the disk is known, entries older than `since` (the earlier of its and the instance's
/// creation) are dropped (instance and project entries are never older than the instance). Without
/// a disk all stay (the boot disk check fails anyway).
fn narrow_to_disk(mut entries: Vec<AuditEntry>, since: Option<DateTime<Utc>>) -> Vec<AuditEntry> {
    if let Some(since) = since {
        entries.retain(|entry| entry.timestamp >= since);
    }
    entries
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

    fn known(created: DateTime<Utc>) -> KnownVm<'static> {
        KnownVm {
            project: "p",
            zone: "z",
            name: "vm",
            instance_id: "1",
            created,
            boot_disk: "vm",
        }
    }

    #[test]
    fn the_expected_boot_disk_passes_and_another_fails_closed() {
        let vm = known(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let same = "https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/vm";
        assert_eq!(expected_boot_disk(Some(same), &vm), Ok(()));
        let other = "https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/swapped";
        let err = expected_boot_disk(Some(other), &vm).unwrap_err();
        assert_eq!(err.api, "compute.disks.get");
        assert_ne!(err.kind, FetchErrorKind::Unavailable);
        assert!(
            err.message
                .contains("disks/swapped, not from the expected boot disk")
        );
        assert!(expected_boot_disk(None, &vm).is_err());
    }

    #[test]
    fn history_is_narrowed_to_the_disks_creation_once_known() {
        let created = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let entries = [entry("old", 0), entry("new", 20)];
        let shifted: Vec<AuditEntry> = entries
            .iter()
            .cloned()
            .map(|mut e| {
                e.timestamp -= Duration::seconds(10);
                e
            })
            .collect();
        // "old" at -10 s, "new" at +10 s; the disk was created at -5 s.
        let kept = narrow_to_disk(shifted.clone(), Some(created - Duration::seconds(5)));
        let ids: Vec<&str> = kept.iter().map(|e| e.insert_id.as_str()).collect();
        assert_eq!(ids, ["new"]);
        assert_eq!(narrow_to_disk(shifted, None).len(), 2);
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
