//! A soak run's timeline and its accounting, with no I/O: every request a simulated VM sent (when it
//! started and was answered, on the tool's monotonic clock in seconds since the run began, and what
//! came back), every approval or revocation written during the run (when the write started and when
//! the store call returned: committed), and the events found in the store afterwards. From these:
//! **wrong releases** (an OK answer to a VM never approved, answered before its approval was even
//! written, or whose request started after its revocation committed; and any `released` event in
//! the store for a never-approved VM or naming the revoked revision), **lost events** (an
//! acknowledged release whose receipt's event is not in the store, an approval or revocation whose
//! event is not), and **errors** (every failure but a PERMISSION_DENIED to a VM that was not
//! approved over its whole request; a denial of a VM approved throughout counts as
//! `unexpected-PermissionDenied`). The server reads the approval from the store on every
//! `GetToken` (no approval is cached: `daemon-server/src/approval_cache.rs` keeps only derived
//! signature results and opened secrets, keyed by the record's digest), so a revocation is judged
//! with no grace period.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tokendist_store::EventKind;

/// The code of a permission denial, as [`crate::caller::Failure`] names it.
pub const DENIED: &str = "PermissionDenied";
/// How many wrong releases and lost events the report lists by name (all are counted).
const LISTED: usize = 20;

/// What a VM's approval does during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Approved before the run, never revoked.
    Approved,
    /// Unapproved at the start, approved during the run.
    LateApproved,
    /// Approved before the run, revoked during it.
    Revoked,
    /// Never approved.
    Unapproved,
}

/// One simulated VM.
#[derive(Debug, Clone)]
pub struct Vm {
    pub name: String,
    pub instance_id: String,
    pub role: Role,
}

/// What a request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Secrets came back with this receipt event id (empty: no receipt).
    Released { event_id: String },
    /// A failure: its code (`PermissionDenied`, `Unavailable`, `token-fetch`...) and message.
    Failed { code: String, detail: String },
    /// Still unanswered when the run stopped waiting.
    Unfinished,
}

/// One request of one VM.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Index into [`Timeline::vms`].
    pub vm: usize,
    /// When the request started (its first network call), seconds since the run began.
    pub sent: f64,
    /// When its answer came back (for an unfinished request: when the run stopped waiting).
    pub answered: f64,
    pub outcome: Outcome,
}

/// Whether a change approved or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Approve,
    Revoke,
}

/// One approval or revocation written during the run.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub vm: usize,
    pub kind: ChangeKind,
    /// When the store write began.
    pub started: f64,
    /// When `put_approval` returned (committed).
    pub committed: f64,
    /// The approval's revision the write stored.
    pub revision: u64,
    /// The id of the `approved` / `revoked` event appended after it.
    pub event_id: String,
}

/// One event read back from the store.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: String,
    pub kind: EventKind,
    pub instance_id: String,
    /// For `released`: the approval revision it released under.
    pub approval_revision: Option<u64>,
}

/// Everything a run recorded.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub vms: Vec<Vm>,
    pub attempts: Vec<Attempt>,
    /// Changes whose write failed are not here; they are errors of the run.
    pub changes: Vec<Change>,
    pub events: Vec<StoredEvent>,
}

/// What the accounting found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Accounting {
    pub requests: u64,
    pub releases: u64,
    /// PERMISSION_DENIED to a VM not approved over its whole request.
    pub expected_denials: u64,
    /// Releases of a VM whose approval or revocation was being written while the request ran
    /// (either answer is right).
    pub raced: u64,
    pub wrong_releases: u64,
    pub wrong_release_examples: Vec<String>,
    pub lost_events: u64,
    pub lost_event_examples: Vec<String>,
    /// Failures other than the expected denials, by code (`unfinished` for unanswered requests).
    pub errors: BTreeMap<String, u64>,
    /// The first distinct failure messages among the errors, with their counts.
    pub error_messages: BTreeMap<String, u64>,
    /// `released` / `approved` / `revoked` events found in the store.
    pub stored_releases: u64,
    pub stored_approvals: u64,
    pub stored_revocations: u64,
}

impl Timeline {
    fn change(&self, vm: usize, kind: ChangeKind) -> Option<&Change> {
        self.changes.iter().find(|c| c.vm == vm && c.kind == kind)
    }

    /// Whether the VM was ever approved (before or during the run).
    fn ever_approved(&self, vm: usize) -> bool {
        match self.vms[vm].role {
            Role::Approved | Role::Revoked => true,
            Role::LateApproved => self.change(vm, ChangeKind::Approve).is_some(),
            Role::Unapproved => false,
        }
    }

    /// Why a release of `attempt` is wrong, if it is.
    fn wrong_release(&self, attempt: &Attempt) -> Option<String> {
        let vm = &self.vms[attempt.vm];
        if !self.ever_approved(attempt.vm) {
            return Some(format!("{} was never approved", vm.name));
        }
        if vm.role == Role::LateApproved
            && let Some(approve) = self.change(attempt.vm, ChangeKind::Approve)
            && attempt.answered < approve.started
        {
            return Some(format!(
                "{} released at {:.3} s, before its approval was written at {:.3} s",
                vm.name, attempt.answered, approve.started
            ));
        }
        if let Some(revoke) = self.change(attempt.vm, ChangeKind::Revoke)
            && attempt.sent > revoke.committed
        {
            return Some(format!(
                "{} released to a request sent at {:.3} s, after its revocation committed at {:.3} s",
                vm.name, attempt.sent, revoke.committed
            ));
        }
        None
    }

