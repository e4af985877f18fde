//! Just enough shell parsing to read cloud-config commands and systemd `Exec*=` lines, failing closed:
//! a line is split into simple commands at `;`, `&&`, `||`, `|`, `&` and newlines, and a command into
//! words honouring single and double quotes and backslashes. It never executes or expands anything,
//! so everything that the shell would expand or that changes what runs is refused as "not understood"
//! rather than guessed: `$` (variables, `$(…)`), backticks, comments (`#` at a word start), redirects
//! and here-docs (`<`, `>`), subshells and groups (`(`, `)`, `{`, `}`), globs (`*`, `?`, `[`), `~`, `!`,
//! line continuations, assignments before a command, and shell keywords (`if`, `for`, …). For systemd
//! lines `%` specifiers and every backslash are refused too.

/// Which syntax a line is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Shell,
    /// A systemd `Exec*=` value: like the shell for our purposes, plus `%` specifiers and C escapes.
    Systemd,
}

/// One simple command of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    pub words: Vec<String>,
    /// True when whether it runs depends on another command (after `&&`/`||`) or it reads another
    /// command's output (in a pipeline): such a command never counts as hardening.
    pub conditional: bool,
}

/// Shell reserved words: a command starting with one is a compound command the parser does not follow.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
    "function", "select", "time", "coproc", "[[", "]]",
];

/// Splits `line` into simple commands, or says which construct it does not understand.
pub fn parse(line: &str, syntax: Syntax) -> Result<Vec<SimpleCommand>, String> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut conditional = false;
    let mut next_conditional = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    if syntax == Syntax::Systemd && q == '%' {
                        return Err("a systemd `%` specifier".to_owned());
                    }
                    word.push(q);
                }
                if !closed {
                    return Err("an unterminated single quote".to_owned());
                }
            }
            '"' => {
                in_word = true;
                let mut closed = false;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '$' | '`' => {
                            return Err(format!("`{q}` (an expansion) inside double quotes"));
                        }
                        '%' if syntax == Syntax::Systemd => {
                            return Err("a systemd `%` specifier".to_owned());
                        }
                        '\\' => match (syntax, chars.next()) {
                            (Syntax::Shell, Some(escaped @ ('"' | '\\'))) => word.push(escaped),
                            _ => return Err("a backslash inside double quotes".to_owned()),
                        },
                        _ => word.push(q),
                    }
                }
                if !closed {
                    return Err("an unterminated double quote".to_owned());
                }
            }
            '\\' => {
                if syntax == Syntax::Systemd {
                    return Err("a backslash escape in a systemd command".to_owned());
                }
                match chars.next() {
                    Some('\n') | None => {
                        return Err("a line continuation (`\\` at the end of a line)".to_owned());
                    }
                    Some(escaped) => {
                        in_word = true;
                        word.push(escaped);
                    }
                }
            }
            ';' | '&' | '|' | '\n' => {
                finish_word(&mut word, &mut in_word, &mut words);
                let doubled = (c == '&' || c == '|') && chars.peek() == Some(&c);
                if doubled {
                    chars.next();
                }
                if c == '&' && !doubled {
                    return Err(
                        "`&` (a background job): whether it finished cannot be known".to_owned(),
                    );
                }
                if !words.is_empty() {
                    out.push(command(std::mem::take(&mut words), conditional)?);
                } else if c != '\n' {
                    return Err(format!("`{c}` with no command before it"));
                }
                // After `&&`, `||` or `|` the next command depends on this one; after `;` or a newline
                // it runs whatever the previous one did.
                next_conditional = matches!((c, doubled), ('&', true) | ('|', _));
                conditional = next_conditional;
            }
            '$' | '`' => return Err(format!("`{c}` (an expansion)")),
            '<' | '>' => return Err(format!("a redirect or here-document (`{c}`)")),
            '(' | ')' | '{' | '}' => {
                return Err(format!("a subshell, group or brace expansion (`{c}`)"));
            }
            '*' | '?' | '[' => return Err(format!("a glob (`{c}`)")),
            '!' => return Err("`!`".to_owned()),
            '%' if syntax == Syntax::Systemd => return Err("a systemd `%` specifier".to_owned()),
            '#' | '~' if !in_word => {
                return Err(if c == '#' {
                    "a comment (`#`): the shell ignores the rest of the line".to_owned()
                } else {
                    "a `~` expansion".to_owned()
                });
            }
            ' ' | '\t' => finish_word(&mut word, &mut in_word, &mut words),
            // The shell splits words on space and tab only: a CR, NBSP or other control character
            // would end a word here but stay part of the argument there (`ACCEPT\r`).
            c if c.is_whitespace() || c.is_control() => {
                return Err(format!("{c:?}, which the shell does not split words on"));
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut words);
    if !words.is_empty() {
        out.push(command(words, conditional)?);
    } else if next_conditional {
        return Err("a line ending in `&&`, `||` or `|`".to_owned());
    }
    Ok(out)
}

