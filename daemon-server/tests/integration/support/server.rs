//! The real `tokenserver` binary as a child process of the test (`tokendist_testkit::process`),
//! killed on drop. Readiness is the systemd protocol: the port is read from
//! `READY=1\nSTATUS=serving on 127.0.0.1:PORT` on the NOTIFY_SOCKET (bounded wait, no sleeps).

use std::path::Path;
use std::time::Duration;

use tokendist_testkit::process::{Daemon, Notify, Serving};

/// How long a server may take to report READY (a loaded 2-core machine is slow to exec).
pub const READY_DEADLINE: Duration = Duration::from_secs(30);

/// A `tokenserver` that reported READY, and its address.
pub type ServerProcess = Serving;

/// Starts `tokenserver --config CONFIG` with its NOTIFY_SOCKET and logs in `dir`; not yet known to be
/// ready (`.serving(READY_DEADLINE).await`, or `.exit_status(..).await` for one that must fail).
pub fn launch(dir: &Path, name: &str, config: &Path, env: &[(&str, &str)]) -> Daemon {
    Daemon::spawn(
        name,
        Path::new(env!("CARGO_BIN_EXE_tokenserver")),
        &["--config".as_ref(), config.as_os_str()],
        dir,
        Notify::Yes,
        env,
    )
}
