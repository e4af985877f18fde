//! Formatting helpers the views share: terminal-safe text (control characters escaped), truncation
//! to a width, word wrapping, times, check markers (✔ ✘ –) and label/value lines.

use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tokendist_core::terminal_text::printable_line;
use tokendist_core::verdict::{CheckResult, Outcome};

use super::super::theme::Theme;

/// Text from the store or Google, with control characters escaped (it reaches the terminal).
pub fn safe(text: &str) -> String {
    printable_line(text).into_owned()
}

/// `text` cut to `width` characters, with `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` cut to its last `width` characters, with `…` in front when cut (keeps a path's name).
pub fn fit_left(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let mut out = "…".to_owned();
    out.extend(text.chars().skip(count + 1 - width.max(1)));
    out
}

/// `text` padded or cut to exactly `width` characters.
pub fn cell(text: &str, width: usize) -> String {
    format!("{:<width$}", fit(text, width))
}

/// `text` broken into lines of at most `width` characters, at spaces where possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let word_len = word.chars().count();
        let len = current.chars().count();
        if len > 0 && len + 1 + word_len > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        while current.chars().count() > width {
            let head: String = current.chars().take(width).collect();
            current = current.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn time_or_dash(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "–".to_owned(), time)
}

/// The marker and style of a check outcome.
pub fn mark(outcome: &Outcome, theme: Theme) -> (&'static str, Style) {
    match outcome {
        Outcome::Pass => ("✔", theme.ok()),
        Outcome::Fail(_) => ("✘", theme.danger()),
        Outcome::Skipped(_) => ("–", theme.muted()),
    }
}

/// `✔` / `✘` for a yes/no property.
pub fn yes_no(value: bool, theme: Theme) -> Span<'static> {
    if value {
        Span::styled("✔", theme.ok())
    } else {
        Span::styled("✘", theme.danger())
    }
}

/// A `label  value` line with the label in a fixed column.
pub fn field(label: &str, value: impl Into<String>, theme: Theme) -> Line<'static> {
    field_spans(label, vec![Span::raw(value.into())], theme)
}

/// A label followed by styled spans.
pub fn field_spans(label: &str, mut spans: Vec<Span<'static>>, theme: Theme) -> Line<'static> {
    let mut all = vec![Span::styled(format!("{label:<13}"), theme.label())];
    all.append(&mut spans);
    Line::from(all)
}

pub fn heading(text: impl Into<String>, theme: Theme) -> Line<'static> {
    Line::styled(text.into(), theme.heading())
}

/// A check as one or more lines: marker, name, then its reason wrapped below when long.
pub fn check_lines(check: &CheckResult, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let (marker, style) = mark(&check.outcome, theme);
    let reason = match &check.outcome {
        Outcome::Pass => None,
        Outcome::Fail(r) | Outcome::Skipped(r) => Some(safe(r)),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{marker} "), style),
        Span::styled(safe(&check.name), style),
    ])];
    if let Some(reason) = reason {
        let reason_style = if check.is_fail() {
            theme.danger()
        } else {
            theme.muted()
        };
        for part in wrap(&reason, width.saturating_sub(4)) {
            lines.push(Line::styled(format!("    {part}"), reason_style));
        }
    }
    lines
}

/// Spinner frames for work under way.
pub fn spinner(frame: usize) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    FRAMES[frame % FRAMES.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 8), ["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghijkl", 8), ["abcdefgh", "ijkl"]);
        assert_eq!(wrap("", 8), [""]);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit_left("p/z/name", 5), "…name");
        assert!(!safe("a\u{1b}[31mb").contains('\u{1b}'));
    }
}
