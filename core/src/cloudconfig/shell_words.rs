//! Just enough shell parsing to read cloud-config commands and systemd `Exec*=` lines: split a line
//! into simple commands at `;`, `&&`, `||`, `|`, `&`, and a command into words honouring quotes and
//! backslashes. It never executes or expands anything; `$var` stays literal.

/// Splits `line` into simple commands, each as its words.
pub fn commands(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let finish_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                word.push(escaped);
                            }
                        }
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(escaped) = chars.next() {
                    word.push(escaped);
                }
            }
            ';' | '&' | '|' | '\n' => {
                finish_word(&mut word, &mut in_word, &mut words);
                if !words.is_empty() {
                    out.push(std::mem::take(&mut words));
                }
                // `&&` and `||`: swallow the second operator character.
                if (c == '&' || c == '|') && chars.peek() == Some(&c) {
                    chars.next();
                }
            }
            c if c.is_whitespace() => finish_word(&mut word, &mut in_word, &mut words),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut words);
    if !words.is_empty() {
        out.push(words);
    }
    out
}

/// The program name of a word without its directory: `/usr/bin/docker` → `docker`.
pub fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_operators_and_keeps_quoted_words_whole() {
        let cmds = commands(r#"iptables -D INPUT && echo "a b" ; x 'c;d'"#);
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], ["iptables", "-D", "INPUT"]);
        assert_eq!(cmds[1], ["echo", "a b"]);
        assert_eq!(cmds[2], ["x", "c;d"]);
    }

    #[test]
    fn empty_quotes_make_an_empty_word() {
        assert_eq!(commands("a ''"), vec![vec!["a".to_owned(), String::new()]]);
    }
}
