//! What the server and the console know about a VM at decision time: the live Compute state, the boot
//! disk, the shielded identity, the audit log, the caller's transport and what the server verified in
//! the caller's TPM session. Built by `tokendist-gcp` (and the server for the transport and TPM parts);
//! consumed by `policy::evaluate`. Plain data, no I/O.
//!
//! Every fetched part is a [`Fetched`]: an API error is carried into the checks, which fail closed.
//! The project's common instance metadata is one of the parts ([`ProjectEvidence`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auditlog::AuditEntry;
use crate::identity::IdentityClaims;

/// Why a piece of evidence could not be fetched. The checks that need it fail with this reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{api} {kind}: {message}")]
pub struct FetchError {
    /// Which API, e.g. `compute.instances.get`.
    pub api: String,
    pub kind: FetchErrorKind,
    /// Operator-safe detail (HTTP status, Google's error reason).
    pub message: String,
}

/// Classifies a fetch failure; `Unavailable` maps to gRPC `UNAVAILABLE` (retry), the rest deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchErrorKind {
    /// 5xx, timeouts, connection failures: the dependency is down.
    Unavailable,
    /// 404: the resource does not exist (any more).
    NotFound,
    /// 401/403: Alice lacks read access to Bob's resource.
    PermissionDenied,
    /// The response could not be understood.
    Malformed,
}

impl std::fmt::Display for FetchErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unavailable => "unavailable",
            Self::NotFound => "not found",
            Self::PermissionDenied => "permission denied",
            Self::Malformed => "malformed response",
        })
    }
}

/// A piece of evidence or the reason it is missing.
pub type Fetched<T> = Result<T, FetchError>;

/// Shielded VM options as the Compute API reports them (`shieldedInstanceConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShieldedConfig {
    pub secure_boot: bool,
    pub vtpm: bool,
    pub integrity_monitoring: bool,
}

/// `compute.instances.get`, reduced to what the checks and the console use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceEvidence {
    /// Numeric instance id, as a decimal string (ids exceed 2^53).
    pub instance_id: String,
    pub name: String,
    pub project: String,
    /// Short zone name, e.g. `us-central1-a`.
    pub zone: String,
    /// `RUNNING`, `TERMINATED`, ...
    pub status: String,
    pub creation_timestamp: DateTime<Utc>,
    /// Instance `fingerprint`, canonical base64 as the API serves it.
    pub fingerprint: String,
    /// `metadata.fingerprint`, canonical base64.
    pub metadata_fingerprint: String,
    /// `metadata.items`, key to value (includes `user-data`).
    pub metadata: BTreeMap<String, String>,
    /// `serviceAccounts[].email`.
    pub service_accounts: Vec<String>,
    /// `networkInterfaces[].networkIP`.
    pub internal_ips: Vec<String>,
    /// `networkInterfaces[].accessConfigs[].natIP`.
    pub nat_ips: Vec<String>,
    /// Full URL of the boot disk (`disks[boot=true].source`), if any.
    pub boot_disk_source: Option<String>,
    /// Short machine type, e.g. `e2-small`.
    pub machine_type: String,
    pub cpu_platform: Option<String>,
    pub shielded: ShieldedConfig,
    /// `confidentialInstanceConfig.enableConfidentialCompute`.
    pub confidential_compute: bool,
}

/// `compute.disks.get` for the boot disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskEvidence {
    pub name: String,
    /// Full or partial image URL the disk was created from.
    pub source_image: Option<String>,
    pub source_image_id: Option<String>,
    pub licenses: Vec<String>,
    /// Numeric disk id, decimal (`resource.labels.disk_id` of its audit entries).
    #[serde(default)]
    pub disk_id: Option<String>,
    /// `creationTimestamp`: when the disk was created (with its instance, or before it).
    #[serde(default)]
    pub creation_timestamp: Option<DateTime<Utc>>,
    /// `users`: full URLs of the instances the disk is attached to now.
    #[serde(default)]
    pub users: Vec<String>,
    /// `lastAttachTimestamp`.
    #[serde(default)]
    pub last_attach_timestamp: Option<DateTime<Utc>>,
    /// `lastDetachTimestamp`: present once the disk was ever detached from an instance.
    #[serde(default)]
    pub last_detach_timestamp: Option<DateTime<Utc>>,
}

/// Whether the project's Data Access audit log for the instance can be read and has entries
/// (`auditlog.data_access`): the newest `data_access` entry of the instance since its creation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataAccessEvidence {
    /// When the newest Data Access entry of the instance was written; `None`: the log read
    /// succeeded but holds no entry (Data Access logs are off, or Alice cannot see them).
    pub newest_entry: Option<DateTime<Utc>>,
    /// That entry's method, for the console.
    pub newest_method: Option<String>,
}