    /// Whether the VM was approved over the whole of `attempt` (committed before it was sent, no
    /// revocation begun before it was answered).
    fn approved_throughout(&self, attempt: &Attempt) -> bool {
        let approved_before = match self.vms[attempt.vm].role {
            Role::Approved | Role::Revoked => true,
            Role::LateApproved => self
                .change(attempt.vm, ChangeKind::Approve)
                .is_some_and(|c| c.committed < attempt.sent),
            Role::Unapproved => false,
        };
        let not_yet_revoked = self
            .change(attempt.vm, ChangeKind::Revoke)
            .is_none_or(|c| c.started > attempt.answered);
        approved_before && not_yet_revoked
    }

    /// Whether an approval or revocation of the VM was being written while `attempt` ran.
    fn raced(&self, attempt: &Attempt) -> bool {
        self.changes.iter().any(|c| {
            c.vm == attempt.vm && c.started <= attempt.answered && c.committed >= attempt.sent
        })
    }

    /// The accounting of the whole run.
    pub fn account(&self) -> Accounting {
        let mut out = Accounting {
            requests: self.attempts.len() as u64,
            ..Accounting::default()
        };
        let mut stored = BTreeSet::new();
        for event in &self.events {
            match event.kind {
                EventKind::Released => out.stored_releases += 1,
                EventKind::Approved => out.stored_approvals += 1,
                EventKind::Revoked => out.stored_revocations += 1,
                _ => {}
            }
            stored.insert(event.id.as_str());
        }
        for attempt in &self.attempts {
            match &attempt.outcome {
                Outcome::Released { event_id } => {
                    out.releases += 1;
                    if self.raced(attempt) {
                        out.raced += 1;
                    }
                    if let Some(why) = self.wrong_release(attempt) {
                        note(
                            &mut out.wrong_releases,
                            &mut out.wrong_release_examples,
                            why,
                        );
                    }
                    if event_id.is_empty() || !stored.contains(event_id.as_str()) {
                        let why = format!(
                            "release of {} answered at {:.3} s: its event {event_id:?} is not in the store",
                            self.vms[attempt.vm].name, attempt.answered
                        );
                        note(&mut out.lost_events, &mut out.lost_event_examples, why);
                    }
                }
                Outcome::Failed { code, detail } => {
                    if code == DENIED && !self.approved_throughout(attempt) {
                        out.expected_denials += 1;
                    } else {
                        let code = if code == DENIED {
                            format!("unexpected-{DENIED}")
                        } else {
                            code.clone()
                        };
                        error(&mut out, code, detail);
                    }
                }
                Outcome::Unfinished => error(&mut out, "unfinished".into(), "no answer"),
            }
        }
        for change in &self.changes {
            if !stored.contains(change.event_id.as_str()) {
                let why = format!(
                    "the {:?} of {} committed at {:.3} s: its event {} is not in the store",
                    change.kind, self.vms[change.vm].name, change.committed, change.event_id
                );
                note(&mut out.lost_events, &mut out.lost_event_examples, why);
            }
        }
        self.wrong_stored_releases(&mut out);
        out
    }

    /// `released` events in the store for a never-approved VM, or naming a revoked revision.
    fn wrong_stored_releases(&self, out: &mut Accounting) {
        let by_id: BTreeMap<&str, usize> = self
            .vms
            .iter()
            .enumerate()
            .map(|(i, vm)| (vm.instance_id.as_str(), i))
            .collect();
        for event in self.events.iter().filter(|e| e.kind == EventKind::Released) {
            let Some(&vm) = by_id.get(event.instance_id.as_str()) else {
                continue;
            };
            let name = &self.vms[vm].name;
            let why = if !self.ever_approved(vm) {
                Some(format!(
                    "the store holds release {} of {name}, never approved",
                    event.id
                ))
            } else {
                self.change(vm, ChangeKind::Revoke)
                    .filter(|r| event.approval_revision == Some(r.revision))
                    .map(|r| {
                        format!(
                            "the store holds release {} of {name} under its revoked revision {}",
                            event.id, r.revision
                        )
                    })
            };
            if let Some(why) = why {
                note(
                    &mut out.wrong_releases,
                    &mut out.wrong_release_examples,
                    why,
                );
            }
        }
    }
}

fn note(count: &mut u64, examples: &mut Vec<String>, why: String) {
    *count += 1;
    if examples.len() < LISTED {
        examples.push(why);
    }
}

fn error(out: &mut Accounting, code: String, detail: &str) {
    let message = format!("{code} {detail}");
    if out.error_messages.len() < LISTED || out.error_messages.contains_key(&message) {
        *out.error_messages.entry(message).or_default() += 1;
    }
    *out.errors.entry(code).or_default() += 1;
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
