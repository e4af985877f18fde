//! Starting one of Google's emulators (a Java program) as a child of the test process, with its
//! output in a log file; a missing Java runtime fails the test naming the package to install.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Runs `java ARGS` with stdout and stderr appended to `log_path`. `what` names the emulator in the
/// failure message.
pub(crate) fn spawn_emulator(what: &str, args: &[String], log_path: &Path) -> Child {
    let log = std::fs::File::create(log_path).unwrap();
    Command::new("java")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start java for the {what} ({e}): install a Java runtime (the Debian \
                 package default-jre-headless)"
            )
        })
}
