//! The Cloud-config tab: the live user-data against the trusted template (holes filled) and against
//! the text approved last time, as unified diffs with both line numbers and a `+` / `-` gutter; the
//! lines that break a check flagged inline with the check's name; then each hole's live value and
//! whether it matches its pattern. Without a diff, the live text is shown with its flagged lines.

use std::collections::BTreeMap;

use ratatui::text::{Line, Span};

use super::super::theme::Theme;
use super::text::{heading, safe, wrap};
use crate::operations::model::{
    CloudConfigView, DiffLine, DiffTag, FlaggedLine, TextDiff, VmDetail,
};

pub fn lines(detail: &VmDetail, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let view = &detail.cloud_config;
    let flags: BTreeMap<usize, Vec<&FlaggedLine>> =
        view.flagged.iter().fold(BTreeMap::new(), |mut map, f| {
            map.entry(f.line).or_insert_with(Vec::new).push(f);
            map
        });
    let mut out = Vec::new();
    if view.live.is_none() {
        out.push(Line::styled(
            "✘ the instance has no user-data (or it could not be read)".to_owned(),
            theme.danger(),
        ));
    }
    if !view.flagged.is_empty() {
        out.push(Line::styled(
            format!(
                "✘ {} line(s) break {} check(s) (marked ✘ below)",
                flags.len(),
                view.flagged.len()
            ),
            theme.danger(),
        ));
    }
    match &view.against_template {
        Some(diff) => out.extend(diff_lines(diff, &flags, width, theme)),
        None => {
            out.push(heading(
                "No trusted template configured: the live user-data as it is",
                theme,
            ));
            out.extend(live_lines(view, &flags, width, theme));
        }
    }
    out.extend(holes(view, width, theme));
    out.push(Line::default());
    match (&view.against_approved, &view.approved_text_problem) {
        (Some(diff), _) => out.extend(diff_lines(diff, &flags, width, theme)),
        (None, Some(problem)) => out.push(Line::styled(
            format!("✘ no diff against the approved text: {}", safe(problem)),
            theme.danger(),
        )),
        (None, None) => out.push(Line::styled(
            "– no approved text to compare with (not approved yet)".to_owned(),
            theme.muted(),
        )),
    }
    out
}

/// A diff as lines: `old new ±text`, flagged live lines followed by the checks they break.
/// Unchanged lines kept around each change (and each flagged line), as in a unified diff.
const CONTEXT: usize = 3;

/// Which diff lines to show: every line when nothing changed (the text is what Alice reviews),
/// else the changes and flagged lines with [`CONTEXT`] lines around them.
fn shown(diff: &TextDiff, flags: &BTreeMap<usize, Vec<&FlaggedLine>>) -> Vec<bool> {
    let interesting: Vec<bool> = diff
        .lines
        .iter()
        .map(|l| l.tag != DiffTag::Same || l.new_line.is_some_and(|n| flags.contains_key(&n)))
        .collect();
    if !interesting.contains(&true) {
        return vec![true; diff.lines.len()];
    }
    let mut keep = vec![false; diff.lines.len()];
    for (i, _) in interesting.iter().enumerate().filter(|(_, hit)| **hit) {
        let end = (i + CONTEXT + 1).min(keep.len());
        keep[i.saturating_sub(CONTEXT)..end].fill(true);
    }
    keep
}

/// A diff as lines: `old new ±text`, flagged live lines followed by the checks they break, long
/// unchanged stretches folded into one `⋯` line.
fn diff_lines(
    diff: &TextDiff,
    flags: &BTreeMap<usize, Vec<&FlaggedLine>>,
    width: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let changed = diff.lines.iter().filter(|l| l.tag != DiffTag::Same).count();
    let mut out = vec![Line::from(vec![
        Span::styled(format!("Against {}", safe(&diff.against)), theme.heading()),
        Span::styled(format!("  ({changed} changed line(s))"), theme.muted()),
    ])];
    let keep = shown(diff, flags);
    let mut folded = 0usize;
    for (line, keep) in diff.lines.iter().zip(keep) {
        if !keep {
            folded += 1;
            continue;
        }
        if folded > 0 {
            out.push(fold_line(folded, theme));
            folded = 0;
        }
        out.push(diff_line(line, theme));
        if let Some(flagged) = line.new_line.and_then(|n| flags.get(&n)) {
            out.extend(flag_notes(flagged, width, theme));
        }
    }
    if folded > 0 {
        out.push(fold_line(folded, theme));
    }
    out
}

