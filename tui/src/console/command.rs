//! What the update function asks the effects runner ([`super::effects`]) to do in the background.
//! Each command ends in exactly one [`super::event::Event`] carrying its result.

use super::model::{ApprovalInputs, VmTarget};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Re-read the list from the store → `Event::ListLoaded`.
    RefreshList,
    /// Re-read the shown VM's History from the store (cheap: no Google call) → `Event::HistoryLoaded`.
    LoadHistory(String),
    /// Gather the VM's detail (store + Google) → `Event::DetailLoaded`; supersedes an earlier load.
    LoadDetail(VmTarget),
    /// Compute what an approval would sign → `Event::ApprovalPlanned` with the same generation.
    PlanApproval {
        target: VmTarget,
        inputs: ApprovalInputs,
        generation: u64,
    },
    /// List the `*.json` files of the current directory → `Event::SecretsFilesFound`.
    FindSecretsFiles,
    /// Seal, sign and store exactly the plan of that generation, with the reason → `Event::Approved`.
    CommitApproval {
        target: VmTarget,
        generation: u64,
        reason: String,
    },
    /// Re-sign the approval as revoked → `Event::Revoked`.
    CommitRevocation { target: VmTarget, reason: String },
}
