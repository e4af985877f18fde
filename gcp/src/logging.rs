//! `LoggingClient`: reads the Cloud Audit Log windows the `auditlog.clean` / `instance.boot_disk`
//! checks need (every page): the instance's entries, its boot disk's `gce_disk` entries, anything made
//! from the disk or the instance, project metadata changes; and the newest Data Access entry of the
//! instance (`auditlog.data_access`). Over the official `google-cloud-logging-v2` client
//! (`POST /v2/entries:list`). Builds the filters it sends: they leave out the token server's own
//! harmless reads ([`UNFETCHED_READS`]), so that with Data Access logs on they do not pile up.

use chrono::{DateTime, SecondsFormat, Utc};
use google_cloud_logging_v2::client::LoggingServiceV2;
use tokendist_core::auditlog::AuditEntry;
use tokendist_core::auditlog::method_table::{UNFETCHED_READS, VERSION_PREFIXES};
use tokendist_core::evidence::{DataAccessEvidence, FetchError, Fetched};

use std::sync::Arc;

use crate::auditlog_decode::{API_ENTRIES_LIST, audit_entry};
use crate::call_observer::{CallObserver, Observer};
use crate::client_options::configure;
use crate::compute::ClientBuildError;
use crate::config::GcpConfig;
use crate::fetch_error::malformed;

/// Entries requested per page.
pub const DEFAULT_PAGE_SIZE: i32 = 1000;
/// A listing that needs more pages than this is refused rather than read forever.
const MAX_PAGES: usize = 10_000;

/// Read-only Cloud Logging client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LoggingClient {
    client: LoggingServiceV2,
    page_size: i32,
    observer: Observer,
}

impl LoggingClient {
    /// Builds the client for `config.logging_endpoint` with the configured credentials and retries.
    pub async fn new(config: &GcpConfig) -> Result<Self, ClientBuildError> {
        let endpoint = config.logging_endpoint.as_str();
        let client = configure(LoggingServiceV2::builder(), endpoint, config)
            .build()
            .await
            .map_err(|source| ClientBuildError {
                api: "logging",
                endpoint: endpoint.to_owned(),
                source,
            })?;
        Ok(Self {
            client,
            page_size: DEFAULT_PAGE_SIZE,
            observer: Observer::default(),
        })
    }

    /// The same client telling `observer` about every call.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Observer::new(observer);
        self
    }

    /// The same client asking for `page_size` entries per page (at least 1).
    pub fn with_page_size(mut self, page_size: i32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Every admin-activity and data-access audit entry of instance `instance_id` since `since`,
    /// oldest first, across all pages.
    pub async fn audit_entries_for_instance(
        &self,
        project: &str,
        instance_id: &str,
        since: DateTime<Utc>,
    ) -> Fetched<Vec<AuditEntry>> {
        self.list_all(project, &instance_filter(project, instance_id, since))
            .await
    }

    /// Every project-wide metadata change (`setCommonInstanceMetadata` on `gce_project`) since `since`.
    pub async fn project_metadata_changes(
        &self,
        project: &str,
        since: DateTime<Utc>,
    ) -> Fetched<Vec<AuditEntry>> {
        self.list_all(project, &project_metadata_filter(project, since))
            .await
    }

    /// The VM's whole audit history in ONE listing (every page): the instance's entries, its boot
    /// disk's (`gce_disk`, by resource name), copies made from the disk or the instance, and project
    /// metadata changes ([`vm_history_filter`]); oldest first.
    pub async fn vm_history(&self, query: &VmHistoryQuery<'_>) -> Fetched<Vec<AuditEntry>> {
        self.list_all(query.project, &vm_history_filter(query))
            .await
    }

    /// The newest Data Access entry of instance `instance_id` since `since` (one entry, one page:
    /// the cost does not grow with the log). `newest_entry` is `None` when there is none.
    pub async fn newest_data_access(
        &self,
        project: &str,
        instance_id: &str,
        since: DateTime<Utc>,
    ) -> Fetched<DataAccessEvidence> {
        let request = self
            .client
            .list_log_entries()
            .set_resource_names([format!("projects/{project}")])
            .set_filter(data_access_filter(project, instance_id, since))
            .set_order_by("timestamp desc")
            .set_page_size(1)
            .send();
        let page = self
            .observer
            .call(API_ENTRIES_LIST, request, logged)
            .await?;
        match page.entries.first() {
            None => Ok(DataAccessEvidence::default()),
            Some(entry) => {
                let entry = audit_entry(entry).map_err(logged)?;
                Ok(DataAccessEvidence {
                    newest_entry: Some(entry.timestamp),
                    newest_method: Some(entry.method_name),
                })
            }
        }
    }

    /// Every audit entry of the project since `since` (both audit logs, without the server's own
    /// harmless reads): the audit watch's one read per project per reconciliation, whatever the
    /// number of VMs it covers.
    pub async fn project_audit_entries(
        &self,
        project: &str,
        since: DateTime<Utc>,
    ) -> Fetched<Vec<AuditEntry>> {
        self.list_all(project, &project_audit_filter(project, since))
            .await
    }

    async fn list_all(&self, project: &str, filter: &str) -> Fetched<Vec<AuditEntry>> {
        let mut entries = Vec::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let request = self
                .client
                .list_log_entries()
                .set_resource_names([format!("projects/{project}")])
                .set_filter(filter)
                .set_order_by("timestamp asc")
                .set_page_size(self.page_size)
                .set_page_token(page_token.clone())
                .send();
            let page = self
                .observer
                .call(API_ENTRIES_LIST, request, logged)
                .await?;
            for entry in &page.entries {
                entries.push(audit_entry(entry).map_err(logged)?);
            }
            if page.next_page_token.is_empty() {
                entries.sort_by(|a, b| {
                    a.timestamp
                        .cmp(&b.timestamp)
                        .then_with(|| a.insert_id.cmp(&b.insert_id))
                });
                tracing::debug!(project, entries = entries.len(), "read audit log");
                return Ok(entries);
            }
            if page.next_page_token == page_token {
                return Err(logged(malformed(
                    API_ENTRIES_LIST,
                    "the API returned the same page token twice",
                )));
            }
            page_token = page.next_page_token;
        }
        Err(logged(malformed(
            API_ENTRIES_LIST,
            format!("more than {MAX_PAGES} pages of audit log; narrow the window"),
        )))
    }
}

