//! The approve and revoke dialogs' part of the update function: opening them, their keys, the plan
//! arriving, and the confirmation rules — approve defaults to No and refuses failed checks unless a
//! reason is typed; revoke needs the VM's name typed exactly and a reason.

use crossterm::event::{KeyCode, KeyEvent};

use super::super::command::Command;
use super::super::failure::Failure;
use super::super::model::{
    ApprovalInputs, ApproveDialog, ApproveField, Dialog, Model, PlanState, PlanSummary,
    RevokeDialog, RevokeField, Tone, VmTarget,
};
use super::revocable;
use crate::operations::model::VmRow;

/// The selected row when an action can start now; otherwise the status line says why not.
fn actionable(model: &mut Model, verb: &str) -> Option<VmRow> {
    let why = if model.read_only {
        format!("read-only: cannot {verb}")
    } else if let Some(busy) = &model.busy {
        format!("{busy}: wait for its outcome before you {verb}")
    } else if let Some(row) = model.list.selected_row() {
        return Some(row.clone());
    } else {
        format!("select a VM to {verb}")
    };
    model.set_status(Tone::Error, why);
    None
}

pub(super) fn open_approve(model: &mut Model) -> Vec<Command> {
    let Some(row) = actionable(model, "approve") else {
        return Vec::new();
    };
    let mut dialog = Box::new(ApproveDialog {
        target: VmTarget::of(&row),
        plan: PlanState::NeedsSecretsFile,
        inputs: ApprovalInputs {
            secrets_file: model.defaults.secrets_file.clone().unwrap_or_default(),
            require_tpm: true,
            expiry: String::new(),
        },
        reason: String::new(),
        planned: None,
        secrets_choices: Vec::new(),
        focus: ApproveField::SecretsFile,
        yes: false,
        problem: None,
    });
    let mut commands = vec![Command::FindSecretsFiles];
    if !dialog.inputs.secrets_file.is_empty() {
        dialog.focus = ApproveField::Buttons;
        commands.extend(replan(&mut dialog, &mut model.plan_generation));
    }
    model.dialog = Some(Dialog::Approve(dialog));
    commands
}

/// Asks for a new plan when the inputs it depends on changed since the shown one (and a secrets
/// file is chosen: the plan reads it).
fn replan(dialog: &mut ApproveDialog, generation: &mut u64) -> Option<Command> {
    if dialog.inputs.secrets_file.trim().is_empty() {
        dialog.plan = PlanState::NeedsSecretsFile;
        dialog.planned = None;
        return None;
    }
    if dialog
        .planned
        .as_ref()
        .is_some_and(|(inputs, _)| *inputs == dialog.inputs)
    {
        return None;
    }
    *generation += 1;
    dialog.planned = Some((dialog.inputs.clone(), *generation));
    dialog.plan = PlanState::Loading;
    Some(Command::PlanApproval {
        target: dialog.target.clone(),
        inputs: dialog.inputs.clone(),
        generation: *generation,
    })
}

pub(super) fn open_revoke(model: &mut Model) -> Vec<Command> {
    let Some(row) = actionable(model, "revoke") else {
        return Vec::new();
    };
    if !revocable(row.state) {
        let text = format!("{} has no approval in force to revoke", row.name);
        model.set_status(Tone::Error, text);
        return Vec::new();
    }
    model.dialog = Some(Dialog::Revoke(RevokeDialog {
        target: VmTarget::of(&row),
        typed_name: String::new(),
        reason: String::new(),
        focus: RevokeField::Name,
        problem: None,
    }));
    Vec::new()
}

pub(super) fn on_plan(
    model: &mut Model,
    generation: u64,
    result: Result<Box<PlanSummary>, Failure>,
) {
    // Only the plan of the inputs shown now counts; an older one (or one for a closed dialog) is dropped.
    let Some(Dialog::Approve(dialog)) = &mut model.dialog else {
        return;
    };
    if dialog.planned.as_ref().map(|(_, g)| *g) != Some(generation) {
        return;
    }
    dialog.plan = match result {
        Ok(plan) => PlanState::Ready(plan),
        Err(failure) => PlanState::Failed(failure),
    };
}