fn finish_word(word: &mut String, in_word: &mut bool, words: &mut Vec<String>) {
    if *in_word {
        words.push(std::mem::take(word));
        *in_word = false;
    }
}

fn command(words: Vec<String>, conditional: bool) -> Result<SimpleCommand, String> {
    if let Some(first) = words.first() {
        if RESERVED.contains(&first.as_str()) {
            return Err(format!("the shell keyword `{first}`"));
        }
        if first.contains('=') {
            return Err(format!("an assignment before the command ({first:?})"));
        }
    }
    Ok(SimpleCommand { words, conditional })
}

/// The program name of a word without its directory: `/usr/bin/docker` → `docker`.
pub fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Test helper: the words of each command of a line the parser understands.
#[cfg(test)]
pub fn commands(line: &str) -> Vec<Vec<String>> {
    parse(line, Syntax::Shell)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.words)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_operators_and_keeps_quoted_words_whole() {
        let cmds = parse(
            r#"iptables -D INPUT && echo "a b" ; x 'c;d'"#,
            Syntax::Shell,
        )
        .unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].words, ["iptables", "-D", "INPUT"]);
        assert!(!cmds[0].conditional);
        assert_eq!(cmds[1].words, ["echo", "a b"]);
        assert!(cmds[1].conditional);
        assert_eq!(cmds[2].words, ["x", "c;d"]);
        assert!(!cmds[2].conditional);
    }

    #[test]
    fn empty_quotes_make_an_empty_word() {
        assert_eq!(commands("a ''"), vec![vec!["a".to_owned(), String::new()]]);
    }

    #[test]
    fn constructs_it_cannot_follow_are_refused() {
        for line in [
            "true # ; iptables -D INPUT",
            "echo $(id)",
            "echo `id`",
            "echo \"$HOME\"",
            "cat <<EOF",
            "echo x > /etc/passwd",
            "(iptables -D INPUT)",
            "{ a; }",
            "iptables --dport {22,23}",
            "ls *",
            "cd ~",
            "PATH=/tmp iptables -D INPUT",
            "if true; then iptables -A INPUT; fi",
            "a \\",
            "! a",
            "a &&",
            "'open",
        ] {
            assert!(parse(line, Syntax::Shell).is_err(), "{line}");
        }
        assert!(parse("/usr/bin/x %n", Syntax::Systemd).is_err());
        assert!(parse("/usr/bin/x a\\nb", Syntax::Systemd).is_err());
        assert!(parse("a#b 'c # d' \"e\\\"f\"", Syntax::Shell).is_ok());
    }

    #[test]
    fn separators_the_shell_does_not_split_on_and_background_jobs_are_refused() {
        for line in [
            "iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\r",
            "iptables\u{a0}-D INPUT",
            "iptables -D INPUT\u{3000}-p tcp",
            "iptables -D INPUT\u{b}-p tcp",
            "iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT &",
            "sleep 1 & systemctl mask serial-getty@ttyS0.service",
        ] {
            assert!(parse(line, Syntax::Shell).is_err(), "{line:?}");
        }
        assert!(parse("a\tb c", Syntax::Shell).is_ok());
    }

    #[test]
    fn commands_after_or_in_pipelines_are_conditional() {
        let cmds = parse("a || b | c; d; e", Syntax::Shell).unwrap();
        let flags: Vec<bool> = cmds.iter().map(|c| c.conditional).collect();
        assert_eq!(flags, [false, true, true, false, false]);
    }
}
