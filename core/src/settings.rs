//! Alice's policy settings (serde, every field defaulted): the audience, freshness window, approved
//! boot images, trusted container digests, the audit-log method allow/deny table, the fingerprint
//! policy, metadata keys that are always allowed, the trusted approver keys, and the boot-disk and
//! Data Access options. Loaded by the daemons from TOML.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::auditlog::AuditMethods;
use crate::cloudconfig::{TemplateError, TemplateSettings};
use crate::identity::IdentityExpectations;
use crate::identity::verify::{DEFAULT_CLOCK_SKEW_SECS, DEFAULT_IAT_WINDOW_SECS};

/// How `instance.fingerprint` treats a live fingerprint that differs from the approved one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerprintPolicy {
    /// Any difference fails (the fingerprint also changes on stop/start).
    #[default]
    Exact,
    /// A difference passes only if the audit log shows instance events after the approval and none of
    /// them is denied (so a stop/start is fine, a `setMetadata` is not).
    AuditedChangesOnly,
}

/// Default of [`Settings::boot_disk_created_within_secs`]: the real gap is milliseconds; ten seconds
/// leave room for a slow insert, never for creating, attaching elsewhere and detaching a disk.
pub const DEFAULT_BOOT_DISK_CREATED_WITHIN_SECS: u64 = 10;

/// The old `deny_list` setting: reading it is an error that names its replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetiredDenyList;

impl<'de> Deserialize<'de> for RetiredDenyList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Err(serde::de::Error::custom(
            "`deny_list` was replaced by `audit_methods`, an allow-list: `[policy.audit_methods.allow]` and `[policy.audit_methods.deny]` map method names to the reason shown; methods in neither fail as unknown (see dist/tokenserver.toml)",
        ))
    }
}

/// The policy settings shared by the server and the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The audience identity tokens must carry (`aud`).
    pub audience: String,
    /// Maximum identity-token age in seconds.
    pub iat_window_secs: u64,
    /// Tolerated clock difference with Google, in seconds.
    pub clock_skew_secs: u64,
    /// Boot images accepted when an approval lists none: `projects/PROJECT/` or a longer prefix such as
    /// `projects/cos-cloud/global/images/cos-stable-`. Full API URLs of images match too.
    pub approved_boot_image_prefixes: Vec<String>,
    /// Container image digests Alice trusts, `sha256:<64 hex>`.
    pub trusted_container_digests: BTreeSet<String>,
    /// Audit-logged methods: harmless ones pass, denied ones fail with their reason, any other
    /// method fails as unknown (`auditlog.clean`, `instance.boot_disk`).
    pub audit_methods: AuditMethods,
    /// The retired deny-list: present only so that a configuration still using it gets an error
    /// naming its replacement ([`Settings::audit_methods`]).
    #[serde(skip_serializing)]
    pub deny_list: Option<RetiredDenyList>,
    /// How far apart the boot disk's and its instance's `creationTimestamp` may be for the disk to
    /// count as created with the instance (`instance.boot_disk`). Google writes them milliseconds
    /// apart when `instances.insert` creates the disk (7 ms in the fixtures).
    pub boot_disk_created_within_secs: u64,
    /// When true, `auditlog.data_access` fails (instead of being skipped) unless Data Access audit
    /// entries of the VM are readable.
    pub require_data_access: bool,
    pub fingerprint_policy: FingerprintPolicy,
    /// Metadata keys allowed on every approved VM besides the approval's own list.
    pub always_allowed_metadata_keys: BTreeSet<String>,
    /// Ed25519 public keys of the approvers, standard base64 of the 32 raw bytes.
    pub trusted_approver_keys: Vec<String>,
    /// Alice's trusted cloud-config template and its holes (`cloudconfig.template`); none means the
    /// check fails and approving needs `--force --reason`.
    pub cloud_config_template: Option<TemplateSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            audience: "https://tokenserver".to_owned(),
            iat_window_secs: DEFAULT_IAT_WINDOW_SECS,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            approved_boot_image_prefixes: vec![
                "projects/cos-cloud/".to_owned(),
                "projects/confidential-vm-images/".to_owned(),
            ],
            trusted_container_digests: BTreeSet::new(),
            audit_methods: AuditMethods::default(),
            deny_list: None,
            boot_disk_created_within_secs: DEFAULT_BOOT_DISK_CREATED_WITHIN_SECS,
            require_data_access: false,
            fingerprint_policy: FingerprintPolicy::default(),
            always_allowed_metadata_keys: [
                "user-data",
                "block-project-ssh-keys",
                "google-logging-enabled",
                "google-monitoring-enabled",
                "cos-update-strategy",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            trusted_approver_keys: Vec::new(),
            cloud_config_template: None,
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "trusted approver key #{index} is not standard base64 of a 32-byte Ed25519 public key: {reason}; use the public key printed by `tokendist keygen`"
    )]
    BadApproverKey { index: usize, reason: String },
    #[error("boot image prefix {prefix:?} must start with `projects/<project>/`")]
    BadImagePrefix { prefix: String },
    #[error(
        "trusted container digest {digest:?} must be `sha256:` followed by 64 lower-case hex digits"
    )]
    BadDigest { digest: String },
    #[error("audience is empty; set it to the URL clients request identity tokens for")]
    EmptyAudience,
    #[error("cloud_config_template: {0}")]
    Template(#[from] TemplateError),
    #[error("{0}")]
    AuditMethods(String),
}

