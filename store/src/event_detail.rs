//! The typed detail of an audit event ([`EventDetail`]): one variant per [`crate::EventKind`], written
//! by the token server (released, denied, attested) and the console (approved, revoked), read by the
//! console's History without guessing. Never secret material: secrets appear by name, type, size
//! and protection only. A stored detail this build cannot decode (written before details were typed,
//! or by a newer writer) is kept as [`EventDetail::Unrecognized`] so listing events never fails on it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokendist_core::approval::{PcrPolicy, StoredSecret};
use tokendist_core::evidence::EkSource;

use crate::records::{EventKind, FailedCheck};

/// What one event records, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail {
    Approved(ApprovedDetail),
    Revoked(RevokedDetail),
    Released(ReleasedDetail),
    Denied(DeniedDetail),
    Attested(AttestedDetail),
    PendingRemoved(PendingRemovedDetail),
    /// A detail that does not decode as any variant above, kept exactly as it was stored.
    #[serde(untagged)]
    Unrecognized(serde_json::Value),
}

impl EventDetail {
    /// The event kind this detail belongs to (None for an unrecognized detail).
    pub fn kind(&self) -> Option<EventKind> {
        match self {
            EventDetail::Approved(_) => Some(EventKind::Approved),
            EventDetail::Revoked(_) => Some(EventKind::Revoked),
            EventDetail::Released(_) => Some(EventKind::Released),
            EventDetail::Denied(_) => Some(EventKind::Denied),
            EventDetail::Attested(_) => Some(EventKind::Attested),
            EventDetail::PendingRemoved(_) => Some(EventKind::PendingRemoved),
            EventDetail::Unrecognized(_) => None,
        }
    }
}

/// A secret as events show it: everything but the protected bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretDetail {
    pub name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub plaintext_len: u64,
    /// `tpm-envelope` (sealed to the VM's EK) or `hpke-x25519` (encrypted to the server).
    pub protection: String,
}

impl From<&StoredSecret> for SecretDetail {
    fn from(secret: &StoredSecret) -> Self {
        SecretDetail {
            name: secret.name.clone(),
            secret_type: secret.secret_type.clone(),
            plaintext_len: secret.plaintext_len,
            protection: secret.protection.clone(),
        }
    }
}

/// Alice signed an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedDetail {
    pub instance_name: String,
    pub project: String,
    pub zone: String,
    pub revision: u64,
    /// The revision this approval replaced (None: the VM's first approval).
    pub previous_revision: Option<u64>,
    pub require_tpm: bool,
    pub require_data_access: bool,
    #[serde(with = "pcr_keys::policy")]
    pub pcr_policy: Option<PcrPolicy>,
    /// SHA-256 of the EK modulus the secrets are sealed to (None: encrypted to the server).
    pub ek_fingerprint: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub secrets: Vec<SecretDetail>,
    /// Why Alice approved despite failed checks (None: every check passed).
    pub forced_reason: Option<String>,
    pub failed_checks: Vec<String>,
    /// Whether the VM's pending record was removed.
    pub pending_removed: bool,
}

/// An approval was revoked: by Alice, or by the server's audit watch (with the entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedDetail {
    pub instance_name: String,
    pub reason: String,
    pub revision: u64,
    pub previous_revision: u64,
    /// For a revocation by the server's audit watch: the audit entry that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_entry: Option<tokendist_core::auditlog::AuditEntry>,
}

/// The server released secrets (the receipt is the event's `receipt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleasedDetail {
    /// The released secrets' names.
    pub secrets: Vec<String>,
    pub approval_revision: u64,
    pub peer: Option<String>,
    /// The receipt's id (the event id it was issued for).
    pub receipt_id: Option<String>,
}

/// The server denied a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeniedDetail {
    pub failed_checks: Vec<FailedCheck>,
    /// How many checks the server evaluated (the failed ones included).
    pub checks_evaluated: u32,
    pub peer: Option<String>,
}

/// Whose PCR values an attestation was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcrPolicySource {
    /// The approval's signed PCR policy.
    Approval,
    /// No policy yet: the values the VM reported (recorded for Alice's review).
    Reported,
}

/// The server verified a VM's TPM attestation (credential activation and quote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestedDetail {
    pub session_id: String,
    pub ek_source: Option<EkSource>,
    pub pcr_hash_alg: u16,
    /// Quoted PCR index to digest (hex).
    #[serde(with = "pcr_keys::values")]
    pub pcr_values: BTreeMap<u32, String>,
    pub pcr_policy: PcrPolicySource,
}

/// A VM's pending record was removed without an approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRemovedDetail {
    pub reason: Option<String>,
}

/// PCR maps inside a detail. A tagged enum with an untagged fallback is decoded from a buffer, which
/// cannot turn JSON's string keys ("0") back into integers; these read string keys and parse them.
/// The JSON is the same as the plain types'.
mod pcr_keys {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use tokendist_core::approval::PcrPolicy;

    fn parse(map: BTreeMap<String, String>) -> Result<BTreeMap<u32, String>, String> {
        map.into_iter()
            .map(|(index, value)| {
                index
                    .parse::<u32>()
                    .map(|index| (index, value))
                    .map_err(|_| format!("PCR index {index:?} is not a number"))
            })
            .collect()
    }

    pub mod values {
        use super::*;

        pub fn serialize<S: Serializer>(
            values: &BTreeMap<u32, String>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            values.serialize(serializer)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<BTreeMap<u32, String>, D::Error> {
            parse(BTreeMap::deserialize(deserializer)?).map_err(D::Error::custom)
        }
    }

    pub mod policy {
        use super::*;

        #[derive(Deserialize)]
        struct StringKeyed {
            hash_alg: u16,
            pcrs: BTreeMap<String, String>,
        }

        pub fn serialize<S: Serializer>(
            policy: &Option<PcrPolicy>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            policy.serialize(serializer)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<PcrPolicy>, D::Error> {
            Option::<StringKeyed>::deserialize(deserializer)?
                .map(|p| {
                    Ok(PcrPolicy {
                        hash_alg: p.hash_alg,
                        pcrs: parse(p.pcrs).map_err(D::Error::custom)?,
                    })
                })
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_written_before_details_were_typed_is_kept_as_unrecognized() {
        let legacy = serde_json::json!({"failed_checks": [], "peer": "10.0.0.1"});
        let detail: EventDetail = serde_json::from_value(legacy.clone()).unwrap();
        assert_eq!(detail, EventDetail::Unrecognized(legacy.clone()));
        assert_eq!(detail.kind(), None);
        assert_eq!(serde_json::to_value(&detail).unwrap(), legacy);
    }

    #[test]
    fn a_typed_detail_round_trips_with_its_kind_tag() {
        let detail = EventDetail::Revoked(RevokedDetail {
            instance_name: "vm".into(),
            reason: "gone".into(),
            revision: 3,
            previous_revision: 2,
            audit_entry: None,
        });
        let json = serde_json::to_value(&detail).unwrap();
        assert_eq!(json["kind"], "revoked");
        assert_eq!(serde_json::from_value::<EventDetail>(json).unwrap(), detail);
        assert_eq!(detail.kind(), Some(EventKind::Revoked));
    }
}
