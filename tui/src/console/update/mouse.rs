//! The mouse: a click selects a row, a tab or a pane; the wheel moves the list or scrolls the detail
//! under the pointer (without moving the focus). Positions come from the same layout the view uses.

use crossterm::event::{MouseEvent, MouseEventKind};

use super::super::command::Command;
use super::super::layout::Areas;
use super::super::model::{Model, Pane};
use super::super::rows::ListLine;
use super::navigation::{move_by, select_line, show_tab};

pub(super) fn on_mouse(model: &mut Model, mouse: MouseEvent) -> Vec<Command> {
    if model.help || model.dialog.is_some() {
        return Vec::new();
    }
    let areas = Areas::new(model.size.0, model.size.1);
    let (column, row) = (mouse.column, mouse.row);
    match mouse.kind {
        MouseEventKind::Down(_) => {
            if let Some(tab) = areas.tab_at(column, row, model.tab) {
                model.focus = Pane::Detail;
                show_tab(model, tab);
                return Vec::new();
            }
            if areas.in_detail(column, row) {
                model.focus = Pane::Detail;
                return Vec::new();
            }
            let Some(line) = areas.list_line_at(column, row, model.list.offset) else {
                return Vec::new();
            };
            model.focus = Pane::List;
            match model.list.lines.get(line) {
                Some(ListLine::Row(_)) => select_line(model, Some(line)),
                _ => Vec::new(),
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let delta = if mouse.kind == MouseEventKind::ScrollDown {
                3
            } else {
                -3
            };
            let focus = model.focus;
            if areas.in_detail(column, row) {
                model.focus = Pane::Detail;
            } else if areas.in_list(column, row) {
                model.focus = Pane::List;
            } else {
                return Vec::new();
            }
            let commands = move_by(model, delta);
            model.focus = focus;
            commands
        }
        _ => Vec::new(),
    }
}