pub(super) fn on_secrets_files(model: &mut Model, files: Vec<String>) {
    if let Some(Dialog::Approve(dialog)) = &mut model.dialog {
        dialog.secrets_choices = files;
    }
}

pub(super) fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if key.code == KeyCode::Esc {
        let what = match &model.dialog {
            Some(Dialog::Approve(d)) => format!("approval of {} cancelled", d.target.name),
            Some(Dialog::Revoke(d)) => format!("revocation of {} cancelled", d.target.name),
            None => String::new(),
        };
        model.dialog = None;
        model.set_status(Tone::Info, what);
        return Vec::new();
    }
    let outcome = match &mut model.dialog {
        Some(Dialog::Approve(dialog)) => approve_key(dialog, key, &mut model.plan_generation),
        Some(Dialog::Revoke(dialog)) => revoke_key(dialog, key),
        None => Outcome::Stay,
    };
    match outcome {
        Outcome::Stay => Vec::new(),
        Outcome::Plan(command) => vec![command],
        Outcome::Cancel => {
            model.dialog = None;
            model.set_status(Tone::Info, "cancelled: nothing was written");
            Vec::new()
        }
        Outcome::Run { busy, command } => {
            model.dialog = None;
            model.busy = Some(busy);
            model.status = None;
            vec![*command]
        }
    }
}

/// What a key in a dialog leads to.
enum Outcome {
    Stay,
    /// Stay, and compute the plan again (its inputs changed).
    Plan(Command),
    Cancel,
    Run {
        busy: String,
        command: Box<Command>,
    },
}

/// Edits a text field: characters append, Backspace deletes; false when the key is not an edit.
fn edit(text: &mut String, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Char(c) => text.push(c),
        KeyCode::Backspace => {
            text.pop();
        }
        _ => return false,
    }
    true
}

fn approve_key(dialog: &mut ApproveDialog, key: KeyEvent, generation: &mut u64) -> Outcome {
    let order = ApproveField::ORDER;
    let at = order.iter().position(|f| *f == dialog.focus).unwrap_or(0);
    let moved_to = match key.code {
        KeyCode::Tab | KeyCode::Down => Some(order[(at + 1) % order.len()]),
        KeyCode::BackTab | KeyCode::Up => Some(order[(at + order.len() - 1) % order.len()]),
        KeyCode::Enter if dialog.focus != ApproveField::Buttons => Some(ApproveField::Buttons),
        _ => None,
    };
    if let Some(field) = moved_to {
        // Leaving a field: the plan follows the inputs.
        dialog.focus = field;
        dialog.yes = false;
        return replan(dialog, generation).map_or(Outcome::Stay, Outcome::Plan);
    }
    dialog.problem = None;
    match dialog.focus {
        ApproveField::SecretsFile => match key.code {
            KeyCode::Left | KeyCode::Right => pick_secrets_file(dialog, key.code == KeyCode::Right),
            _ => {
                edit(&mut dialog.inputs.secrets_file, key);
            }
        },
        ApproveField::RequireTpm => {
            if key.code == KeyCode::Char(' ') {
                dialog.inputs.require_tpm = !dialog.inputs.require_tpm;
            }
        }
        ApproveField::Expiry => {
            edit(&mut dialog.inputs.expiry, key);
        }
        ApproveField::Reason => {
            edit(&mut dialog.reason, key);
        }
        ApproveField::Buttons => match key.code {
            KeyCode::Left | KeyCode::Right | KeyCode::Char('h' | 'l') => dialog.yes = !dialog.yes,
            KeyCode::Char('y' | 'Y') => {
                dialog.yes = true;
                return confirm_approval(dialog, generation);
            }
            KeyCode::Char('n' | 'N') => return Outcome::Cancel,
            KeyCode::Enter if dialog.yes => return confirm_approval(dialog, generation),
            KeyCode::Enter => return Outcome::Cancel,
            _ => {}
        },
    }
    Outcome::Stay
}

