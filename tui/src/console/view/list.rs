//! The VM list (left pane): a header per group with its count, then one line per VM — badge,
//! project/zone/name, last seen, attempts and verdict summary, as many columns as the width allows.
//! Virtualized: only the lines in the visible window are built, so 10,000 VMs cost one screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::super::layout::inner;
use super::super::model::{Model, Pane};
use super::super::rows::{ListLine, group_of, group_title, verdict_text};
use super::super::theme::Theme;
use super::text::{fit, fit_left, safe};
use crate::operations::model::VmGroup;
use crate::operations::model::{VmRow, VmState};

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: Theme) {
    let list = &model.list;
    let title = if list.filter.is_empty() {
        format!(" VMs ({}) ", list.rows.len())
    } else {
        format!(" VMs ({} of {}) ", list.shown(), list.rows.len())
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(model.focus == Pane::List))
        .title(title);
    if list.filter_editing || !list.filter.is_empty() {
        let cursor = if list.filter_editing { "▏" } else { "" };
        block = block.title_bottom(Line::styled(
            format!(" /{}{cursor} ", safe(&list.filter)),
            theme.accent(),
        ));
    }
    let inside = inner(area);
    let width = usize::from(inside.width);
    let height = usize::from(inside.height);
    let lines: Vec<Line<'static>> = if list.rows.is_empty() {
        empty_lines(model, theme)
    } else if list.lines.is_empty() {
        vec![Line::styled(
            format!("no VM matches /{}", safe(&list.filter)),
            theme.muted(),
        )]
    } else {
        let selected = list.selected_line();
        list.lines
            .iter()
            .enumerate()
            .skip(list.offset)
            .take(height)
            .map(|(i, line)| match line {
                ListLine::Header { group, count } => Line::styled(
                    format!("{} ({count})", group_title(*group)),
                    theme.heading(),
                ),
                ListLine::Row(r) => match list.rows.get(*r) {
                    Some(row) => row_line(row, width, Some(i) == selected, theme),
                    None => Line::default(),
                },
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn empty_lines(model: &Model, theme: Theme) -> Vec<Line<'static>> {
    let text = match (&model.list.error, model.list.loaded_at) {
        (Some(_), _) => "the list could not be read (see below)",
        (None, None) => "loading the VMs from the store…",
        (None, Some(_)) => "no VMs: none has asked for secrets and none is approved",
    };
    super::text::wrap(text, usize::from(model.size.0 / 3))
        .into_iter()
        .map(|line| Line::styled(line, theme.muted()))
        .collect()
}

/// The badge of a row: its group's marker and colour.
fn badge(row: &VmRow, theme: Theme) -> Span<'static> {
    match group_of(row) {
        VmGroup::DeniedAfterApproval => Span::styled("✘", theme.danger()),
        // A merely unapproved VM is yellow; one whose evidence fails (tampered) is red.
        VmGroup::Pending if tampered(row) => Span::styled("✘", theme.danger()),
        VmGroup::Pending => Span::styled("●", theme.warn()),
        VmGroup::Approved => Span::styled("✔", theme.ok()),
        VmGroup::Revoked if row.state == VmState::Expired => Span::styled("⌛", theme.muted()),
        VmGroup::Revoked => Span::styled("–", theme.muted()),
    }
}

/// Whether the server's last verdict failed more than the missing approval.
fn tampered(row: &VmRow) -> bool {
    row.verdict.as_ref().is_some_and(|v| !v.only_unapproved())
}

fn row_line(row: &VmRow, width: usize, selected: bool, theme: Theme) -> Line<'static> {
    let verdict = verdict_text(row);
    let verdict_style = if tampered(row) {
        theme.danger()
    } else {
        theme.muted()
    };
    let wide = width >= 50;
    // badge + space, verdict column, and (when wide) last seen and attempts columns.
    let fixed = 2 + 6 + if wide { 12 + 6 } else { 0 };
    let name_width = width.saturating_sub(fixed).max(4);
    let name = if wide {
        format!("{}/{}/{}", row.project, row.zone, row.name)
    } else {
        row.name.clone()
    };
    let mut spans = vec![
        badge(row, theme),
        Span::raw(if selected { "▸" } else { " " }),
        Span::raw(format!(
            "{:<name_width$}",
            fit_left(&safe(&name), name_width)
        )),
    ];
    if wide {
        let seen = row
            .last_seen
            .map_or_else(|| "–".to_owned(), |t| t.format("%m-%d %H:%M").to_string());
        spans.push(Span::styled(
            format!(" {:>11}", fit(&seen, 11)),
            theme.muted(),
        ));
        spans.push(Span::styled(
            format!(" {:>4}×", row.attempts),
            theme.muted(),
        ));
    }
    spans.push(Span::styled(format!(" {verdict:>5}"), verdict_style));
    let line = Line::from(spans);
    if selected {
        line.style(theme.selection())
    } else {
        line
    }
}
