//! A daemon started "under journald" without systemd: its stderr file is created first, and
//! `JOURNAL_STREAM` names that file's `DEV:INODE` exactly as systemd names the journal's socket
//! ([`journal_stream`]); [`assert_journal_lines`] then checks what journald would need: every line
//! starts with an sd-daemon priority `<0>`..`<7>`, and nothing carries an ANSI escape. Also a free
//! loopback port for a listener the daemon binds itself ([`free_port`]), and a one-shot HTTP GET
//! ([`http_get`]) of its metrics listener.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// Creates (or truncates) `stderr_file` and returns the `JOURNAL_STREAM` value naming it. A daemon
/// whose stderr is opened on the same path later (truncating keeps the inode) sees itself under
/// journald.
pub fn journal_stream(stderr_file: &Path) -> String {
    let file = std::fs::File::create(stderr_file).unwrap();
    let meta = file.metadata().unwrap();
    format!("{}:{}", meta.dev(), meta.ino())
}

/// Panics unless every non-empty line of `log` starts with `<N>` (N in 0..=7) and no line carries
/// an ANSI escape; returns the priorities seen, in order.
pub fn assert_journal_lines(log: &str) -> Vec<u8> {
    assert!(!log.contains('\u{1b}'), "ANSI escape in the log:\n{log}");
    log.lines()
        .filter(|line| !line.is_empty())
        .map(|line| match line.as_bytes() {
            [b'<', digit @ b'0'..=b'7', b'>', ..] => digit - b'0',
            _ => panic!("line without an sd-daemon priority: {line:?}\nlog:\n{log}"),
        })
        .collect()
}

/// A loopback address that was free a moment ago (bound, then released for the daemon to bind).
pub fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// `GET path` from `address`: the status code and the body, or `None` when nothing answers.
pub fn http_get(address: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_read_and_lines_without_one_fail() {
        assert_eq!(assert_journal_lines("<6>a\n<4>b\n\n<3>c\n"), vec![6, 4, 3]);
        let missing = std::panic::catch_unwind(|| assert_journal_lines("<6>a\nplain\n"));
        assert!(missing.is_err());
        let ansi = std::panic::catch_unwind(|| assert_journal_lines("<6>\u{1b}[32mINFO\n"));
        assert!(ansi.is_err());
    }

    #[test]
    fn the_stream_names_the_file_device_and_inode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stderr.log");
        let named = journal_stream(&path);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(named, format!("{}:{}", meta.dev(), meta.ino()));
    }
}
