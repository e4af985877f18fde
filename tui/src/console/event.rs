//! What the console reacts to: terminal input (keys, mouse, resize), the clock's tick, and the
//! results of the background operations, each tagged with the VM it is about so a late result for a
//! VM that is no longer selected can be recognised and dropped.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};

use super::failure::Failure;
use super::model::PlanSummary;
use crate::operations::model::{HistoryEntry, VmDetail, VmList};

#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// The clock: drives the spinner and the periodic refresh.
    Tick(DateTime<Utc>),
    ListLoaded(Result<VmList, Failure>),
    DetailLoaded {
        instance_id: String,
        result: Result<Box<VmDetail>, Failure>,
    },
    /// The shown VM's History, re-read on the periodic refresh (releases and denials since).
    HistoryLoaded {
        instance_id: String,
        result: Result<Vec<HistoryEntry>, Failure>,
    },
    ApprovalPlanned {
        generation: u64,
        result: Result<Box<PlanSummary>, Failure>,
    },
    /// The `*.json` files of the current directory (the secrets file picker).
    SecretsFilesFound(Vec<String>),
    /// An approval was written (the outcome line) or not.
    Approved {
        instance_id: String,
        result: Result<String, Failure>,
    },
    /// A revocation was written (the outcome line) or not.
    Revoked {
        instance_id: String,
        result: Result<String, Failure>,
    },
}
