//! The audit watch's state for one project (DESIGN §6 `watch`) and the pure logic that keeps it:
//! every approved VM's failing audit entries (judged by [`classify`], the very judgement
//! `auditlog.clean` and `instance.boot_disk` make, with the same method tables), its newest Data
//! Access entry, the watermark the next reconciliation reads from, and when the state was last
//! reconciled. Applying entries is idempotent (entries are kept by `insert_id` and log), so a
//! Pub/Sub redelivery, an overlapping reconciliation window or two replicas applying the same entry
//! change nothing twice. A *denied* method after the approval is reported as a [`Denial`]: the
//! server revokes the approval for it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{AuditEntry, AuditMethods, AuditScope, Classification, Relation, classify, relation};
use crate::evidence::DataAccessEvidence;

/// The watch's state of one project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchState {
    pub project: String,
    /// Compare-and-set revision (the store sets it on every write).
    #[serde(default)]
    pub revision: u64,
    /// Entries from here on (less the overlap) are read by the next reconciliation.
    #[serde(default)]
    pub watermark: Option<DateTime<Utc>>,
    /// When the last reconciliation finished: the state's age for releases.
    #[serde(default)]
    pub last_reconciled: Option<DateTime<Utc>>,
    /// Approved VMs of the project by instance id.
    #[serde(default)]
    pub instances: BTreeMap<String, InstanceWatch>,
}

/// What the watch knows of one approved VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceWatch {
    pub instance_name: String,
    pub boot_disk_id: Option<String>,
    pub boot_disk_name: Option<String>,
    /// When the approval being watched was made: denied entries from then on revoke it.
    pub approved_at: DateTime<Utc>,
    /// When the VM's history before the watch was read; `None`: not yet (releases read directly).
    pub baseline_at: Option<DateTime<Utc>>,
    /// Entries that fail `auditlog.clean` / `instance.boot_disk` for this VM, oldest first.
    #[serde(default)]
    pub failing: Vec<AuditEntry>,
    #[serde(default)]
    pub data_access: DataAccessEvidence,
}

impl InstanceWatch {
    fn scope<'a>(&'a self, instance_id: &'a str) -> AuditScope<'a> {
        AuditScope {
            instance_id,
            instance_name: &self.instance_name,
            boot_disk_id: self.boot_disk_id.as_deref(),
            boot_disk_name: self.boot_disk_name.as_deref(),
        }
    }
}

/// A denied method on an approved VM, its boot disk or its project, after the approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    pub instance_id: String,
    pub entry: AuditEntry,
    /// The classification's operator-safe reason (method, place, time, principal, why).
    pub reason: String,
}

/// The audit evidence of one VM as the watch holds it, for a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvidence {
    pub failing: Vec<AuditEntry>,
    pub data_access: DataAccessEvidence,
}

impl WatchState {
    pub fn new(project: impl Into<String>) -> Self {
        WatchState {
            project: project.into(),
            ..WatchState::default()
        }
    }

    /// The VM's audit evidence if the state was reconciled within `bound` of `now` and the VM's
    /// baseline was read; otherwise `None` (the release reads the log directly).
    pub fn evidence_for(
        &self,
        instance_id: &str,
        now: DateTime<Utc>,
        bound: Duration,
    ) -> Option<WatchedEvidence> {
        let reconciled = self.last_reconciled?;
        if reconciled > now || now - reconciled > bound {
            return None;
        }
        let watched = self.instances.get(instance_id)?;
        watched.baseline_at?;
        Some(WatchedEvidence {
            failing: watched.failing.clone(),
            data_access: watched.data_access.clone(),
        })
    }

    /// Applies entries (from Pub/Sub or a reconciliation) to every watched VM; returns the denials
    /// they newly caused. Idempotent.
    pub fn apply(&mut self, entries: &[AuditEntry], methods: &AuditMethods) -> Vec<Denial> {
        let mut denials = Vec::new();
        for entry in entries {
            for (instance_id, watched) in &mut self.instances {
                if let Some(denial) = judge(instance_id, watched, entry, methods) {
                    denials.push(denial);
                }
            }
        }
        denials
    }