fn fold_line(count: usize, theme: Theme) -> Line<'static> {
    Line::styled(
        format!("          ⋯ {count} unchanged line(s)"),
        theme.muted(),
    )
}

fn diff_line(line: &DiffLine, theme: Theme) -> Line<'static> {
    let (marker, style) = match line.tag {
        DiffTag::Same => (' ', ratatui::style::Style::new()),
        DiffTag::Added => ('+', theme.diff_added()),
        DiffTag::Removed => ('-', theme.diff_removed()),
    };
    let number = |n: Option<usize>| n.map_or_else(|| "    ".to_owned(), |n| format!("{n:>4}"));
    Line::from(vec![
        Span::styled(
            format!("{} {} ", number(line.old_line), number(line.new_line)),
            theme.muted(),
        ),
        Span::styled(format!("{marker}{}", safe(&line.text)), style),
    ])
}

/// The lines under a flagged line: each check it breaks and why, wrapped to `width` (never cut off).
fn flag_notes(flagged: &[&FlaggedLine], width: usize, theme: Theme) -> Vec<Line<'static>> {
    let indent = "          ";
    let mut out = Vec::new();
    for flag in flagged {
        let text = format!("✘ {}: {}", safe(&flag.check), safe(&flag.why));
        for (i, part) in wrap(&text, width.saturating_sub(indent.len() + 2))
            .into_iter()
            .enumerate()
        {
            let pad = if i == 0 { "" } else { "  " };
            out.push(Line::styled(
                format!("{indent}{pad}{part}"),
                theme.flagged(),
            ));
        }
    }
    out
}

fn live_lines(
    view: &CloudConfigView,
    flags: &BTreeMap<usize, Vec<&FlaggedLine>>,
    width: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let Some(live) = &view.live else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, text) in (1..).zip(live.lines()) {
        out.push(Line::from(vec![
            Span::styled(format!("{n:>4} "), theme.muted()),
            Span::raw(safe(text)),
        ]));
        if let Some(flagged) = flags.get(&n) {
            out.extend(flag_notes(flagged, width, theme));
        }
    }
    out
}

fn holes(view: &CloudConfigView, width: usize, theme: Theme) -> Vec<Line<'static>> {
    if view.holes.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        Line::default(),
        heading("Template holes (live values)", theme),
    ];
    for hole in &view.holes {
        let value = hole
            .value
            .as_deref()
            .map_or_else(|| "(not found)".to_owned(), safe);
        let (marker, style) = match &hole.problem {
            None => ("✔", theme.ok()),
            Some(_) => ("✘", theme.danger()),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{marker} {}", safe(&hole.name)), style),
            Span::raw(format!(" = {value}")),
            Span::styled(format!("  pattern {}", safe(&hole.pattern)), theme.muted()),
        ]));
        if let Some(problem) = &hole.problem {
            for part in wrap(&safe(problem), width.saturating_sub(4)) {
                out.push(Line::styled(format!("    {part}"), theme.danger()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, tag: DiffTag) -> DiffLine {
        DiffLine {
            tag,
            old_line: Some(n),
            new_line: Some(n),
            text: format!("line {n}"),
        }
    }

    #[test]
    fn unchanged_stretches_fold_around_changes_and_flagged_lines() {
        let mut lines: Vec<DiffLine> = (1..=40).map(|n| line(n, DiffTag::Same)).collect();
        lines[19].tag = DiffTag::Added;
        let diff = TextDiff {
            against: "t".into(),
            lines,
        };
        let flagged = FlaggedLine {
            line: 2,
            check: "cloudconfig.ssh_disabled".into(),
            why: "opens SSH".into(),
        };
        let flags = BTreeMap::from([(2, vec![&flagged])]);
        let keep = shown(&diff, &flags);
        let kept: Vec<usize> = (1..=40).filter(|n| keep[n - 1]).collect();
        assert_eq!(kept, [1, 2, 3, 4, 5, 17, 18, 19, 20, 21, 22, 23]);
        let text: Vec<String> = diff_lines(&diff, &flags, 80, Theme::new(false))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            text.iter().any(|l| l.contains("⋯ 11 unchanged line(s)")),
            "{text:#?}"
        );
        assert!(
            text.iter().any(|l| l.contains("⋯ 17 unchanged line(s)")),
            "{text:#?}"
        );
        // Nothing changed: the whole text is shown.
        let same = TextDiff {
            against: "t".into(),
            lines: (1..=40).map(|n| line(n, DiffTag::Same)).collect(),
        };
        assert!(shown(&same, &BTreeMap::new()).iter().all(|k| *k));
    }
}