impl Settings {
    /// Checks every field that has a format, so a daemon can refuse bad configuration at start-up.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.audience.trim().is_empty() {
            return Err(SettingsError::EmptyAudience);
        }
        self.approver_keys()?;
        self.audit_methods
            .validate()
            .map_err(SettingsError::AuditMethods)?;
        for prefix in &self.approved_boot_image_prefixes {
            if crate::boot_image::image_prefix_project(prefix).is_none() {
                return Err(SettingsError::BadImagePrefix {
                    prefix: prefix.clone(),
                });
            }
        }
        for digest in &self.trusted_container_digests {
            if !crate::cloudconfig::is_sha256_digest(digest) {
                return Err(SettingsError::BadDigest {
                    digest: digest.clone(),
                });
            }
        }
        if let Some(template) = &self.cloud_config_template {
            template.validate()?;
        }
        Ok(())
    }

    /// The trusted approver keys, decoded.
    pub fn approver_keys(&self) -> Result<Vec<VerifyingKey>, SettingsError> {
        self.trusted_approver_keys
            .iter()
            .enumerate()
            .map(|(index, text)| {
                decode_verifying_key(text)
                    .map_err(|reason| SettingsError::BadApproverKey { index, reason })
            })
            .collect()
    }

    /// What `identity::verify` must check, for a session whose challenge was issued at `challenge`.
    pub fn identity_expectations(
        &self,
        challenge: Option<chrono::DateTime<chrono::Utc>>,
    ) -> IdentityExpectations {
        IdentityExpectations {
            audience: self.audience.clone(),
            iat_window_secs: self.iat_window_secs,
            clock_skew_secs: self.clock_skew_secs,
            challenge_issued_at: challenge,
        }
    }
}

/// Decodes an Ed25519 public key from standard base64 of its 32 raw bytes.
pub fn decode_verifying_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = STANDARD.decode(text.trim()).map_err(|e| e.to_string())?;
    let array: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("decodes to {} bytes, not 32", bytes.len()))?;
    VerifyingKey::from_bytes(&array).map_err(|e| e.to_string())
}

/// Encodes an Ed25519 public key the way [`Settings::trusted_approver_keys`] expects it.
pub fn encode_verifying_key(key: &VerifyingKey) -> String {
    STANDARD.encode(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_validate_and_allow_the_documented_metadata_keys() {
        let settings = Settings::default();
        assert_eq!(settings.validate(), Ok(()));
        assert!(
            settings
                .always_allowed_metadata_keys
                .contains("block-project-ssh-keys")
        );
        assert_eq!(settings.iat_window_secs, 60);
    }

    #[test]
    fn settings_parse_from_partial_json_with_defaults() {
        let settings: Settings = serde_json::from_str(
            r#"{"audience":"https://alice.example","fingerprint_policy":"audited_changes_only"}"#,
        )
        .unwrap();
        assert_eq!(settings.audience, "https://alice.example");
        assert_eq!(
            settings.fingerprint_policy,
            FingerprintPolicy::AuditedChangesOnly
        );
        assert_eq!(settings.approved_boot_image_prefixes.len(), 2);
    }

    #[test]
    fn unknown_settings_field_is_an_error() {
        let err = serde_json::from_str::<Settings>(r#"{"audiance":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("audiance"), "{err}");
    }

    #[test]
    fn the_retired_deny_list_names_its_replacement() {
        let err = serde_json::from_str::<Settings>(
            r#"{"deny_list":{"instance_methods":["compute.instances.stop"]}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("audit_methods"), "{err}");
    }

    #[test]
    fn a_configured_allow_table_replaces_the_default_and_keeps_the_deny_table() {
        let settings: Settings = serde_json::from_str(
            r#"{"audit_methods":{"allow":{"compute.instances.get":"read","compute.instances.getShieldedInstanceIdentity":"read","compute.disks.get":"read","compute.projects.get":"read","compute.images.get":"read"}}}"#,
        )
        .unwrap();
        assert_eq!(settings.validate(), Ok(()));
        assert_eq!(settings.audit_methods.configured().allow.len(), 5);
        assert_eq!(
            settings.audit_methods.configured().deny,
            AuditMethods::default().configured().deny
        );
    }

    #[test]
    fn bad_approver_key_is_reported_with_its_index() {
        let settings = Settings {
            trusted_approver_keys: vec!["AAAA".to_owned()],
            ..Settings::default()
        };
        assert!(matches!(
            settings.validate(),
            Err(SettingsError::BadApproverKey { index: 0, .. })
        ));
    }

    #[test]
    fn bad_digest_and_prefix_are_rejected() {
        let mut settings = Settings::default();
        settings
            .trusted_container_digests
            .insert("sha256:abc".to_owned());
        assert!(matches!(
            settings.validate(),
            Err(SettingsError::BadDigest { .. })
        ));
        let settings = Settings {
            approved_boot_image_prefixes: vec!["cos-cloud".to_owned()],
            ..Settings::default()
        };
        assert!(matches!(
            settings.validate(),
            Err(SettingsError::BadImagePrefix { .. })
        ));
    }
}
