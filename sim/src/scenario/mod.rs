//! The parsed, validated scenario: which projects and VMs gcpsim simulates, and their declared history.

mod error;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use error::ScenarioError;

/// Default principal written into audit-log entries for mutations made through the API.
pub(crate) const DEFAULT_PRINCIPAL: &str = "bob@bob-project.example";
/// Default JWKS `Cache-Control: max-age` (seconds), in the range Google serves.
pub(crate) const DEFAULT_JWKS_MAX_AGE_SECS: u64 = 21_155;

/// A parsed and validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where the scenario came from (for messages); relative files were resolved against its directory.
    pub source: PathBuf,
    pub settings: Settings,
    pub projects: Vec<ProjectSpec>,
    pub vms: Vec<VmSpec>,
}

/// Simulator-wide settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `authenticationInfo.principalEmail` of audit entries for API mutations.
    pub principal: String,
    /// JWKS `Cache-Control: max-age`.
    pub jwks_max_age_secs: u64,
    /// Every Compute read writes a `data_access` audit entry (Data Access audit logs on).
    pub data_access_reads: bool,
}

/// A GCP project.
#[derive(Debug, Clone)]
pub struct ProjectSpec {
    pub id: String,
    pub number: u64,
    pub created: DateTime<Utc>,
    /// `commonInstanceMetadata` items.
    pub metadata: BTreeMap<String, String>,
    /// Project-level audit entries to pre-load.
    pub history: Vec<HistorySpec>,
}

/// Shielded VM configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShieldedSpec {
    pub secure_boot: bool,
    pub vtpm: bool,
    pub integrity_monitoring: bool,
}

/// Where a VM's vTPM endorsement key comes from. New sources (e.g. a swtpm) become new variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EkSource {
    /// A PEM file (`-----BEGIN PUBLIC KEY-----`) read when the scenario is loaded.
    PemFile { path: PathBuf, pem: String },
    /// No vTPM key: `getShieldedInstanceIdentity` answers without `encryptionKey`.
    None,
}

/// A simulated VM.
#[derive(Debug, Clone)]
pub struct VmSpec {
    /// Decimal instance id (exceeds 2^53; never a float).
    pub id: u64,
    pub name: String,
    pub project: String,
    pub zone: String,
    pub machine_type: String,
    pub service_account: String,
    /// Numeric unique id of the service account (`sub`/`azp` of identity tokens).
    pub service_account_unique_id: String,
    pub scopes: Vec<String>,
    pub created: DateTime<Utc>,
    /// Instance metadata items (including `user-data` when a user-data file is given).
    pub metadata: BTreeMap<String, String>,
    /// Full image URL, e.g. `https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/...`.
    pub boot_image: String,
    /// Licence codes (identity token `license_id`, disk `licenseCodes`).
    pub license_codes: Vec<String>,
    pub shielded: ShieldedSpec,
    pub confidential: bool,
    pub internal_ip: String,
    pub nat_ip: Option<String>,
    /// `RUNNING` or `TERMINATED`.
    pub status: String,
    pub ek: EkSource,
    pub ek_cert_pem: Option<String>,
    pub signing_key_pem: Option<String>,
    pub signing_key_cert_pem: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub history: Vec<HistorySpec>,
    /// Number of benign `v1.compute.instances.setLabels` entries at `created + 1s, +2s, ...`.
    pub pad_history: u32,
    pub boot_disk: BootDiskSpec,
}

/// The boot disk (named like its VM) and its own history.
#[derive(Debug, Clone)]
pub struct BootDiskSpec {
    /// `creationTimestamp`; default the VM's creation + 7 ms (as `instances.insert` creates it).
    pub created: DateTime<Utc>,
    /// `lastAttachTimestamp`; default `created` + 1 ms.
    pub last_attach: DateTime<Utc>,
    pub last_detach: Option<DateTime<Utc>>,
    /// Other VMs (by name) the disk is attached to besides its own.
    pub also_attached_to: Vec<String>,
    /// `gce_disk` audit entries to pre-load.
    pub history: Vec<HistorySpec>,
}

/// Which audit log an entry goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditLogKind {
    /// `cloudaudit.googleapis.com%2Factivity`
    Activity,
    /// `cloudaudit.googleapis.com%2Fdata_access`
    DataAccess,
}

impl AuditLogKind {
    /// The URL-encoded log id part of `logName`.
    pub(crate) fn log_id(self) -> &'static str {
        match self {
            AuditLogKind::Activity => "cloudaudit.googleapis.com%2Factivity",
            AuditLogKind::DataAccess => "cloudaudit.googleapis.com%2Fdata_access",
        }
    }
}

/// One declared audit-log entry.
#[derive(Debug, Clone)]
pub struct HistorySpec {
    /// e.g. `v1.compute.instances.setMetadata`.
    pub method: String,
    pub time: DateTime<Utc>,
    pub principal: Option<String>,
    pub log: AuditLogKind,
    /// Extra fields of `protoPayload.request` (besides `@type`).
    pub request: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Scenario {
    /// Reads and validates a scenario file; relative paths inside it are resolved against its directory.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        let base_dir = path.parent().unwrap_or_else(|| Path::new("."));
        validate::build(&text, base_dir, path)
    }

    /// Parses and validates scenario text; relative paths are resolved against `base_dir`.
    pub fn from_toml_str(text: &str, base_dir: &Path) -> Result<Scenario, ScenarioError> {
        validate::build(text, base_dir, &base_dir.join("<inline scenario>"))
    }

    /// The VM with this name, if any.
    pub fn vm(&self, name: &str) -> Option<&VmSpec> {
        self.vms.iter().find(|vm| vm.name == name)
    }
}
