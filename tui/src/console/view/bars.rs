//! The header (what the console shows and from where, READ-ONLY badge), the command bar (generated
//! from the keymap, or the keys of the active prompt or dialog) and the status line (the outcome of
//! the last action or what went wrong, or the spinner of a write under way).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::model::{Dialog, Model, Tone};
use super::super::theme::Theme;
use super::text::{safe, spinner};

pub fn header(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: Theme) {
    let mut spans = vec![Span::styled(" tokendist ", theme.heading())];
    if !model.source.is_empty() {
        spans.push(Span::styled(safe(&model.source), theme.muted()));
    }
    if let Some(at) = model.list.loaded_at {
        spans.push(Span::styled(
            format!(" · updated {}", at.format("%H:%M:%S")),
            theme.muted(),
        ));
    }
    if model.list.loading {
        spans.push(Span::styled(
            format!(" {}", spinner(model.spinner)),
            theme.accent(),
        ));
    }
    if model.read_only {
        spans.push(Span::styled("  READ-ONLY ", theme.warn()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Key/label pairs as the bar shows them.
fn pairs(items: &[(String, &str)], theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (key, label) in items {
        spans.push(Span::styled(format!(" {key}"), theme.accent()));
        spans.push(Span::raw(format!(" {label} ")));
    }
    Line::from(spans)
}

pub fn command_bar(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: Theme) {
    let owned = |items: &[(&str, &'static str)]| -> Vec<(String, &'static str)> {
        items.iter().map(|(k, l)| ((*k).to_owned(), *l)).collect()
    };
    let items = match (&model.dialog, model.help, model.list.filter_editing) {
        (_, true, _) => owned(&[("Esc/?", "close help")]),
        (Some(Dialog::Approve(_)), _, _) => owned(&[
            ("Tab", "next field"),
            ("←/→", "pick file / button"),
            ("Space", "toggle"),
            ("y", "approve"),
            ("n/Esc", "cancel"),
        ]),
        (Some(Dialog::Revoke(_)), _, _) => owned(&[
            ("Tab", "next field"),
            ("Enter", "revoke"),
            ("Esc", "cancel"),
        ]),
        (None, false, true) => owned(&[
            ("type", "name, project or check"),
            ("Enter", "keep filter"),
            ("Esc", "clear"),
        ]),
        (None, false, false) => model.keymap.bar(),
    };
    frame.render_widget(Paragraph::new(pairs(&items, theme)), area);
}

pub fn status_line(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: Theme) {
    let line = match (&model.busy, &model.status) {
        (Some(busy), _) => Line::styled(
            format!(" {} {}…", spinner(model.spinner), busy),
            theme.accent(),
        ),
        (None, Some(status)) => {
            let style = match status.tone {
                Tone::Info => theme.muted(),
                Tone::Success => theme.ok(),
                Tone::Error => theme.danger(),
            };
            Line::styled(format!(" {}", safe(&status.text)), style)
        }
        (None, None) => Line::default(),
    };
    frame.render_widget(Paragraph::new(line), area);
}
