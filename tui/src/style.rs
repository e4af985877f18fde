//! Colour for the subcommands' text on a terminal: ✔ green, ✘ red, a `–` (not applicable) dim.
//! None when stdout is not a terminal, when `NO_COLOR` is set (non-empty) or `TERM=dumb`. The marks
//! are coloured after the text went through `printable`, so the only escape sequences in the output
//! are the ones added here.

use std::io::IsTerminal as _;

const GREEN: &str = "\u{1b}[32m";
const RED: &str = "\u{1b}[31m";
const DIM: &str = "\u{1b}[2m";
const RESET: &str = "\u{1b}[0m";

/// Whether colour is wanted, given the environment and whether stdout is a terminal.
pub fn colour_wanted(no_color: Option<&str>, term: Option<&str>, stdout_is_terminal: bool) -> bool {
    stdout_is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb")
}

/// [`colour_wanted`] for this process's stdout.
pub fn stdout_colour() -> bool {
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    colour_wanted(
        no_color.as_deref(),
        term.as_deref(),
        std::io::stdout().is_terminal(),
    )
}

/// `text` with its marks coloured: every ✔ and ✘, and a `–` standing alone between spaces (or at
/// the start of a line).
pub fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut previous: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let colour = match c {
            '✔' => Some(GREEN),
            '✘' => Some(RED),
            '–' if previous.is_none_or(char::is_whitespace)
                && chars.peek().is_none_or(|next| next.is_whitespace()) =>
            {
                Some(DIM)
            }
            _ => None,
        };
        match colour {
            Some(colour) => {
                out.push_str(colour);
                out.push(c);
                out.push_str(RESET);
            }
            None => out.push(c),
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_or_a_dumb_term() {
        assert!(colour_wanted(None, Some("xterm-256color"), true));
        assert!(
            colour_wanted(Some(""), None, true),
            "an empty NO_COLOR is unset"
        );
        assert!(!colour_wanted(None, Some("xterm"), false), "piped");
        assert!(!colour_wanted(Some("1"), Some("xterm"), true));
        assert!(!colour_wanted(None, Some("dumb"), true));
    }

    #[test]
    fn marks_are_coloured_and_nothing_else() {
        let text =
            "  ✔ instance.fingerprint\n  ✘ auditlog.clean   denied\n  – tpm.ek   later\nname a–b\n";
        assert_eq!(
            paint(text),
            "  \u{1b}[32m✔\u{1b}[0m instance.fingerprint\n  \u{1b}[31m✘\u{1b}[0m auditlog.clean   denied\n  \u{1b}[2m–\u{1b}[0m tpm.ek   later\nname a–b\n"
        );
        assert_eq!(paint("plain"), "plain");
    }
}