/// Steps through the `*.json` files of the current directory.
fn pick_secrets_file(dialog: &mut ApproveDialog, forward: bool) {
    let choices = &dialog.secrets_choices;
    if choices.is_empty() {
        dialog.problem = Some("no *.json file in the current directory: type a path".to_owned());
        return;
    }
    let current = choices
        .iter()
        .position(|c| *c == dialog.inputs.secrets_file);
    let next = match (current, forward) {
        (None, true) => 0,
        (None, false) => choices.len() - 1,
        (Some(at), true) => (at + 1) % choices.len(),
        (Some(at), false) => (at + choices.len() - 1) % choices.len(),
    };
    dialog.inputs.secrets_file.clone_from(&choices[next]);
}

fn confirm_approval(dialog: &mut ApproveDialog, generation: &mut u64) -> Outcome {
    if let Some(command) = replan(dialog, generation) {
        dialog.problem =
            Some("the inputs changed: confirm again once the new plan is shown".into());
        dialog.yes = false;
        return Outcome::Plan(command);
    }
    let refusal = match &dialog.plan {
        PlanState::NeedsSecretsFile => {
            Some("choose a secrets file (←/→ picks a *.json file, or type a path)".to_owned())
        }
        PlanState::Loading => Some("the plan is still being computed; wait a moment".to_owned()),
        PlanState::Failed(failure) => Some(failure.status_text("planning the approval")),
        PlanState::Ready(plan) => match &plan.blocked {
            Some(blocked) => Some(format!("refused: {blocked}")),
            None if !plan.failed_checks.is_empty() && dialog.reason.trim().is_empty() => {
                Some(format!(
                    "refused: {} check(s) fail: {}; type a reason to approve anyway",
                    plan.failed_checks.len(),
                    plan.failed_checks.join(", ")
                ))
            }
            None => None,
        },
    };
    let planned = dialog.planned.as_ref().map(|(_, g)| *g);
    match (refusal, planned) {
        (None, Some(generation)) => Outcome::Run {
            busy: format!("approving {}", dialog.target.name),
            command: Box::new(Command::CommitApproval {
                target: dialog.target.clone(),
                generation,
                reason: dialog.reason.trim().to_owned(),
            }),
        },
        (refusal, _) => {
            dialog.problem = refusal.or_else(|| Some("no plan to approve".to_owned()));
            dialog.yes = false;
            Outcome::Stay
        }
    }
}

fn revoke_key(dialog: &mut RevokeDialog, key: KeyEvent) -> Outcome {
    match key.code {
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Down | KeyCode::Up => {
            dialog.focus = match dialog.focus {
                RevokeField::Name => RevokeField::Reason,
                RevokeField::Reason => RevokeField::Name,
            };
            return Outcome::Stay;
        }
        KeyCode::Enter => return confirm_revocation(dialog),
        _ => {}
    }
    dialog.problem = None;
    match dialog.focus {
        RevokeField::Name => edit(&mut dialog.typed_name, key),
        RevokeField::Reason => edit(&mut dialog.reason, key),
    };
    Outcome::Stay
}

fn confirm_revocation(dialog: &mut RevokeDialog) -> Outcome {
    if dialog.typed_name.trim() != dialog.target.name {
        dialog.problem = Some(format!(
            "type the VM's name exactly ({}) to revoke it",
            dialog.target.name
        ));
        dialog.focus = RevokeField::Name;
        return Outcome::Stay;
    }
    if dialog.reason.trim().is_empty() {
        dialog.problem = Some("say why the approval is revoked".to_owned());
        dialog.focus = RevokeField::Reason;
        return Outcome::Stay;
    }
    Outcome::Run {
        busy: format!("revoking {}", dialog.target.name),
        command: Box::new(Command::CommitRevocation {
            target: dialog.target.clone(),
            reason: dialog.reason.trim().to_owned(),
        }),
    }
}
