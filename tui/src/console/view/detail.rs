//! The detail pane (right): the tab bar (1–6, the current tab highlighted) and the visible window of
//! the current tab's lines, scrolled by the model. Loading and error states are drawn here, so each
//! tab only turns a [`VmDetail`] into lines.

use std::cell::RefCell;
use std::rc::Rc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::super::keymap::DetailTab;
use super::super::layout::{Areas, TAB_GAP, inner, tab_labels};
use super::super::model::{Model, Pane};
use super::super::theme::Theme;
use super::text::{safe, spinner};
use super::{audit, cloud_config, history, overview, secrets, tpm};
use crate::operations::model::VmDetail;

/// The lines of `tab` for `detail` at `width` columns.
pub fn tab_lines(
    tab: DetailTab,
    detail: &VmDetail,
    width: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    match tab {
        DetailTab::Overview => overview::lines(detail, width, theme),
        DetailTab::CloudConfig => cloud_config::lines(detail, width, theme),
        DetailTab::AuditLog => audit::lines(detail, width, theme),
        DetailTab::Tpm => tpm::lines(detail, width, theme),
        DetailTab::Secrets => secrets::lines(detail, theme),
        DetailTab::History => history::lines(detail, width, theme),
    }
}

/// What the cached lines were built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineKey {
    detail: u64,
    tab: DetailTab,
    width: u16,
    theme: Theme,
}

/// The current tab's lines, built once per (detail, tab, width, theme) and reused while scrolling,
/// so a keypress on a 5,000-line diff or 10,000 audit entries does not build them again.
#[derive(Debug, Clone, Default)]
pub struct LineCache(RefCell<Option<(LineKey, Rc<[Line<'static>]>)>>);

/// The current tab's lines for `model` (from the cache when nothing changed).
fn current_lines(model: &Model, width: u16, theme: Theme) -> Option<Rc<[Line<'static>]>> {
    let detail = model.selected_detail()?;
    let key = LineKey {
        detail: model.detail.generation,
        tab: model.tab,
        width,
        theme,
    };
    let mut cache = model.detail_lines.0.borrow_mut();
    if let Some((cached, lines)) = cache.as_ref()
        && *cached == key
    {
        return Some(Rc::clone(lines));
    }
    let lines: Rc<[Line<'static>]> = tab_lines(model.tab, detail, usize::from(width), theme).into();
    *cache = Some((key, Rc::clone(&lines)));
    Some(lines)
}

/// How many lines the current tab has (the update function clamps scrolling with it).
pub fn line_count(model: &Model) -> usize {
    let width = Areas::new(model.size.0, model.size.1)
        .detail_content()
        .width;
    current_lines(model, width, model.theme).map_or(0, |lines| lines.len())
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: Theme) {
    let title = match (model.list.selected_row(), model.detail.loading) {
        (Some(row), true) => format!(" {} {} ", safe(&row.name), spinner(model.spinner)),
        (Some(row), false) => format!(" {} ", safe(&row.name)),
        (None, _) => String::new(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(model.focus == Pane::Detail))
        .title(title);
    frame.render_widget(block, area);
    let inside = inner(area);
    frame.render_widget(
        Paragraph::new(vec![
            tab_bar(model.tab, inside.width, theme),
            Line::default(),
        ]),
        Rect::new(inside.x, inside.y, inside.width, 2.min(inside.height)),
    );
    let content = Areas::new(model.size.0, model.size.1).detail_content();
    let content = Rect::new(
        inside.x,
        inside.y.saturating_add(2),
        inside.width,
        content.height.min(inside.height.saturating_sub(2)),
    );
    let height = usize::from(content.height);
    match current_lines(model, content.width, theme) {
        Some(all) => {
            let top = model.detail.scroll.min(all.len().saturating_sub(height));
            let shown: Vec<Line<'static>> = all.iter().skip(top).take(height).cloned().collect();
            frame.render_widget(Paragraph::new(shown), content);
        }
        None => frame.render_widget(
            Paragraph::new(placeholder(model, theme)).wrap(Wrap { trim: false }),
            content,
        ),
    }
}

fn tab_bar(current: DetailTab, width: u16, theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (tab, label) in tab_labels(current, width) {
        let style = if tab == current {
            theme.selection()
        } else {
            theme.muted()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" ".repeat(usize::from(TAB_GAP))));
    }
    Line::from(spans)
}

/// What the pane shows without a loaded detail.
fn placeholder(model: &Model, theme: Theme) -> Vec<Line<'static>> {
    let Some(row) = model.list.selected_row() else {
        return vec![Line::styled(
            "select a VM on the left".to_owned(),
            theme.muted(),
        )];
    };
    if let Some(error) = &model.detail.error {
        return vec![Line::styled(error.clone(), theme.danger())];
    }
    vec![Line::styled(
        format!(
            "{} gathering {}'s evidence from the store and Google…",
            spinner(model.spinner),
            safe(&row.name)
        ),
        theme.muted(),
    )]
}
