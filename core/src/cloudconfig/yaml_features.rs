//! Finds the YAML features the cloud-config analysis does not interpret, on the text itself (serde_yaml
//! resolves anchors and aliases silently and keeps `<<` as an ordinary key, so the parsed value cannot
//! show them): anchors (`&a`), aliases (`*a`), tags (`!!binary`, `!foo`), merge keys (`<<`), complex
//! keys (`? `), directives (`%YAML`), document markers (`---`, `...`), tab indentation and quoted
//! scalars that span lines.
//!
//! The scan is deliberately conservative: it tracks block-scalar content (skipped: it is text, not
//! structure), quoted scalars, comments and flow collections, and looks at every place a YAML node
//! may start. Where it cannot be sure a place is not a node start it assumes it is, so a false alarm
//! is possible (the analysis then calls the text uninspectable) but a missed feature is not. A block
//! scalar's content is taken to be only the lines indented deeper than the key or `-` that introduced
//! it, which is at least as deep as YAML requires, so structure is never skipped as content.

/// One unsupported feature, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub line: usize,
    pub what: &'static str,
}

/// Every unsupported feature of `text`, in document order (at most one per line).
pub fn unsupported(text: &str) -> Vec<Unsupported> {
    let mut found = Vec::new();
    let mut block_owner: Option<usize> = None;
    let mut flow_depth = 0usize;
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        // YAML 1.1 (cloud-init's PyYAML, and libyaml) also breaks lines at a lone CR, NEL, LS and PS;
        // this scanner does not, so such text is not interpreted at all.
        if line.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            found.push(Unsupported {
                line: number,
                what: "a line break other than LF or CRLF",
            });
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(owner) = block_owner {
            if line.trim_start_matches(' ').is_empty() || indent > owner {
                continue;
            }
            block_owner = None;
        }
        match scan_line(line, &mut flow_depth) {
            LineScan::Plain => {}
            LineScan::BlockScalar { owner } => block_owner = Some(owner),
            LineScan::Unsupported(what) => found.push(Unsupported { line: number, what }),
        }
    }
    found
}

enum LineScan {
    Plain,
    /// The line ends with a block scalar header; lines indented deeper than `owner` are its content.
    BlockScalar {
        owner: usize,
    },
    Unsupported(&'static str),
}

/// How deeply flow collections (`[`, `{`) may nest. Cloud-configs nest one or two; libyaml's scanner
/// takes time quadratic in the depth (7 s for 20,000 under the fuzz build), all spent before
/// serde_yaml's recursion limit would refuse the text.
const MAX_FLOW_DEPTH: usize = 32;
const TOO_DEEP: &str = "flow collections nested more than 32 deep";

fn scan_line(line: &str, flow_depth: &mut usize) -> LineScan {
    let chars: Vec<char> = line.chars().collect();
    if chars.first() == Some(&'\t') {
        return LineScan::Unsupported("tab indentation");
    }
    if chars.first() == Some(&'%') {
        return LineScan::Unsupported("a YAML directive (`%`)");
    }
    for marker in ["---", "..."] {
        if let Some(rest) = line.strip_prefix(marker)
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            return LineScan::Unsupported(
                "a document marker (`---` or `...`): more than one document, or an explicit one",
            );
        }
    }
    let mut expect_node = true;
    let mut node_start: Option<usize> = None;
    let mut after_space = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let next_is_blank = next.is_none_or(|n| n == ' ' || n == '\t');
        if c == ' ' || c == '\t' {
            after_space = true;
            i += 1;
            continue;
        }
        if c == '#' && after_space {
            break;
        }
        after_space = false;
        if expect_node {
            match c {
                '&' => return LineScan::Unsupported("a YAML anchor (`&`)"),
                '*' => return LineScan::Unsupported("a YAML alias (`*`)"),
                '!' => return LineScan::Unsupported("a YAML tag (`!`)"),
                '<' if next == Some('<') => {
                    return LineScan::Unsupported("a YAML merge key (`<<`)");
                }
                '?' if next_is_blank => return LineScan::Unsupported("a YAML complex key (`?`)"),
                '-' if next_is_blank => {
                    node_start = Some(i);
                    i += 1;
                    continue;
                }
                '|' | '>' => {
                    let header_ok = chars[i + 1..]
                        .iter()
                        .take_while(|h| !matches!(h, ' ' | '\t'))
                        .all(|h| h.is_ascii_digit() || matches!(h, '+' | '-'));
                    let rest: String = chars[i + 1..].iter().collect();
                    let rest = rest
                        .trim_start_matches(|h: char| h.is_ascii_digit() || matches!(h, '+' | '-'));
                    let trailing = rest.trim_start();
                    if !header_ok || !(trailing.is_empty() || trailing.starts_with('#')) {
                        return LineScan::Unsupported("a malformed block scalar header");
                    }
                    if *flow_depth > 0 {
                        return LineScan::Unsupported("a block scalar inside a flow collection");
                    }
                    return LineScan::BlockScalar {
                        owner: node_start.unwrap_or(i),
                    };
                }
                '"' | '\'' => {
                    node_start = Some(i);
                    match closing_quote(&chars, i) {
                        Some(end) => {
                            i = end + 1;
                            expect_node = false;
                            continue;
                        }
                        None => {
                            return LineScan::Unsupported("a quoted scalar that spans lines");
                        }
                    }
                }
                '[' | '{' => {
                    *flow_depth += 1;
                    if *flow_depth > MAX_FLOW_DEPTH {
                        return LineScan::Unsupported(TOO_DEEP);
                    }
                    i += 1;
                    continue;
                }
                _ => {
                    node_start = Some(i);
                    expect_node = false;
                }
            }
        }
        match c {
            ':' if next_is_blank || *flow_depth > 0 => expect_node = true,
            ',' | '[' | '{' if *flow_depth > 0 => {
                if c != ',' {
                    *flow_depth += 1;
                    if *flow_depth > MAX_FLOW_DEPTH {
                        return LineScan::Unsupported(TOO_DEEP);
                    }
                }
                expect_node = true;
            }
            ']' | '}' if *flow_depth > 0 => *flow_depth -= 1,
            _ => {}
        }
        i += 1;
    }
    LineScan::Plain
}

