//! An unsigned approval proposed from a VM's live evidence: what the console pre-fills for Alice and
//! what pending VMs are evaluated against before anyone approves them.

use chrono::{DateTime, Utc};

use super::Approval;
use crate::cloudconfig::user_data_sha256_b64;
use crate::evidence::InstanceEvidence;
use crate::identity::IdentityClaims;
use crate::metadata_keys::{KeyClass, classify_instance_key};

impl Approval {
    /// An unsigned approval of the VM `instance_id` (`project`/`zone`/`instance_name`) that pins
    /// nothing yet: no service account, user-data hash, fingerprint, boot images or metadata keys; TPM
    /// required, confidential computing not. The proposals below fill in what they know.
    pub fn unpinned(
        instance_id: &str,
        instance_name: &str,
        project: &str,
        zone: &str,
        approver: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            instance_id: instance_id.to_owned(),
            instance_name: instance_name.to_owned(),
            project: project.to_owned(),
            zone: zone.to_owned(),
            service_account: String::new(),
            user_data_sha256: String::new(),
            fingerprint: String::new(),
            // Empty: the settings' approved image set applies, so an unexpected image shows as a failure.
            boot_images: Vec::new(),
            allowed_metadata_keys: Default::default(),
            peer_address: None,
            client_cert_serial: None,
            require_confidential: false,
            require_tpm: true,
            require_data_access: false,
            pcr_policy: None,
            ek_public_pem: None,
            secrets: Vec::new(),
            approver: approver.to_owned(),
            approved_at: now,
            expires_at: None,
            revision: 0,
            revoked_at: None,
            revoke_reason: None,
            forced_reason: None,
            approved_user_data: None,
            signature: String::new(),
        }
    }

    /// An unsigned approval pinning the VM exactly as it is now: its ids, service account, user-data
    /// hash, fingerprint and metadata keys (minus `always_allowed` ones, and minus keys that run code or
    /// open access, which are never approvable: see [`crate::metadata_keys`]). Boot images stay empty, so
    /// the settings' approved set applies (the console may pin the boot disk's image before signing). TPM is
    /// required, confidential computing when it is on; the caller adjusts before signing.
    pub fn proposed_from(
        instance: &InstanceEvidence,
        always_allowed: &std::collections::BTreeSet<String>,
        approver: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            service_account: instance
                .service_accounts
                .first()
                .cloned()
                .unwrap_or_default(),
            user_data_sha256: instance
                .metadata
                .get("user-data")
                .map(|text| user_data_sha256_b64(text))
                .unwrap_or_default(),
            approved_user_data: instance.metadata.get("user-data").cloned(),
            fingerprint: instance.fingerprint.clone(),
            // Keys that run code or open access are never copied: `instance.metadata` fails on them.
            allowed_metadata_keys: instance
                .metadata
                .iter()
                .filter(|(key, _)| !always_allowed.contains(*key))
                .filter(|(key, value)| {
                    !matches!(classify_instance_key(key, value), KeyClass::Dangerous(_))
                })
                .map(|(key, _)| key.clone())
                .collect(),
            require_confidential: instance.confidential_compute,
            ..Self::unpinned(
                &instance.instance_id,
                &instance.name,
                &instance.project,
                &instance.zone,
                approver,
                now,
            )
        }
    }

    /// A proposal when only the identity token is known (the Compute API could not be read): ids and
    /// service account from the token; everything else empty, so the instance checks fail.
    pub fn proposed_from_claims(
        claims: &IdentityClaims,
        approver: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let gce = &claims.compute_engine;
        Self {
            service_account: claims.email.clone().unwrap_or_default(),
            require_confidential: gce.instance_confidentiality == Some(1),
            ..Self::unpinned(
                &gce.instance_id,
                &gce.instance_name,
                &gce.project_id,
                &gce.zone,
                approver,
                now,
            )
        }
    }
}
