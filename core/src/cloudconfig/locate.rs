//! Ties a [`Place`] the analysis reports (top-level key, list entry, line of a written file) to a
//! 1-based line of the user-data text, for the console's flagged lines. It reads only the block
//! layout the analysis accepted (one document, keys at column 0, block lists); where a place cannot be
//! pinned down further (a flow list `[a, b]`, a folded command, base64 content) it answers the
//! nearest enclosing line it can find — the entry, else the key — and `None` only when even the key
//! is not found, so a finding is never dropped for want of a line.

use super::finding::Place;

/// The 1-based line of `place` in `text`, or the line of the nearest enclosing place found.
pub fn line_of(text: &str, place: &Place) -> Option<usize> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let key_line = lines
        .iter()
        .position(|line| top_level_key(line).is_some_and(|key| key == place.section))?;
    let section_end = lines[key_line + 1..]
        .iter()
        .position(|line| starts_top_level_node(line))
        .map_or(lines.len(), |offset| key_line + 1 + offset);
    let Some(index) = place.index else {
        return Some(key_line + 1);
    };
    let items = list_items(&lines[key_line + 1..section_end]);
    let Some(&item) = items.get(index) else {
        return Some(key_line + 1);
    };
    let item_line = key_line + 1 + item;
    let item_end = items
        .get(index + 1)
        .map_or(section_end, |&next| key_line + 1 + next);
    let on_file_line = place.file_line.as_deref().and_then(|wanted| {
        lines[item_line..item_end]
            .iter()
            .position(|line| begins_logical_line(line, wanted))
    });
    Some(on_file_line.map_or(item_line, |offset| item_line + offset) + 1)
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