/// The index of the quote that closes the one at `open`, on the same line.
fn closing_quote(chars: &[char], open: usize) -> Option<usize> {
    let quote = chars[open];
    let mut i = open + 1;
    while i < chars.len() {
        match (quote, chars[i]) {
            ('"', '\\') => i += 2,
            ('\'', '\'') if chars.get(i + 1) == Some(&'\'') => i += 2,
            (q, c) if c == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whats(text: &str) -> Vec<(usize, &'static str)> {
        unsupported(text)
            .into_iter()
            .map(|u| (u.line, u.what))
            .collect()
    }

    #[test]
    fn plain_cloud_config_has_none() {
        let text = "#cloud-config\nwrite_files:\n- path: /x\n  content: |\n    &a *b !c <<: x\n    --- \n  owner: root\nbootcmd:\n- a && b # c\n- [sh, -c, \"x & y\"]\n- 'it''s'\n";
        assert_eq!(whats(text), []);
    }

    #[test]
    fn anchors_aliases_tags_and_merge_keys_are_found_outside_block_content() {
        let text = "#cloud-config\nx: &cmds\n- a\nruncmd: *cmds\n<<: {bootcmd: [b]}\nwrite_files:\n- content: !!binary |\n    AAAA\n- {path: /x, <<: *m}\n";
        assert_eq!(
            whats(text),
            [
                (2, "a YAML anchor (`&`)"),
                (4, "a YAML alias (`*`)"),
                (5, "a YAML merge key (`<<`)"),
                (7, "a YAML tag (`!`)"),
                (9, "a YAML merge key (`<<`)"),
            ]
        );
    }

    #[test]
    fn block_content_ends_at_the_owner_indentation() {
        let text = "runcmd:\n- |\n  echo\n-  *a\n- k: |\n    x\n  j: &b y\n";
        assert_eq!(
            whats(text),
            [(4, "a YAML alias (`*`)"), (7, "a YAML anchor (`&`)")]
        );
    }

    #[test]
    fn documents_directives_and_multi_line_quotes_are_found() {
        assert_eq!(whats("a: 1\n---\nb: 2\n")[0].0, 2);
        assert_eq!(whats("%YAML 1.1\n---\n")[0].0, 1);
        assert_eq!(
            whats("a: \"x\n  y\"\n")[0].1,
            "a quoted scalar that spans lines"
        );
        assert_eq!(whats("a: ? b\n")[0].1, "a YAML complex key (`?`)");
        for text in [
            "a: x\r- &b c\n",
            "a: x\u{85}- &b c\n",
            "a: x\u{2028}b: *c\n",
        ] {
            assert_eq!(
                whats(text),
                [(1, "a line break other than LF or CRLF")],
                "{text:?}"
            );
        }
    }

    /// 20,000 nested `[` (40 KB of user-data; GCE allows 256 KB) took the YAML parser 7 s under the
    /// fuzz build (libyaml's scanner is quadratic in the flow depth), all spent before serde_yaml's
    /// recursion limit refused it: a VM owner could make every review that slow. Found with the
    /// cloudconfig_analyse fuzz target's binary on a hand-made input (fuzz/README.md).
    #[test]
    fn fuzz_regression_deep_flow_nesting_is_refused_before_the_yaml_parse() {
        let deep = format!(
            "#cloud-config\nx: {}{}\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        );
        assert_eq!(
            whats(&deep),
            [(2, "flow collections nested more than 32 deep")]
        );
        let error = crate::cloudconfig::analyse(&deep).unwrap_err();
        assert!(
            matches!(
                &error,
                crate::cloudconfig::CloudConfigError::Uninspectable(_)
            ),
            "{error}"
        );
        let at_the_limit = format!("#cloud-config\nx: {}{}\n", "[".repeat(32), "]".repeat(32));
        assert_eq!(whats(&at_the_limit), []);
    }
}
