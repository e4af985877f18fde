//! The help overlay, generated from the keymap (so it lists exactly the keys that work, and in
//! read-only mode no approve or revoke), in two columns so it fits 80×24.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::model::Model;
use super::super::theme::Theme;
use super::dialogs::centered;
use super::text::cell;

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: Theme) {
    let help = model.keymap.help();
    let rows = help.len().div_ceil(2);
    let height = u16::try_from(rows + 4).unwrap_or(u16::MAX);
    let popup = centered(area, area.width.saturating_sub(4).min(110), height);
    let column = usize::from(popup.width.saturating_sub(4)) / 2;
    let entry = |i: usize| -> Vec<Span<'static>> {
        help.get(i).map_or_else(Vec::new, |(keys, what)| {
            vec![
                Span::styled(cell(keys, 11), theme.accent()),
                Span::raw(cell(what, column.saturating_sub(11))),
            ]
        })
    };
    let mut lines: Vec<Line<'static>> = (0..rows)
        .map(|i| {
            let mut spans = entry(i);
            spans.extend(entry(i + rows));
            Line::from(spans)
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(
        "In dialogs: Tab moves between fields, Esc cancels. A keymap file (--keymap) rebinds keys.",
        theme.muted(),
    ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(" Keys (? or Esc closes) "),
        ),
        popup,
    );
}
