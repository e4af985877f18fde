//! The console's update function: `update(&mut Model, Event) -> Vec<Command>`. Pure — no terminal,
//! no store, no clock of its own — so every key and every background result is unit-tested
//! (`update/tests.rs`), including the races (a refresh while a dialog is open, the selected VM
//! disappearing, a detail arriving for a VM that is no longer selected). Its parts: [`navigation`]
//! (selection, scrolling, tabs), [`mouse`], and [`dialogs`] (approve and revoke).

mod dialogs;
mod mouse;
mod navigation;
#[cfg(test)]
mod tests;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::command::Command;
use super::event::Event;
use super::failure::Failure;
use super::keymap::Action;
use super::layout::Areas;
use super::model::{Model, Pane, REFRESH_EVERY, Tone};
use crate::operations::model::VmState;
use mouse::on_mouse;
use navigation::{
    first_row_line, keep_selection_visible, move_by, reload_detail, select_line, show_tab,
};

/// Applies `event` to `model` and returns the background work it asks for.
pub fn update(model: &mut Model, event: Event) -> Vec<Command> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => on_key(model, key),
        Event::Key(_) => Vec::new(),
        Event::Mouse(mouse) => on_mouse(model, mouse),
        Event::Resize(width, height) => {
            model.size = (width, height);
            keep_selection_visible(model);
            Vec::new()
        }
        Event::Tick(now) => on_tick(model, now),
        Event::ListLoaded(result) => on_list(model, result),
        Event::DetailLoaded {
            instance_id,
            result,
        } => {
            on_detail(model, &instance_id, result);
            Vec::new()
        }
        Event::HistoryLoaded {
            instance_id,
            result,
        } => {
            on_history(model, &instance_id, result);
            Vec::new()
        }
        Event::ApprovalPlanned { generation, result } => {
            dialogs::on_plan(model, generation, result);
            Vec::new()
        }
        Event::SecretsFilesFound(files) => {
            dialogs::on_secrets_files(model, files);
            Vec::new()
        }
        Event::Approved {
            instance_id,
            result,
        } => on_written(model, &instance_id, result, "approving"),
        Event::Revoked {
            instance_id,
            result,
        } => on_written(model, &instance_id, result, "revoking"),
    }
}

fn on_tick(model: &mut Model, now: chrono::DateTime<chrono::Utc>) -> Vec<Command> {
    model.now = now;
    model.spinner = model.spinner.wrapping_add(1);
    let due = model.refreshed_at.is_none_or(|at| {
        (now - at)
            .to_std()
            .is_ok_and(|elapsed| elapsed >= REFRESH_EVERY)
    });
    if due && !model.list.loading {
        refresh(model)
    } else {
        Vec::new()
    }
}

fn refresh(model: &mut Model) -> Vec<Command> {
    model.list.loading = true;
    model.refreshed_at = Some(model.now);
    let mut commands = vec![Command::RefreshList];
    // A release or denial changes no list row: the shown History is re-read from the store.
    if let (Some(id), Some(_)) = (&model.detail.instance_id, &model.detail.detail) {
        commands.push(Command::LoadHistory(id.clone()));
    }
    commands
}

/// Replaces the shown detail's History; a result for another VM, or a failure (the next refresh
/// tries again, the detail keeps what it showed), changes nothing.
fn on_history(
    model: &mut Model,
    instance_id: &str,
    result: Result<Vec<crate::operations::model::HistoryEntry>, Failure>,
) {
    if model.detail.instance_id.as_deref() != Some(instance_id) {
        return;
    }
    let (Some(detail), Ok(history)) = (model.detail.detail.as_mut(), result) else {
        return;
    };
    if detail.history != history {
        detail.history = history;
        model.detail.generation = model.detail.generation.wrapping_add(1);
    }
}

fn on_list(
    model: &mut Model,
    result: Result<crate::operations::model::VmList, Failure>,
) -> Vec<Command> {
    model.list.loading = false;
    let list = match result {
        Ok(list) => list,
        Err(failure) => {
            let text = failure.status_text("refreshing the list");
            model.list.error = Some(text.clone());
            model.set_status(Tone::Error, text);
            return Vec::new();
        }
    };
    model.list.error = None;
    let before = model.list.selected_row().cloned();
    let line_before = model.list.selected_line();
    model.list.replace(list);
    let Some(before) = before else {
        return select_line(model, first_row_line(model, 0));
    };
    match model.list.selected_row() {
        Some(now) if model.list.selected_line().is_some() => {
            // Still there: reload the detail only when the store's record of it changed.
            if *now != before && model.busy.is_none() {
                reload_detail(model)
            } else {
                keep_selection_visible(model);
                Vec::new()
            }
        }
        Some(_) => select_line(model, first_row_line(model, 0)),
        None => {
            model.set_status(
                Tone::Info,
                format!(
                    "{} (id {}) is no longer in the store",
                    before.name, before.instance_id
                ),
            );
            model.list.selected = None;
            select_line(model, first_row_line(model, line_before.unwrap_or(0)))
        }
    }
}

