//! Moving through the list and the detail: the selection (kept by instance id, skipping group
//! headers, scrolled into view), detail scrolling clamped to the tab's length, tabs, and the detail
//! load a new selection asks for.

use super::super::command::Command;
use super::super::keymap::DetailTab;
use super::super::layout::Areas;
use super::super::model::{DetailState, Model, Pane, VmTarget};
use super::super::rows::ListLine;
use super::super::view::detail_line_count;

pub(super) fn show_tab(model: &mut Model, tab: DetailTab) {
    if model.tab != tab {
        model.tab = tab;
        model.detail.scroll = 0;
    }
}

/// Moves the selection (list focused) or scrolls the detail (detail focused) by `delta`.
pub(super) fn move_by(model: &mut Model, delta: isize) -> Vec<Command> {
    match model.focus {
        Pane::Detail => {
            let max = detail_line_count(model).saturating_sub(
                Areas::new(model.size.0, model.size.1)
                    .detail_content()
                    .height
                    .into(),
            );
            model.detail.scroll = model.detail.scroll.saturating_add_signed(delta).min(max);
            Vec::new()
        }
        Pane::List => {
            let rows: Vec<usize> = row_lines(model).collect();
            if rows.is_empty() {
                return Vec::new();
            }
            let current = model
                .list
                .selected_line()
                .and_then(|line| rows.iter().position(|r| *r == line));
            let next = match current {
                Some(at) => at.saturating_add_signed(delta).min(rows.len() - 1),
                None => 0,
            };
            select_line(model, rows.get(next).copied())
        }
    }
}

pub(super) fn row_lines(model: &Model) -> impl Iterator<Item = usize> + '_ {
    model
        .list
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l, ListLine::Row(_)))
        .map(|(i, _)| i)
}

/// The first row line at or after `from` (or the last row line when there is none after it).
pub(super) fn first_row_line(model: &Model, from: usize) -> Option<usize> {
    row_lines(model)
        .find(|line| *line >= from)
        .or_else(|| row_lines(model).last())
}

/// Selects the row on `line` (or nothing) and asks for its detail when the selection changed.
pub(super) fn select_line(model: &mut Model, line: Option<usize>) -> Vec<Command> {
    let row = line
        .and_then(|l| match model.list.lines.get(l) {
            Some(ListLine::Row(i)) => model.list.rows.get(*i),
            _ => None,
        })
        .cloned();
    let id = row.as_ref().map(|r| r.instance_id.clone());
    let changed = id != model.list.selected;
    model.list.selected = id;
    keep_selection_visible(model);
    if !changed {
        return Vec::new();
    }
    model.detail = DetailState {
        generation: model.detail.generation.wrapping_add(1),
        ..DetailState::default()
    };
    match row {
        Some(_) => reload_detail(model),
        None => Vec::new(),
    }
}

/// Asks for the selected VM's detail again (keeping what is shown until it arrives).
pub(super) fn reload_detail(model: &mut Model) -> Vec<Command> {
    let Some(row) = model.list.selected_row() else {
        return Vec::new();
    };
    let target = VmTarget::of(row);
    model.detail.instance_id = Some(target.instance_id.clone());
    model.detail.loading = true;
    vec![Command::LoadDetail(target)]
}

/// Scrolls the list so the selected line (and, at the top, its group header) is visible.
pub(super) fn keep_selection_visible(model: &mut Model) {
    let height = Areas::new(model.size.0, model.size.1).list_rows().max(1);
    let total = model.list.lines.len();
    let Some(line) = model.list.selected_line() else {
        model.list.offset = model.list.offset.min(total.saturating_sub(height));
        return;
    };
    if line < model.list.offset {
        // Show the header above the first row of a group.
        model.list.offset = if line > 0
            && matches!(
                model.list.lines.get(line - 1),
                Some(ListLine::Header { .. })
            ) {
            line - 1
        } else {
            line
        };
    } else if line >= model.list.offset + height {
        model.list.offset = line + 1 - height;
    }
}
