//! systemd readiness protocol (`sd_notify(3)`): datagrams to `$NOTIFY_SOCKET`. The socket is read
//! from an explicit environment map once at start and the environment is never modified (the
//! `*_and_unset_env` variants are unsound after threads exist). Without `NOTIFY_SOCKET` every call is
//! a no-op, so the daemons behave the same outside systemd.

use std::collections::BTreeMap;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Where notifications go.
#[derive(Debug, Clone)]
enum Target {
    Path(std::path::PathBuf),
    Abstract(Vec<u8>),
}

/// Sends state changes to the service manager.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    target: Option<Target>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `env`.
    pub fn from_env(env: &BTreeMap<String, String>) -> Self {
        let target =
            env.get("NOTIFY_SOCKET")
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix('@') {
                    Some(name) => Target::Abstract(name.as_bytes().to_vec()),
                    None => Target::Path(s.into()),
                });
        let watchdog_for_us = env
            .get("WATCHDOG_PID")
            .map(|pid| pid.trim().parse::<u32>().ok() == Some(std::process::id()))
            .unwrap_or(true);
        let watchdog = env
            .get("WATCHDOG_USEC")
            .and_then(|usec| usec.trim().parse::<u64>().ok())
            .filter(|usec| *usec > 0 && watchdog_for_us)
            .map(Duration::from_micros);
        Self { target, watchdog }
    }

    /// True when a service manager listens.
    pub fn is_active(&self) -> bool {
        self.target.is_some()
    }

    /// How often to send `WATCHDOG=1` (half the configured timeout), if the watchdog is on.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|timeout| timeout / 2)
    }

    /// `READY=1` with a status line.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// `STATUS=...`
    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }

    /// `STOPPING=1`
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// `RELOADING=1` (followed by [`Notifier::ready`] when the reload is done).
    pub fn reloading(&self) {
        self.send("RELOADING=1");
    }

    /// `WATCHDOG=1`: call only while the daemon is healthy.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Best effort: a lost notification must not take the daemon down, but it is logged.
    fn send(&self, message: &str) {
        let Some(target) = &self.target else { return };
        let result = UnixDatagram::unbound().and_then(|socket| {
            let address = match target {
                Target::Path(path) => SocketAddr::from_pathname(path)?,
                Target::Abstract(name) => SocketAddr::from_abstract_name(name)?,
            };
            socket
                .send_to_addr(message.as_bytes(), &address)
                .map(|_| ())
        });
        if let Err(error) = result {
            tracing::warn!(%error, "could not notify the service manager");
        }
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::tests::env;

    #[test]
    fn ready_and_status_arrive_on_the_notify_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::from_env(&env(&[("NOTIFY_SOCKET", path.to_str().unwrap())]));
        assert!(notifier.is_active());
        notifier.ready("serving on 127.0.0.1:1\nsecond line");
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            "READY=1\nSTATUS=serving on 127.0.0.1:1 second line"
        );
        notifier.stopping();
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
    }

    #[test]
    fn without_notify_socket_nothing_is_sent_and_nothing_fails() {
        let notifier = Notifier::from_env(&BTreeMap::new());
        assert!(!notifier.is_active());
        notifier.ready("x");
        assert_eq!(notifier.watchdog_interval(), None);
    }

    #[test]
    fn watchdog_interval_is_half_the_timeout_and_only_for_our_pid() {
        let ours = Notifier::from_env(&env(&[
            ("WATCHDOG_USEC", "10000000"),
            ("WATCHDOG_PID", &std::process::id().to_string()),
        ]));
        assert_eq!(ours.watchdog_interval(), Some(Duration::from_secs(5)));
        let other = Notifier::from_env(&env(&[
            ("WATCHDOG_USEC", "10000000"),
            ("WATCHDOG_PID", "1"),
        ]));
        assert_eq!(other.watchdog_interval(), None);
    }
}