fn on_detail(
    model: &mut Model,
    instance_id: &str,
    result: Result<Box<crate::operations::model::VmDetail>, Failure>,
) {
    // A result for a VM that is no longer the one shown is dropped.
    if model.detail.instance_id.as_deref() != Some(instance_id) {
        return;
    }
    model.detail.loading = false;
    let name = model
        .list
        .selected_row()
        .map_or(instance_id.to_owned(), |r| r.name.clone());
    match result {
        Ok(detail) => {
            model.detail.generation = model.detail.generation.wrapping_add(1);
            // The detail shows what Google would not give; the status line says what to do.
            if let Err(error) = detail.review.instance() {
                let failure = Failure::from_fetch_error(error);
                model.set_status(Tone::Error, failure.status_text(&format!("reading {name}")));
            }
            model.detail.detail = Some(detail);
            model.detail.error = None;
        }
        Err(failure) => {
            let text = failure.status_text(&format!("loading {name}"));
            model.detail.error = Some(text.clone());
            model.set_status(Tone::Error, text);
        }
    }
}

fn on_written(
    model: &mut Model,
    instance_id: &str,
    result: Result<String, Failure>,
    doing: &str,
) -> Vec<Command> {
    let what = model.busy.take().unwrap_or_else(|| doing.to_owned());
    match result {
        Ok(outcome) => model.set_status(Tone::Success, outcome),
        Err(failure) => model.set_status(Tone::Error, failure.status_text(&what)),
    }
    let mut commands = refresh(model);
    if model.list.selected.as_deref() == Some(instance_id) {
        commands.extend(reload_detail(model));
    }
    commands
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if model.help {
        if matches!(
            model.keymap.resolve(&key),
            Some(Action::Help | Action::Back | Action::Quit)
        ) || key.code == KeyCode::Esc
        {
            model.help = false;
        }
        return Vec::new();
    }
    if model.dialog.is_some() {
        return dialogs::on_key(model, key);
    }
    if model.list.filter_editing {
        return on_filter_key(model, key);
    }
    match model.keymap.resolve(&key) {
        Some(action) => on_action(model, action),
        None => Vec::new(),
    }
}

fn on_filter_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Enter => {
            model.list.filter_editing = false;
            return Vec::new();
        }
        KeyCode::Esc => {
            model.list.filter_editing = false;
            model.list.filter.clear();
        }
        KeyCode::Backspace => {
            model.list.filter.pop();
        }
        KeyCode::Char(c) => model.list.filter.push(c),
        _ => return Vec::new(),
    }
    filter_changed(model)
}

fn filter_changed(model: &mut Model) -> Vec<Command> {
    model.list.rebuild();
    model.list.offset = 0;
    if model.list.selected_line().is_some() {
        keep_selection_visible(model);
        Vec::new()
    } else {
        select_line(model, first_row_line(model, 0))
    }
}

fn on_action(model: &mut Model, action: Action) -> Vec<Command> {
    let page = Areas::new(model.size.0, model.size.1).list_rows().max(1);
    let step = |n: usize| isize::try_from(n).unwrap_or(isize::MAX);
    match action {
        Action::Down => move_by(model, 1),
        Action::Up => move_by(model, -1),
        Action::PageDown => move_by(model, step(page / 2).max(1)),
        Action::PageUp => move_by(model, -step(page / 2).max(1)),
        Action::Top => move_by(model, isize::MIN / 2),
        Action::Bottom => move_by(model, isize::MAX / 2),
        Action::NextPane | Action::PrevPane => {
            model.focus = match model.focus {
                Pane::List => Pane::Detail,
                Pane::Detail => Pane::List,
            };
            Vec::new()
        }
        Action::Tab(tab) => {
            show_tab(model, tab);
            Vec::new()
        }
        Action::NextTab => {
            show_tab(model, model.tab.cycled(1));
            Vec::new()
        }
        Action::PrevTab => {
            show_tab(model, model.tab.cycled(-1));
            Vec::new()
        }
        Action::Filter => {
            model.list.filter_editing = true;
            Vec::new()
        }
        Action::Refresh => {
            let mut commands = refresh(model);
            commands.extend(reload_detail(model));
            commands
        }
        Action::Approve => dialogs::open_approve(model),
        Action::Revoke => dialogs::open_revoke(model),
        Action::Help => {
            model.help = true;
            Vec::new()
        }
        Action::Back => {
            if !model.list.filter.is_empty() {
                model.list.filter.clear();
                return filter_changed(model);
            }
            model.focus = Pane::List;
            Vec::new()
        }
        Action::Quit => {
            quit(model);
            Vec::new()
        }
    }
}

/// Quits, unless a write is under way: then the first `q` warns and the second quits.
fn quit(model: &mut Model) {
    let warning = "a write is under way: wait for its outcome, or quit again to leave now";
    match &model.busy {
        Some(_) if model.status.as_ref().is_none_or(|s| s.text != warning) => {
            model.set_status(Tone::Error, warning);
        }
        _ => model.quit = true,
    }
}

/// Whether the row's approval can be revoked (approved or expired, not yet revoked).
pub(crate) fn revocable(state: VmState) -> bool {
    matches!(state, VmState::Approved | VmState::Expired)
}
