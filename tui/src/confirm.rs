//! Asking the operator on the terminal before a write: `y/N` (default No) for approvals, typing the
//! VM's name for revocations. Without a terminal on stdin the answer is No, and the refusal says to
//! pass `--yes` instead.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use crate::error::ConsoleError;

fn read_answer(prompt: &str, action: &str) -> Result<String, ConsoleError> {
    if !std::io::stdin().is_terminal() {
        return Err(ConsoleError::Refused(format!(
            "stdin is not a terminal, so nobody can confirm; pass --yes to {action} without a prompt"
        )));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = write!(
        stderr,
        "{}",
        tokendist_core::terminal_text::printable_line(prompt)
    );
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ConsoleError::Failed(format!("cannot read the answer from stdin: {e}")))?;
    Ok(line.trim().to_owned())
}

/// Asks `question [y/N]`; only `y` or `yes` (any case) is a yes.
pub fn yes_no(question: &str, action: &str) -> Result<(), ConsoleError> {
    let answer = read_answer(&format!("{question} [y/N] "), action)?;
    if is_yes(&answer) {
        Ok(())
    } else {
        Err(ConsoleError::Refused(format!(
            "not confirmed; nothing was written (no {action})"
        )))
    }
}

/// Asks the operator to type `expected` exactly.
pub fn type_to_confirm(expected: &str, action: &str) -> Result<(), ConsoleError> {
    let answer = read_answer(
        &format!("Type the VM name ({expected}) to {action}: "),
        action,
    )?;
    if answer == expected {
        Ok(())
    } else {
        Err(ConsoleError::Refused(format!(
            "typed {answer:?}, not {expected:?}; nothing was written"
        )))
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_confirms() {
        for yes in ["y", "Y", "yes", "YES"] {
            assert!(is_yes(yes), "{yes}");
        }
        for no in ["", "n", "no", "yep", "sure"] {
            assert!(!is_yes(no), "{no}");
        }
    }
}
