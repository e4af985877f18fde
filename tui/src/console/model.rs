//! The console's whole state, as plain data: the VM list (rows, filter, selection by instance id,
//! scroll), the detail of the selected VM, the focused pane and tab, the open dialog, the status line,
//! the spinner, read-only mode and the keymap. [`super::update::update`] changes it; the view only
//! reads it. Nothing here does I/O, so every state can be built in a test.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::failure::Failure;
use super::keymap::{DetailTab, Keymap};
use super::rows::{ListLine, build_lines};
use super::theme::Theme;
use super::view::detail::LineCache;
use crate::operations::model::VmRow;
use crate::operations::model::{VmDetail, VmList};

/// How often the list is re-read from the store.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// Which VM an operation is about (enough to find it in the store and at Google).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmTarget {
    pub instance_id: String,
    pub name: String,
    pub project: String,
    pub zone: String,
}

impl VmTarget {
    pub fn of(row: &VmRow) -> VmTarget {
        VmTarget {
            instance_id: row.instance_id.clone(),
            name: row.name.clone(),
            project: row.project.clone(),
            zone: row.zone.clone(),
        }
    }
}

/// The focused pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    List,
    Detail,
}

/// The VM list: what the store returned, the filter, and what is selected and scrolled to.
#[derive(Debug, Clone, Default)]
pub struct ListState {
    pub rows: Vec<VmRow>,
    pub loaded_at: Option<DateTime<Utc>>,
    /// A refresh is under way.
    pub loading: bool,
    /// Why the last refresh failed (the rows are the last good ones).
    pub error: Option<String>,
    pub filter: String,
    /// The `/` prompt has the keyboard.
    pub filter_editing: bool,
    /// Group headers and the indices of the rows that pass the filter, in display order.
    pub lines: Vec<ListLine>,
    /// The selected VM, by instance id (kept across refreshes).
    pub selected: Option<String>,
    /// The first line shown.
    pub offset: usize,
}

impl ListState {
    /// Rebuilds the display lines after the rows or the filter changed.
    pub fn rebuild(&mut self) {
        self.lines = build_lines(&self.rows, &self.filter);
    }

    /// The line index of the selected row, if it is shown.
    pub fn selected_line(&self) -> Option<usize> {
        let id = self.selected.as_deref()?;
        self.lines.iter().position(|line| match line {
            ListLine::Row(i) => self.rows.get(*i).is_some_and(|r| r.instance_id == id),
            ListLine::Header { .. } => false,
        })
    }

    pub fn selected_row(&self) -> Option<&VmRow> {
        let id = self.selected.as_deref()?;
        self.rows.iter().find(|r| r.instance_id == id)
    }

    /// How many rows pass the filter.
    pub fn shown(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, ListLine::Row(_)))
            .count()
    }

    pub fn replace(&mut self, list: VmList) {
        self.rows = list.rows;
        self.loaded_at = list.loaded_at;
        self.rebuild();
    }
}

/// The detail of the selected VM.
#[derive(Debug, Clone, Default)]
pub struct DetailState {
    /// Whose detail is shown or loading.
    pub instance_id: Option<String>,
    pub loading: bool,
    pub detail: Option<Box<VmDetail>>,
    pub error: Option<String>,
    /// Lines scrolled in the current tab.
    pub scroll: usize,
    /// Counts the details received, so cached lines of an older one are not reused.
    pub generation: u64,
}

/// What the approve dialog shows will be signed (from the operations' approval plan).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanSummary {
    pub instance_id: String,
    pub name: String,
    pub project: String,
    pub zone: String,
    pub user_data_sha256: String,
    pub fingerprint: String,
    pub boot_images: Vec<String>,
    /// The PCR policy, prefilled from the last verified quote (index, SHA-256 hex).
    pub pcrs: Vec<(u32, String)>,
    /// Why there is no PCR policy to seal to, when there is none.
    pub pcr_problem: Option<String>,
    pub ek_fingerprint: Option<String>,
    /// The secrets that will be sealed: name, type and size (never a value).
    pub secrets: Vec<(String, String, u64)>,
    /// Names of the checks that fail on the live evidence.
    pub failed_checks: Vec<String>,
    /// Who signs (the approval key's id).
    pub approver: Option<String>,
    /// Why this approval cannot be made at all (e.g. no EK to seal to), when it cannot.
    pub blocked: Option<String>,
}

