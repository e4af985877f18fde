//! Runnable examples in Markdown (`docs/operations.md`): the blocks, parsed, and the matcher of a
//! command's output against the documented one. Pure: running them is the test's job.
//!
//! The format, documented in the preamble of the daemon part of `docs/operations.md`:
//! - a ` ```console ` block holds commands: a line starting `$ ` starts one (a trailing `\` continues
//!   it on the next line); the lines after it, up to the next `$ ` or the block's end, are its
//!   expected output, where a line `...` stands for any number of lines and `[..]` for any text within
//!   a line; a last expected line `[exit N]` expects exit status N (otherwise 0);
//! - a ` ```toml file=PATH ` (any language) block is a file the following commands need;
//! - every other block is shown, not run.

/// One runnable piece of a document, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Example {
    /// A file to write before the commands after it run.
    File {
        path: String,
        contents: String,
        line: usize,
    },
    /// A command line and what it prints.
    Command(CommandExample),
}

/// A `$ ` command of a console block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandExample {
    /// The command as bash reads it (continuations kept).
    pub command: String,
    /// The documented output lines (without the `[exit N]` line).
    pub expected: Vec<String>,
    /// The documented exit status.
    pub exit_code: i32,
    /// 1-based line of the `$ ` in the document.
    pub line: usize,
}

/// The examples of `markdown` after the first line that starts with `from_heading` (the whole document
/// when it is empty), in order.
pub fn parse(markdown: &str, from_heading: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut started = from_heading.is_empty();
    let mut lines = markdown.lines().enumerate().peekable();
    while let Some((index, line)) = lines.next() {
        if !started {
            started = line.starts_with(from_heading);
            continue;
        }
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let mut body = Vec::new();
        for (body_index, body_line) in lines.by_ref() {
            if body_line.trim_start().starts_with("```") {
                break;
            }
            body.push((body_index + 1, body_line));
        }
        let info = info.trim();
        if info == "console" {
            examples.extend(console_commands(&body).into_iter().map(Example::Command));
        } else if let Some(path) = info
            .split_whitespace()
            .find_map(|word| word.strip_prefix("file="))
        {
            let contents: String = body.iter().map(|(_, text)| format!("{text}\n")).collect();
            examples.push(Example::File {
                path: path.to_string(),
                contents,
                line: index + 1,
            });
        }
    }
    examples
}

fn console_commands(body: &[(usize, &str)]) -> Vec<CommandExample> {
    let mut commands: Vec<CommandExample> = Vec::new();
    let mut continuing = false;
    for &(line, text) in body {
        if continuing && let Some(current) = commands.last_mut() {
            current.command.push('\n');
            current.command.push_str(text);
            continuing = text.ends_with('\\');
        } else if let Some(command) = text.strip_prefix("$ ") {
            commands.push(CommandExample {
                command: command.to_string(),
                expected: Vec::new(),
                exit_code: 0,
                line,
            });
            continuing = command.ends_with('\\');
        } else if let Some(current) = commands.last_mut() {
            current.expected.push(text.to_string());
        }
    }
    for command in &mut commands {
        let status = command
            .expected
            .last()
            .and_then(|last| last.strip_prefix("[exit "))
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|code| code.parse().ok());
        if let Some(code) = status {
            command.exit_code = code;
            command.expected.pop();
        }
    }
    commands
}

/// Whether `actual` output matches the documented `expected` lines (`...` any lines, `[..]` any text).
pub fn matches(expected: &[String], actual: &str) -> bool {
    let actual: Vec<&str> = actual.lines().collect();
    match_lines(expected, &actual)
}

fn match_lines(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| match_lines(rest, &actual[skip..]))
        }
        Some((first, rest)) => match actual.split_first() {
            Some((line, actual_rest)) => {
                line_matches(first, line) && match_lines(rest, actual_rest)
            }
            None => false,
        },
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let pieces: Vec<&str> = pattern.trim_end().split("[..]").collect();
    let line = line.trim_end();
    let [first, middle @ .., last] = pieces.as_slice() else {
        return pattern.trim_end() == line;
    };
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Intro\n```console\n$ ignored\n```\n## Daemons\ntext\n\
```toml file=/etc/tokendist/a.toml\nx = 1\n```\n\
```console\n$ tokenserver --check-config \\\n  --config a.toml\nconfiguration OK[..]\n...\n$ false\n[exit 1]\n```\n\
```sh\n$ systemctl start tokenserver\n```\n";

    #[test]
    fn blocks_after_the_heading_are_parsed_in_order() {
        let examples = parse(DOC, "## Daemons");
        assert_eq!(examples.len(), 3, "{examples:?}");
        assert_eq!(
            examples[0],
            Example::File {
                path: "/etc/tokendist/a.toml".into(),
                contents: "x = 1\n".into(),
                line: 7
            }
        );
        let Example::Command(check) = &examples[1] else {
            panic!("{examples:?}")
        };
        assert_eq!(
            check.command,
            "tokenserver --check-config \\\n  --config a.toml"
        );
        assert_eq!(check.expected, ["configuration OK[..]", "..."]);
        assert_eq!((check.exit_code, check.line), (0, 11));
        let Example::Command(fails) = &examples[2] else {
            panic!("{examples:?}")
        };
        assert_eq!((fails.command.as_str(), fails.exit_code), ("false", 1));
        assert!(fails.expected.is_empty());
        assert_eq!(parse(DOC, "").len(), 4, "the whole document");
    }

    #[test]
    fn output_matching_honours_wildcards_and_fails_otherwise() {
        let expected: Vec<String> = ["a [..] c", "...", "end"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(matches(&expected, "a b c\nx\ny\nend\n"));
        assert!(matches(&expected, "a  c\nend"));
        assert!(!matches(&expected, "a b d\nend"));
        assert!(!matches(&expected, "a b c\nx"));
        assert!(!matches(&expected, "a b c\nend\nmore"));
        assert!(matches(&["ok".to_string()], "ok  \n"));
        assert!(!matches(&["ok".to_string()], "okay"));
        assert!(!matches(&["[..]xx".to_string()], "x"));
        assert!(matches(&[], ""));
        assert!(!matches(&[], "output"));
    }
}