    /// Records the baseline of one VM: its whole history before the watch (the direct read), with
    /// its boot disk. Returns the denials after the approval that the history holds.
    pub fn set_baseline(
        &mut self,
        instance_id: &str,
        mut watched: InstanceWatch,
        history: &[AuditEntry],
        methods: &AuditMethods,
        at: DateTime<Utc>,
    ) -> Vec<Denial> {
        if let Some(previous) = self.instances.get(instance_id) {
            watched.failing = previous.failing.clone();
            if previous.data_access.newest_entry > watched.data_access.newest_entry {
                watched.data_access = previous.data_access.clone();
            }
        }
        watched.baseline_at = Some(at);
        let denials = history
            .iter()
            .filter_map(|entry| judge(instance_id, &mut watched, entry, methods))
            .collect();
        self.instances.insert(instance_id.to_owned(), watched);
        denials
    }

    /// Keeps only the VMs in `approved` (instance id → approval time), adding new ones without a
    /// baseline; a VM approved anew (a later approval time) starts over.
    pub fn track(&mut self, approved: &BTreeMap<String, (String, DateTime<Utc>)>) {
        self.instances.retain(|id, watched| {
            approved
                .get(id)
                .is_some_and(|(_, at)| *at == watched.approved_at)
        });
        for (id, (name, at)) in approved {
            self.instances
                .entry(id.clone())
                .or_insert_with(|| InstanceWatch {
                    instance_name: name.clone(),
                    approved_at: *at,
                    ..InstanceWatch::default()
                });
        }
    }

    /// VMs whose baseline is still to be read.
    pub fn without_baseline(&self) -> Vec<(String, String)> {
        self.instances
            .iter()
            .filter(|(_, w)| w.baseline_at.is_none())
            .map(|(id, w)| (id.clone(), w.instance_name.clone()))
            .collect()
    }

    /// Where the next reconciliation starts reading: the watermark less `overlap` (late entries),
    /// or, before the first one, `now` less `overlap` (baselines cover what came before).
    pub fn read_from(&self, now: DateTime<Utc>, overlap: Duration) -> DateTime<Utc> {
        self.watermark.unwrap_or(now) - overlap
    }

    /// Merges another replica's concurrent view into this one (after a lost compare-and-set):
    /// the union of failing entries, the newer baselines, watermarks and reconciliation times.
    pub fn merge(&mut self, other: &WatchState, methods: &AuditMethods) {
        for (id, theirs) in &other.instances {
            match self.instances.get_mut(id) {
                Some(ours) if ours.approved_at == theirs.approved_at => {
                    if ours.baseline_at.is_none() {
                        ours.baseline_at = theirs.baseline_at;
                        ours.boot_disk_id.clone_from(&theirs.boot_disk_id);
                        ours.boot_disk_name.clone_from(&theirs.boot_disk_name);
                    }
                    for entry in &theirs.failing {
                        let _ = judge(id, ours, entry, methods);
                    }
                    if theirs.data_access.newest_entry > ours.data_access.newest_entry {
                        ours.data_access = theirs.data_access.clone();
                    }
                }
                Some(_) => {}
                None => {
                    self.instances.insert(id.clone(), theirs.clone());
                }
            }
        }
        self.watermark = self.watermark.max(other.watermark);
        self.last_reconciled = self.last_reconciled.max(other.last_reconciled);
    }
}

/// Judges one entry for one VM: keeps it if it fails (once), tracks Data Access, and returns a
/// denial when the method is denied and the entry is new and not older than the approval.
fn judge(
    instance_id: &str,
    watched: &mut InstanceWatch,
    entry: &AuditEntry,
    methods: &AuditMethods,
) -> Option<Denial> {
    let (related, classification) = {
        let scope = watched.scope(instance_id);
        (relation(entry, &scope), classify(entry, methods, &scope))
    };
    if related == Relation::Instance
        && entry.log_name.ends_with("data_access")
        && watched.data_access.newest_entry < Some(entry.timestamp)
    {
        watched.data_access = DataAccessEvidence {
            newest_entry: Some(entry.timestamp),
            newest_method: Some(entry.method_name.clone()),
        };
    }
    if !classification.fails() {
        return None;
    }
    let known = watched
        .failing
        .iter()
        .any(|e| e.insert_id == entry.insert_id && e.log_name == entry.log_name);
    if known {
        return None;
    }
    let position = watched
        .failing
        .partition_point(|e| e.timestamp <= entry.timestamp);
    watched.failing.insert(position, entry.clone());
    match classification {
        Classification::Denied { reason } if entry.timestamp >= watched.approved_at => {
            Some(Denial {
                instance_id: instance_id.to_owned(),
                entry: entry.clone(),
                reason,
            })
        }
        _ => None,
    }
}
