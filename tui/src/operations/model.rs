//! The data the operations return, shared by the subcommands and the full-screen console: a VM's
//! row in the list, its detail (everything the console's tabs show), and the plans and outcomes of
//! approvals and revocations. Plain data only; the operations that fill it live beside this file.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_core::verdict::CheckResult;

use crate::review::{Against, Review};
use crate::tpm_view::TpmView;

/// A VM's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    Pending,
    Approved,
    Expired,
    Revoked,
}

impl VmState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// One VM of the list: its approval (if any) and its latest denial (if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmRow {
    pub instance_id: String,
    pub name: String,
    pub project: String,
    pub zone: String,
    pub state: VmState,
    /// Where the console lists it (in order of need of attention).
    pub group: VmGroup,
    pub approved_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub revision: Option<u64>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub attempts: u64,
    pub failed_checks: Vec<String>,
    /// The server's last verdict (from the latest denial); None when none is recorded.
    pub verdict: Option<VerdictSummary>,
}

/// Where a VM sits in the console's list, in order of need of attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmGroup {
    /// Denied since its approval: an approved VM whose latest request failed checks.
    DeniedAfterApproval,
    /// Asked for secrets, no approval yet.
    Pending,
    Approved,
    /// Revoked or expired.
    Revoked,
}

/// A VM's last verdict as the server recorded it: how many checks it evaluated and which failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictSummary {
    /// Checks the server evaluated (from servers before the count was kept: the failed count).
    pub evaluated: u32,
    pub failed: Vec<String>,
}

impl VerdictSummary {
    /// Checks that did not fail.
    pub fn passed(&self) -> u32 {
        self.evaluated
            .saturating_sub(u32::try_from(self.failed.len()).unwrap_or(u32::MAX))
    }

    /// `14/16`: passed of evaluated.
    pub fn ratio(&self) -> String {
        format!("{}/{}", self.passed(), self.evaluated)
    }

    /// Whether only the approval itself is missing: every failed check is an `approval.*` one
    /// (a merely unapproved VM), as opposed to a VM whose evidence fails (tampered or misconfigured).
    pub fn only_unapproved(&self) -> bool {
        self.failed.iter().all(|name| name.starts_with("approval."))
    }
}

/// The list: every row, already sorted by need of attention (group, then last seen, newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VmList {
    pub rows: Vec<VmRow>,
    pub loaded_at: Option<DateTime<Utc>>,
}

/// One line of a unified diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffTag {
    Same,
    /// Only in the live user-data.
    Added,
    /// Only in the text it is compared with (template or approved text).
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: DiffTag,
    /// 1-based line in the text compared with (template / approved), when the line is there.
    pub old_line: Option<usize>,
    /// 1-based line in the live user-data, when the line is there.
    pub new_line: Option<usize>,
    pub text: String,
}

/// A unified diff of the live user-data against one reference text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextDiff {
    /// What the live text is compared with, e.g. "the trusted template (holes filled)".
    pub against: String,
    pub lines: Vec<DiffLine>,
}

/// One hole of the trusted template with the value the live user-data put in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoleValue {
    pub name: String,
    pub pattern: String,
    /// The live value, when the line holding the hole could be matched.
    pub value: Option<String>,
    /// Null when the value matches the pattern, else why not.
    pub problem: Option<String>,
}

/// A live user-data line that breaks a check (opens SSH, enables the serial console, starts another
/// container, runs an unpinned image, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlaggedLine {
    /// 1-based line in the live user-data.
    pub line: usize,
    pub check: String,
    pub why: String,
}

/// The Cloud-config tab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CloudConfigView {
    /// The live user-data (None when the instance has none or could not be read).
    pub live: Option<String>,
    /// Against the trusted template with its holes filled with the live values.
    pub against_template: Option<TextDiff>,
    pub holes: Vec<HoleValue>,
    /// Against the text approved last time (verified against the approval's signed hash).
    pub against_approved: Option<TextDiff>,
    /// Why there is no approved-text diff although there is an approval (e.g. the stored text does
    /// not hash to the signed value).
    pub approved_text_problem: Option<String>,
    pub flagged: Vec<FlaggedLine>,
}

/// One entry of the History tab (newest first), decoded from the store's typed event detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub time: DateTime<Utc>,
    pub actor: String,
    pub what: HistoryKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryKind {
    Approved {
        revision: u64,
        forced_reason: Option<String>,
        secrets: usize,
    },
    Revoked {
        revision: u64,
        reason: String,
        /// For a revocation by the server's audit watch: the audit entry that caused it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<RevocationCause>,
    },
    Released {
        receipt_id: Option<String>,
        secrets: usize,
    },
    Denied {
        failed_checks: Vec<String>,
    },
    Attested,
    PendingRemoved,
    /// An event whose stored detail this build cannot read (written before details were typed, or
    /// by a newer version): only its kind is known.
    Unrecognized {
        event_kind: String,
    },
}

/// Everything the console's detail tabs show about one VM, gathered at one time.
#[derive(Debug, Clone)]
pub struct VmDetail {
    pub review: Review,
    pub against: Against,
    pub approval: Option<Approval>,
    /// Every check (policy verdict, then the cloud-config review), as the policy decided them.
    pub checks: Vec<CheckResult>,
    /// Whether the live fingerprint differs from the approved one (None without an approval).
    pub fingerprint_changed: Option<bool>,
    pub tpm: TpmView,
    pub cloud_config: CloudConfigView,
    pub history: Vec<HistoryEntry>,
}

/// The audit entry behind an audit-watch revocation, as History shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationCause {
    /// e.g. `v1.compute.instances.setMetadata`.
    pub method: String,
    /// The entry's principal, if it names one.
    pub principal: Option<String>,
    pub time: DateTime<Utc>,
}
