//! The scenario file exactly as written in TOML (serde types, unknown fields rejected).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    #[serde(default)]
    pub settings: RawSettings,
    #[serde(default, rename = "project")]
    pub projects: Vec<RawProject>,
    #[serde(default, rename = "vm")]
    pub vms: Vec<RawVm>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    pub principal: Option<String>,
    pub jwks_max_age_secs: Option<u64>,
    /// Write a `data_access` entry for every Compute read (as with Data Access audit logs on).
    #[serde(default)]
    pub data_access_reads: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProject {
    pub id: String,
    pub number: u64,
    pub created: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub history: Vec<RawHistory>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShielded {
    #[serde(default = "yes")]
    pub secure_boot: bool,
    #[serde(default = "yes")]
    pub vtpm: bool,
    #[serde(default = "yes")]
    pub integrity_monitoring: bool,
}

impl Default for RawShielded {
    fn default() -> Self {
        RawShielded {
            secure_boot: true,
            vtpm: true,
            integrity_monitoring: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVm {
    pub id: String,
    pub name: String,
    pub project: String,
    pub zone: String,
    pub machine_type: Option<String>,
    pub service_account: String,
    pub service_account_unique_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub created: String,
    pub user_data: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub boot_image: String,
    pub license_codes: Option<Vec<String>>,
    #[serde(default)]
    pub shielded: RawShielded,
    #[serde(default)]
    pub confidential: bool,
    pub internal_ip: String,
    pub nat_ip: Option<String>,
    pub status: Option<String>,
    pub ek_public_key: Option<String>,
    pub ek_cert: Option<String>,
    pub signing_key_public: Option<String>,
    pub signing_key_cert: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub history: Vec<RawHistory>,
    #[serde(default)]
    pub pad_history: u32,
    #[serde(default)]
    pub boot_disk: RawBootDisk,
}

/// `[vm.boot_disk]`: the boot disk's own history (default: created with the VM, never detached).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBootDisk {
    pub created: Option<String>,
    pub last_attach: Option<String>,
    pub last_detach: Option<String>,
    /// Names of other scenario VMs the disk is also attached to now (`users`).
    #[serde(default)]
    pub also_attached_to: Vec<String>,
    /// `gce_disk` audit entries to pre-load.
    #[serde(default)]
    pub history: Vec<RawHistory>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHistory {
    pub method: String,
    pub time: String,
    pub principal: Option<String>,
    pub log: Option<String>,
    pub request: Option<toml::Table>,
}