/// The approval plan while it is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanState {
    /// No plan until a secrets file is chosen (the plan reads it).
    NeedsSecretsFile,
    Loading,
    Ready(Box<PlanSummary>),
    Failed(Failure),
}

/// The approve dialog's fields, in Tab order; the buttons come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApproveField {
    SecretsFile,
    RequireTpm,
    Expiry,
    Reason,
    /// The Yes / No buttons; No is focused by default.
    #[default]
    Buttons,
}

impl ApproveField {
    pub const ORDER: [ApproveField; 5] = [
        ApproveField::SecretsFile,
        ApproveField::RequireTpm,
        ApproveField::Expiry,
        ApproveField::Reason,
        ApproveField::Buttons,
    ];
}

/// What Alice entered in the approve dialog that the plan depends on (the effects runner passes it
/// to the operations); the reason is added only when she confirms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApprovalInputs {
    pub secrets_file: String,
    pub require_tpm: bool,
    /// A duration (30d, 12h) or an RFC 3339 time; empty for never.
    pub expiry: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproveDialog {
    pub target: VmTarget,
    pub plan: PlanState,
    pub inputs: ApprovalInputs,
    /// Why failing checks are acceptable (signed into the approval); empty when none fail.
    pub reason: String,
    /// The inputs the shown plan was computed from, and its number: Yes commits exactly that plan.
    pub planned: Option<(ApprovalInputs, u64)>,
    /// The `*.json` files of the current directory, offered for the secrets file.
    pub secrets_choices: Vec<String>,
    pub focus: ApproveField,
    /// Yes is highlighted on the buttons row (No is the default).
    pub yes: bool,
    /// Why Yes was refused, shown in the dialog.
    pub problem: Option<String>,
}

/// The revoke dialog's fields, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevokeField {
    #[default]
    Name,
    Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeDialog {
    pub target: VmTarget,
    pub typed_name: String,
    pub reason: String,
    pub focus: RevokeField,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Approve(Box<ApproveDialog>),
    Revoke(RevokeDialog),
}

/// The tone of the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub tone: Tone,
}

/// What the approve dialog starts from (the command line's `--secrets`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    pub secrets_file: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub list: ListState,
    pub detail: DetailState,
    pub focus: Pane,
    pub tab: DetailTab,
    pub dialog: Option<Dialog>,
    pub help: bool,
    pub status: Option<Status>,
    /// A write (approve / revoke) under way: what it is, for the spinner.
    pub busy: Option<String>,
    pub spinner: usize,
    pub read_only: bool,
    pub keymap: Keymap,
    /// The terminal size (columns, rows).
    pub size: (u16, u16),
    /// The clock, advanced by ticks (injected so the view and the tests are deterministic).
    pub now: DateTime<Utc>,
    /// When the last list refresh was asked for.
    pub refreshed_at: Option<DateTime<Utc>>,
    pub defaults: Defaults,
    /// Where the data comes from, for the header (the store URL without credentials).
    pub source: String,
    /// The colours the view draws with (the update function counts lines with the same).
    pub theme: Theme,
    /// The current detail tab's lines, cached for scrolling.
    pub detail_lines: LineCache,
    /// The number of the last approval plan asked for (results of older plans are dropped).
    pub plan_generation: u64,
    pub quit: bool,
}

impl Model {
    pub fn new(keymap: Keymap, read_only: bool, now: DateTime<Utc>) -> Model {
        Model {
            list: ListState::default(),
            detail: DetailState::default(),
            focus: Pane::List,
            tab: DetailTab::Overview,
            dialog: None,
            help: false,
            status: None,
            busy: None,
            spinner: 0,
            read_only,
            keymap: if read_only {
                keymap.read_only()
            } else {
                keymap
            },
            size: (80, 24),
            now,
            refreshed_at: None,
            defaults: Defaults::default(),
            source: String::new(),
            theme: Theme::new(false),
            detail_lines: LineCache::default(),
            plan_generation: 0,
            quit: false,
        }
    }

    /// The detail of the selected VM, when it is the one loaded.
    pub fn selected_detail(&self) -> Option<&VmDetail> {
        match (&self.list.selected, &self.detail.instance_id) {
            (Some(selected), Some(shown)) if selected == shown => self.detail.detail.as_deref(),
            _ => None,
        }
    }

    pub fn set_status(&mut self, tone: Tone, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            tone,
        });
    }
}