fn not_gathered_data_access() -> Fetched<DataAccessEvidence> {
    Err(FetchError {
        api: "logging.entries.list".to_owned(),
        kind: FetchErrorKind::Malformed,
        message: "the Data Access log was not read for this evidence".to_owned(),
    })
}

/// `compute.projects.get` of the VM's project, reduced to its `commonInstanceMetadata`: keys every VM of
/// the project reads besides its own (a project `startup-script` runs on each of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectEvidence {
    /// Project id (`name`).
    pub project: String,
    /// Project number (`id`), as a decimal string.
    pub project_number: Option<String>,
    /// `commonInstanceMetadata.fingerprint`, canonical base64.
    pub metadata_fingerprint: String,
    /// `commonInstanceMetadata.items`, key to value.
    pub metadata: BTreeMap<String, String>,
}

/// `compute.instances.getShieldedInstanceIdentity`: Google's record of the VM's vTPM keys (PEM).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShieldedIdentity {
    pub ek_pub_pem: Option<String>,
    pub ek_cert_pem: Option<String>,
    pub ak_pub_pem: Option<String>,
    pub ak_cert_pem: Option<String>,
}

/// The caller's transport, as the server saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerEvidence {
    /// TCP peer address (IP only).
    pub address: Option<String>,
    /// Serial of the mTLS client certificate, lower-case hex, when mTLS was used.
    pub client_cert_serial: Option<String>,
}

/// Where the server checked the EK a session used (the `tpm.ek` source rules, DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EkSource {
    /// Equal to the EK in the Compute API's shielded instance identity, fetched live at `Attest`.
    ShieldedIdentity,
    /// The client's EK certificate chained to one of the server's configured EK CA roots.
    EkCertificate,
}

impl std::fmt::Display for EkSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ShieldedIdentity => "shielded instance identity",
            Self::EkCertificate => "EK certificate",
        })
    }
}

/// A quote the server verified (signature by the session's AK, extraData equal to `nonce`, PCR
/// digest equal to `pcr_values`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedQuoteEvidence {
    /// The nonce the quote covered, hex.
    pub nonce: String,
    /// TPM_ALG_ID of the quoted PCR bank (0x000B = SHA-256).
    pub pcr_hash_alg: u16,
    /// Quoted PCR index to digest, lower-case hex.
    pub pcr_values: BTreeMap<u32, String>,
}

/// What the server verified in the caller's attestation session (`Attest` + `ProveAttestation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmEvidence {
    pub session_id: String,
    /// The session's challenge nonce, hex.
    pub session_nonce: String,
    /// The EK public key the session used, SPKI "PUBLIC KEY" PEM.
    pub ek_public_pem: String,
    pub ek_source: EkSource,
    /// The AK public area (TPM2B_PUBLIC), base64: `tpm.ak` re-checks its template.
    pub ak_public: String,
    /// Whether the client returned the MakeCredential secret (ActivateCredential by the TPM holding
    /// the EK, for this AK's Name).
    pub credential_activated: bool,
    /// The verified quote, when the session got that far.
    pub quote: Option<VerifiedQuoteEvidence>,
    /// When the session's attestation was verified.
    pub verified_at: DateTime<Utc>,
}

/// Everything `policy::evaluate` looks at for one decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The verified identity token, or why it failed verification (see `identity::verify`).
    pub identity: Result<IdentityClaims, crate::identity::IdentityError>,
    pub instance: Fetched<InstanceEvidence>,
    pub boot_disk: Fetched<DiskEvidence>,
    /// The project's common instance metadata. Evidence recorded before it was gathered deserialises
    /// with a fetch error here, so `instance.project_metadata` fails closed on it.
    #[serde(default = "project_not_recorded")]
    pub project: Fetched<ProjectEvidence>,
    /// Audit-log entries since the instance's creation (instance-scoped and project metadata changes)
    /// and since its boot disk's creation (`gce_disk` entries, and copies made from the disk).
    pub audit_log: Fetched<Vec<AuditEntry>>,
    /// Whether Data Access audit entries of the instance are readable (`auditlog.data_access`).
    #[serde(default = "not_gathered_data_access")]
    pub data_access: Fetched<DataAccessEvidence>,
    pub peer: PeerEvidence,
    /// The caller's verified TPM session, if it presented one (`tpm.*` fail closed without it when
    /// the approval requires a TPM).
    #[serde(default)]
    pub tpm: Option<TpmEvidence>,
    /// When the evidence was gathered (the decision's clock).
    pub gathered_at: DateTime<Utc>,
}

fn project_not_recorded() -> Fetched<ProjectEvidence> {
    Err(FetchError {
        api: "compute.projects.get".to_owned(),
        kind: FetchErrorKind::Malformed,
        message: "the project's metadata is not part of this evidence record".to_owned(),
    })
}
