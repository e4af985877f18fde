//! Alice's approval of one VM (DESIGN §6): the state the VM must stay in for secrets to be released.
//! This file is the plain record; the canonical encoding is in [`canonical`](mod@canonical), Ed25519
//! signing in [`signing`](mod@signing), and proposals built from live evidence in
//! [`proposal`](mod@proposal).

pub mod canonical;
pub mod proposal;
pub mod signing;
pub mod user_data;

pub use signing::{SignatureError, sign, verify};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The PCR values a quote must show: bank hash algorithm and index to expected digest (hex).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrPolicy {
    /// TPM_ALG_ID of the bank; 0x000B (SHA-256) by default.
    pub hash_alg: u16,
    pub pcrs: BTreeMap<u32, String>,
}

/// A secret as stored with an approval: never plaintext (sealed to the TPM or encrypted to the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSecret {
    pub name: String,
    /// `RAW`, `TPM` or `TINK`: the type the client receives.
    pub secret_type: String,
    /// How `data` is protected: `tpm-envelope`, `tpm-import-blob` or `hpke-x25519`.
    pub protection: String,
    /// The protected bytes, base64.
    pub data: String,
    /// Plaintext length in bytes, for the console.
    pub plaintext_len: u64,
}

/// A signed approval record (signature fields are filled by the console on signing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub instance_id: String,
    pub instance_name: String,
    pub project: String,
    pub zone: String,
    pub service_account: String,
    /// SHA-256 of the approved `user-data`, base64 of the raw digest (as the original logs it).
    pub user_data_sha256: String,
    /// Instance fingerprint at approval time (canonical base64).
    pub fingerprint: String,
    /// Boot images accepted; empty means the settings' default set.
    pub boot_images: Vec<String>,
    /// Metadata keys allowed on the instance besides `user-data`.
    pub allowed_metadata_keys: BTreeSet<String>,
    pub peer_address: Option<String>,
    pub client_cert_serial: Option<String>,
    pub require_confidential: bool,
    pub require_tpm: bool,
    /// `auditlog.data_access` fails (instead of being skipped) unless the VM's Data Access audit
    /// log is readable. Signed only when true, so approvals made before the field verify unchanged.
    #[serde(default)]
    pub require_data_access: bool,
    pub pcr_policy: Option<PcrPolicy>,
    /// EK public key (PEM) from the shielded identity at approval time.
    pub ek_public_pem: Option<String>,
    pub secrets: Vec<StoredSecret>,
    /// Identifier of the approver's key (e.g. `alice@example.com` or key fingerprint).
    pub approver: String,
    pub approved_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Increases by one on each write; concurrent writers race on it.
    pub revision: u64,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    /// Why Alice approved although checks failed (`tokendist approve --force --reason`), e.g. with no
    /// trusted cloud-config template; signed (canonical encoding v2) so it cannot be removed or edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_reason: Option<String>,
    /// The user-data text approved, kept so the console can diff the live text against it. Not
    /// signed itself: its SHA-256 is (`user_data_sha256`), so readers verify it against that hash
    /// before use ([`Approval::verified_user_data`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_user_data: Option<String>,
    /// Ed25519 signature over the canonical encoding, base64; empty when unsigned.
    pub signature: String,
}
