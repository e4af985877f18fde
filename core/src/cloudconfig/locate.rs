//! Ties a [`Place`] the analysis reports (top-level key, list entry, line of a written file) to a
//! 1-based line of the user-data text, for the console's flagged lines. It reads only the block
//! layout the analysis accepted (one document, keys at column 0, block lists); where a place cannot be
//! pinned down further (a flow list `[a, b]`, a folded command, base64 content) it answers the
//! nearest enclosing line it can find — the entry, else the key — and `None` only when even the key
//! is not found, so a finding is never dropped for want of a line.

use super::finding::Place;

/// The 1-based line of `place` in `text`, or the line of the nearest enclosing place found. For
/// many places in one text, build a [`Locator`] once.
pub fn line_of(text: &str, place: &Place) -> Option<usize> {
    Locator::new(text).line_of(place)
}

/// A text's layout read once: its lines and each top-level key with its list items.
#[derive(Debug, Clone)]
pub struct Locator<'a> {
    lines: Vec<&'a str>,
    sections: Vec<Section>,
}

/// One top-level key: its line, where its value ends, and the lines of its block list's items
/// (0-based line indices).
#[derive(Debug, Clone)]
struct Section {
    key: String,
    line: usize,
    end: usize,
    items: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        let lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let starts: Vec<usize> = (0..lines.len())
            .filter(|&i| starts_top_level_node(lines[i]))
            .collect();
        let sections = starts
            .iter()
            .enumerate()
            .filter_map(|(n, &line)| {
                let key = top_level_key(lines[line])?;
                let end = starts.get(n + 1).copied().unwrap_or(lines.len());
                let items = list_items(&lines[line + 1..end])
                    .into_iter()
                    .map(|offset| line + 1 + offset)
                    .collect();
                Some(Section {
                    key,
                    line,
                    end,
                    items,
                })
            })
            .collect();
        Self { lines, sections }
    }

    /// The 1-based line of `place`, or the line of the nearest enclosing place found; `None` when
    /// not even its key is in the text.
    pub fn line_of(&self, place: &Place) -> Option<usize> {
        let section = self.sections.iter().find(|s| s.key == place.section)?;
        let Some(index) = place.index else {
            return Some(section.line + 1);
        };
        let Some(&item_line) = section.items.get(index) else {
            return Some(section.line + 1);
        };
        let item_end = section.items.get(index + 1).copied().unwrap_or(section.end);
        let on_file_line = place.file_line.as_deref().and_then(|wanted| {
            self.lines[item_line..item_end]
                .iter()
                .position(|line| begins_logical_line(line, wanted))
        });
        Some(on_file_line.map_or(item_line, |offset| item_line + offset) + 1)
    }
}

/// The key of a top-level mapping entry (`runcmd:` or `"runcmd" :`), unquoted.
fn top_level_key(line: &str) -> Option<String> {
    if !starts_top_level_node(line) {
        return None;
    }
    let bytes = line.as_bytes();
    let colon = (0..bytes.len()).find(|&i| {
        bytes[i] == b':' && bytes.get(i + 1).is_none_or(|c| *c == b' ' || *c == b'\t')
    })?;
    let key = line[..colon].trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| key.strip_prefix(*q).and_then(|k| k.strip_suffix(*q)))
        .unwrap_or(key);
    Some(unquoted.to_owned())
}

/// True for a line that starts a top-level key at column 0 (not blank, not a comment, not a list
/// item of the key above: `- …` may sit at column 0).
fn starts_top_level_node(line: &str) -> bool {
    let list_item = line
        .strip_prefix('-')
        .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']));
    !list_item
        && line
            .chars()
            .next()
            .is_some_and(|c| !matches!(c, ' ' | '\t' | '#'))
}

/// The offsets of a block list's items (`- …` at the indentation of the first one), or none when the
/// section's value is not a block list.
fn list_items(body: &[&str]) -> Vec<usize> {
    let is_item = |line: &str| {
        let rest = line.trim_start_matches(' ');
        rest.strip_prefix('-')
            .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']))
    };
    let indent = |line: &str| line.len() - line.trim_start_matches(' ').len();
    let Some(first) = body.iter().find(|line| {
        let rest = line.trim_start();
        !rest.is_empty() && !rest.starts_with('#')
    }) else {
        return Vec::new();
    };
    if !is_item(first) {
        return Vec::new();
    }
    let item_indent = indent(first);
    body.iter()
        .enumerate()
        .filter(|(_, line)| is_item(line) && indent(line) == item_indent)
        .map(|(offset, _)| offset)
        .collect()
}

/// True when the physical `line` (inside a block scalar) is where the logical line `wanted` (a
/// file line with `\` continuations joined) begins.
fn begins_logical_line(line: &str, wanted: &str) -> bool {
    let physical = line.trim();
    let wanted = wanted.trim();
    if physical.is_empty() {
        return false;
    }
    match physical.strip_suffix('\\') {
        Some(head) => wanted.starts_with(head.trim_end()),
        None => physical == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "#cloud-config\nwrite_files:\n- path: /etc/systemd/system/x.service\n  content: |\n    [Service]\n    ExecStart=/usr/bin/docker run \\\n      img:latest\n- path: /etc/tokendist/c\n  content: x\n\"bootcmd\" :\n  - a\n  # - b\n  - |\n    c\n  - d\nruncmd: [x, y]\n";

    #[test]
    fn entries_and_keys_are_found_whatever_the_indentation_or_quoting() {
        assert_eq!(line_of(TEXT, &Place::section("write_files")), Some(2));
        assert_eq!(line_of(TEXT, &Place::entry("bootcmd", 0)), Some(11));
        assert_eq!(line_of(TEXT, &Place::entry("bootcmd", 1)), Some(13));
        assert_eq!(line_of(TEXT, &Place::entry("bootcmd", 2)), Some(15));
        assert_eq!(line_of(TEXT, &Place::file(1, "/etc/tokendist/c")), Some(8));
    }

    #[test]
    fn a_unit_line_is_found_in_its_file_even_when_continued() {
        let place = Place::file(0, "/etc/systemd/system/x.service")
            .on_file_line("ExecStart=/usr/bin/docker run  img:latest");
        assert_eq!(line_of(TEXT, &place), Some(6));
        let absent = Place::file(0, "x").on_file_line("ExecStart=other");
        assert_eq!(line_of(TEXT, &absent), Some(3));
    }

    #[test]
    fn what_cannot_be_pinned_down_falls_back_to_the_enclosing_line() {
        assert_eq!(line_of(TEXT, &Place::entry("runcmd", 1)), Some(16));
        assert_eq!(line_of(TEXT, &Place::entry("bootcmd", 7)), Some(10));
        assert_eq!(line_of(TEXT, &Place::section("users")), None);
    }
}
