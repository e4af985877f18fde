//! What a release derives from an approval record and keeps while the record is unchanged: the
//! `approval.signature` result (verified once per revision) and the secrets opened from it (HPKE
//! once per revision), zeroized when dropped. Entries are keyed by instance id and checked against
//! the SHA-256 of the whole record as read from the store on every release, and against the
//! settings in force (a reload brings new keys): any change — a new revision, a revocation, a
//! re-signature, a tampered field — misses and replaces the entry. The cache decides nothing: the
//! approval is still read and every check still runs on every release (a revoked approval fails
//! `approval.state` whatever is cached), and a revoked or vanished approval drops its entry.
//! Bounded: at most [`CAPACITY`] instances; when full, an arbitrary entry makes room.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};
use tokendist_core::approval::Approval;
use tokendist_core::verdict::CheckResult;
use zeroize::Zeroizing;

use crate::state::LiveSettings;

/// Instances remembered at most.
pub const CAPACITY: usize = 10_000;

/// One secret as opened for delivery. Its bytes are zeroized on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct OpenedSecret {
    pub name: String,
    /// `tokendist.v1.SecretType` as i32.
    pub secret_type: i32,
    /// `tokendist.v1.SecretProtection` as i32.
    pub protection: i32,
    pub data: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for OpenedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedSecret")
            .field("name", &self.name)
            .field("secret_type", &self.secret_type)
            .field("protection", &self.protection)
            .field(
                "data",
                &format_args!("<{} bytes redacted>", self.data.len()),
            )
            .finish()
    }
}

/// The SHA-256 of an approval record as read (every field, signature included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordDigest([u8; 32]);

impl RecordDigest {
    /// `None` if the record cannot be encoded (then nothing is cached for it).
    pub fn of(approval: &Approval) -> Option<Self> {
        let encoded = serde_json::to_vec(approval).ok()?;
        Some(Self(Sha256::digest(&encoded).into()))
    }
}

#[derive(Debug)]
struct Entry {
    digest: RecordDigest,
    /// The settings the entry was derived under (held, so the pointer is not reused meanwhile).
    live: Arc<LiveSettings>,
    signature: CheckResult,
    secrets: Option<Arc<Vec<OpenedSecret>>>,
}

/// Per-instance derived approval state; shared by all handlers.
#[derive(Debug, Default)]
pub struct ApprovalCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ApprovalCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn fresh<'a>(
        entries: &'a mut HashMap<String, Entry>,
        approval: &Approval,
        digest: RecordDigest,
        live: &Arc<LiveSettings>,
    ) -> Option<&'a mut Entry> {
        entries
            .get_mut(&approval.instance_id)
            .filter(|entry| entry.digest == digest && Arc::ptr_eq(&entry.live, live))
    }

    /// The `approval.signature` result for this record under `live`: remembered, or `verify`'s
    /// (then remembered, replacing whatever the instance had).
    pub fn signature(
        &self,
        approval: &Approval,
        live: &Arc<LiveSettings>,
        verify: impl FnOnce() -> CheckResult,
    ) -> CheckResult {
        let Some(digest) = RecordDigest::of(approval) else {
            return verify();
        };
        if let Some(entry) = Self::fresh(&mut self.lock(), approval, digest, live) {
            return entry.signature.clone();
        }
        let signature = verify();
        let mut entries = self.lock();
        if entries.len() >= CAPACITY
            && !entries.contains_key(&approval.instance_id)
            && let Some(victim) = entries.keys().next().cloned()
        {
            entries.remove(&victim);
        }
        entries.insert(
            approval.instance_id.clone(),
            Entry {
                digest,
                live: Arc::clone(live),
                signature: signature.clone(),
                secrets: None,
            },
        );
        signature
    }

    /// The opened secrets of this record under `live`: remembered, or `open`'s (remembered only
    /// when the instance's entry is still this record's; failures are never remembered).
    pub fn secrets<E>(
        &self,
        approval: &Approval,
        live: &Arc<LiveSettings>,
        open: impl FnOnce() -> Result<Vec<OpenedSecret>, E>,
    ) -> Result<Arc<Vec<OpenedSecret>>, E> {
        let digest = RecordDigest::of(approval);
        if let Some(digest) = digest
            && let Some(entry) = Self::fresh(&mut self.lock(), approval, digest, live)
            && let Some(secrets) = &entry.secrets
        {
            return Ok(Arc::clone(secrets));
        }
        let secrets = Arc::new(open()?);
        if let Some(digest) = digest
            && let Some(entry) = Self::fresh(&mut self.lock(), approval, digest, live)
        {
            entry.secrets = Some(Arc::clone(&secrets));
        }
        Ok(secrets)
    }

    /// Forgets the instance (its approval was revoked, removed or is unreadable).
    pub fn forget(&self, instance_id: &str) {
        self.lock().remove(instance_id);
    }

    /// How many instances are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