fn audit_log_names(project: &str) -> (String, String) {
    (
        format!("projects/{project}/logs/cloudaudit.googleapis.com%2Factivity"),
        format!("projects/{project}/logs/cloudaudit.googleapis.com%2Fdata_access"),
    )
}

fn since_clause(since: DateTime<Utc>) -> String {
    format!(
        "timestamp>=\"{}\"",
        since.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

/// `NOT (protoPayload.methodName="v1.compute.instances.get" OR ...)`: the server's own harmless
/// reads, in every version spelling, compared exactly (`:` would also drop `getSerialPortOutput`).
pub fn unfetched_reads_clause() -> String {
    let terms: Vec<String> = UNFETCHED_READS
        .iter()
        .flat_map(|read| {
            VERSION_PREFIXES
                .iter()
                .map(move |version| format!("protoPayload.methodName=\"{version}{read}\""))
        })
        .collect();
    format!("NOT ({})", terms.join(" OR "))
}

/// The filter for one instance's audit entries.
pub fn instance_filter(project: &str, instance_id: &str, since: DateTime<Utc>) -> String {
    let (activity, data_access) = audit_log_names(project);
    format!(
        "resource.type=\"gce_instance\" AND resource.labels.instance_id=\"{instance_id}\" AND \
         (logName=\"{activity}\" OR logName=\"{data_access}\") AND {} AND {}",
        unfetched_reads_clause(),
        since_clause(since)
    )
}

/// What one VM's audit history is read for. Everything in it is known before any Compute read:
/// the instance id and creation time from the identity token, the boot disk's name from the approval.
#[derive(Debug, Clone, Copy)]
pub struct VmHistoryQuery<'a> {
    pub project: &'a str,
    pub zone: &'a str,
    pub instance_name: &'a str,
    pub instance_id: &'a str,
    /// The instance's creation: the window of its own entries and of project metadata changes.
    pub created: DateTime<Utc>,
    /// The boot disk's name (in `project`/`zone`).
    pub boot_disk: &'a str,
    /// How long before `created` disk entries and copies are read (the boot disk may be created
    /// shortly before its instance; the caller narrows to the disk's real creation once known).
    pub disk_lead: chrono::Duration,
}

/// One filter for [`VmHistoryQuery`]: both audit logs, the server's own reads left out, and
/// `(instance entries) OR (boot disk entries) OR (project metadata changes) OR (copies)`, each with
/// its own window. Copies of the disk are every request naming a disk as its source (the disk's
/// numeric id is not known before `disks.get`), copies of the instance its name or id.
pub fn vm_history_filter(query: &VmHistoryQuery<'_>) -> String {
    let (activity, data_access) = audit_log_names(query.project);
    let since = since_clause(query.created);
    let disk_since = since_clause(query.created - query.disk_lead);
    let disk_name = format!(
        "projects/{}/zones/{}/disks/{}",
        query.project, query.zone, query.boot_disk
    );
    // Every request in the project that names a disk as its source: the boot disk may be named by
    // its numeric id, which is not known before `disks.get`; classification keeps only the entries
    // whose reference is exactly this disk (by name or id) and ignores the rest.
    let mut copies = Vec::new();
    for field in ["sourceDisk", "source"] {
        copies.push(format!("protoPayload.request.{field}:\"disks/\""));
    }
    for instance in [query.instance_name, query.instance_id] {
        copies.push(format!(
            "protoPayload.request.sourceInstance:\"instances/{instance}\""
        ));
    }
    format!(
        "(logName=\"{activity}\" OR logName=\"{data_access}\") AND {} AND (\
         (resource.type=\"gce_instance\" AND resource.labels.instance_id=\"{}\" AND {since}) OR \
         (resource.type=\"gce_disk\" AND protoPayload.resourceName=\"{disk_name}\" AND {disk_since}) OR \
         (resource.type=\"gce_project\" AND protoPayload.methodName:\"setCommonInstanceMetadata\" AND \
         logName=\"{activity}\" AND {since}) OR \
         (({}) AND logName=\"{activity}\" AND {disk_since}))",
        unfetched_reads_clause(),
        query.instance_id,
        copies.join(" OR "),
    )
}

/// The filter for the instance's Data Access entries (the probe reads the newest one only).
pub fn data_access_filter(project: &str, instance_id: &str, since: DateTime<Utc>) -> String {
    let (_, data_access) = audit_log_names(project);
    format!(
        "resource.type=\"gce_instance\" AND resource.labels.instance_id=\"{instance_id}\" AND \
         logName=\"{data_access}\" AND {}",
        since_clause(since)
    )
}

/// The filter for the audit watch's reconciliation: every audit entry of the project.
pub fn project_audit_filter(project: &str, since: DateTime<Utc>) -> String {
    let (activity, data_access) = audit_log_names(project);
    format!(
        "(logName=\"{activity}\" OR logName=\"{data_access}\") AND {} AND {}",
        unfetched_reads_clause(),
        since_clause(since)
    )
}

/// The filter for project-wide metadata changes.
pub fn project_metadata_filter(project: &str, since: DateTime<Utc>) -> String {
    let (activity, _) = audit_log_names(project);
    format!(
        "resource.type=\"gce_project\" AND protoPayload.methodName:\"setCommonInstanceMetadata\" AND \
         logName=\"{activity}\" AND {}",
        since_clause(since)
    )
}

fn logged(err: FetchError) -> FetchError {
    tracing::warn!(api = %err.api, kind = %err.kind, message = %err.message, "Cloud Logging call failed");
    err
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn instance_filter_names_both_audit_logs_the_instance_and_the_window() {
        let since = Utc.with_ymd_and_hms(2021, 6, 22, 11, 57, 59).unwrap();
        assert_eq!(
            instance_filter("tc-4f4f5a70", "8939838129032687278", since),
            "resource.type=\"gce_instance\" AND resource.labels.instance_id=\"8939838129032687278\" AND \
             (logName=\"projects/tc-4f4f5a70/logs/cloudaudit.googleapis.com%2Factivity\" OR \
             logName=\"projects/tc-4f4f5a70/logs/cloudaudit.googleapis.com%2Fdata_access\") AND \
             NOT (protoPayload.methodName=\"v1.compute.instances.get\" OR \
             protoPayload.methodName=\"beta.compute.instances.get\" OR \
             protoPayload.methodName=\"alpha.compute.instances.get\" OR \
             protoPayload.methodName=\"compute.instances.get\" OR \
             protoPayload.methodName=\"v1.compute.instances.getShieldedInstanceIdentity\" OR \
             protoPayload.methodName=\"beta.compute.instances.getShieldedInstanceIdentity\" OR \
             protoPayload.methodName=\"alpha.compute.instances.getShieldedInstanceIdentity\" OR \
             protoPayload.methodName=\"compute.instances.getShieldedInstanceIdentity\" OR \
             protoPayload.methodName=\"v1.compute.disks.get\" OR \
             protoPayload.methodName=\"beta.compute.disks.get\" OR \
             protoPayload.methodName=\"alpha.compute.disks.get\" OR \
             protoPayload.methodName=\"compute.disks.get\" OR \
             protoPayload.methodName=\"v1.compute.projects.get\" OR \
             protoPayload.methodName=\"beta.compute.projects.get\" OR \
             protoPayload.methodName=\"alpha.compute.projects.get\" OR \
             protoPayload.methodName=\"compute.projects.get\" OR \
             protoPayload.methodName=\"v1.compute.images.get\" OR \
             protoPayload.methodName=\"beta.compute.images.get\" OR \
             protoPayload.methodName=\"alpha.compute.images.get\" OR \
             protoPayload.methodName=\"compute.images.get\") AND \
             timestamp>=\"2021-06-22T11:57:59Z\""
        );
    }

    #[test]
    fn project_filter_selects_set_common_instance_metadata_on_gce_project() {
        let since = Utc.with_ymd_and_hms(2021, 6, 22, 11, 57, 59).unwrap()
            + chrono::Duration::milliseconds(255);
        assert_eq!(
            project_metadata_filter("p1", since),
            "resource.type=\"gce_project\" AND protoPayload.methodName:\"setCommonInstanceMetadata\" AND \
             logName=\"projects/p1/logs/cloudaudit.googleapis.com%2Factivity\" AND \
             timestamp>=\"2021-06-22T11:57:59.255Z\""
        );
    }
}
