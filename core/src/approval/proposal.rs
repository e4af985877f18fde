//! An unsigned approval proposed from a VM's live evidence: what the console pre-fills for Alice and
//! what pending VMs are evaluated against before anyone approves them.

use chrono::{DateTime, Utc};

use super::Approval;
use crate::cloudconfig::user_data_sha256_b64;
use crate::evidence::InstanceEvidence;
use crate::identity::IdentityClaims;
use crate::metadata_keys::{KeyClass, classify_instance_key};

impl Approval {
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
            instance_id: instance.instance_id.clone(),
            instance_name: instance.name.clone(),
            project: instance.project.clone(),
            zone: instance.zone.clone(),
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
            fingerprint: instance.fingerprint.clone(),
            // Empty: the settings' approved image set applies, so an unexpected image shows as a failure.
            boot_images: Vec::new(),
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
            peer_address: None,
            client_cert_serial: None,
            require_confidential: instance.confidential_compute,
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
            signature: String::new(),
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
            instance_id: gce.instance_id.clone(),
            instance_name: gce.instance_name.clone(),
            project: gce.project_id.clone(),
            zone: gce.zone.clone(),
            service_account: claims.email.clone().unwrap_or_default(),
            user_data_sha256: String::new(),
            fingerprint: String::new(),
            boot_images: Vec::new(),
            allowed_metadata_keys: Default::default(),
            peer_address: None,
            client_cert_serial: None,
            require_confidential: gce.instance_confidentiality == Some(1),
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
            signature: String::new(),
        }
    }
}
