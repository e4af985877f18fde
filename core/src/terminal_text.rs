//! Text from outside (Google's APIs, certificates, the store, a remote caller) made safe to show on a
//! terminal: every control character (C0 such as ESC, CR, BEL and BS; DEL; C1 such as CSI 0x9b) and
//! every bidirectional-override character is replaced by a visible escape (`\x1b`, `\r`, `\u{202e}`),
//! so Bob cannot clear Alice's screen, overwrite a line, recolour a red check or reorder what she reads.
//! [`printable`] keeps line breaks and tabs (multi-line text such as a cloud-config); [`printable_line`]
//! escapes them too (a name, a principal, one table cell).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with control and bidi-override characters escaped; newlines and tabs kept.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// `text` with control and bidi-override characters escaped, newlines and tabs included: one line.
pub fn printable_line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Whether `text` holds a character that must not reach a terminal as it is (control or bidi
/// override), newlines and tabs included.
pub fn needs_escape(text: &str) -> bool {
    text.chars().any(is_unsafe)
}

/// Whether `c` must not reach a terminal as it is.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) || keep(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if u32::from(c) < 0x80 => write!(out, "\\x{:02x}", u32::from(c)),
            c => write!(out, "\\u{{{:x}}}", u32::from(c)),
        };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_carriage_returns_and_bells_become_visible() {
        assert_eq!(printable("vm\x1b[2J\rok\x07"), "vm\\x1b[2J\\rok\\x07");
        assert_eq!(printable("a\u{9b}31m"), "a\\u{9b}31m");
        assert_eq!(printable("\u{7f}"), "\\x7f");
        assert_eq!(printable("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
    }

    #[test]
    fn line_breaks_stay_in_text_and_are_escaped_in_a_line() {
        assert_eq!(printable("a\n\tb"), "a\n\tb");
        assert_eq!(printable_line("a\n\tb"), "a\\n\\tb");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        let text = "tokenclient-good ✔ PCR 0 — ünïcode";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        assert!(matches!(printable_line(text), Cow::Borrowed(_)));
    }
}
