//! `tracing` set-up for the daemons. Under systemd (`JOURNAL_STREAM` set) lines go to stderr without
//! timestamps or colours (journald adds its own); otherwise a human format with timestamps. The level
//! comes from `RUST_LOG` (default `info`). Secrets are never logged: that is the callers' rule; this
//! module only decides where lines go.

use std::collections::BTreeMap;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once for this process (a second call is ignored).
pub fn init(env: &BTreeMap<String, String>) {
    let filter = env
        .get("RUST_LOG")
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let under_journald = env.contains_key("JOURNAL_STREAM");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if under_journald {
        builder.without_time().with_ansi(false).try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
    // A subscriber may already be installed (tests); keep it.
    drop(result);
}
