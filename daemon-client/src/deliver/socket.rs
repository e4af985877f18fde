//! The local secret socket: `GET /v1/secrets/NAME` (the bytes) and `GET /v1/secrets` (the names,
//! JSON) over HTTP/1.1 on a Unix socket, one request per connection. Every caller's uid is read with
//! SO_PEERCRED and must be in the allowed list (403 otherwise, whatever the request).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::Shelf;

/// Longest request head accepted.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a caller may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve secrets on {path}: {source}; check the directory exists and is writable")]
pub struct SocketError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The uids allowed to read secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedUids(Vec<u32>);

impl AllowedUids {
    /// `uids`, or only `own_uid` when the list is empty.
    pub fn new(uids: &[u32], own_uid: u32) -> Self {
        if uids.is_empty() {
            Self(vec![own_uid])
        } else {
            Self(uids.to_vec())
        }
    }

    pub fn allows(&self, uid: u32) -> bool {
        self.0.contains(&uid)
    }

    pub fn only(&self, uid: u32) -> bool {
        self.0.iter().all(|u| *u == uid)
    }
}

/// The daemon's own uid (the owner of a file it just created, so no unsafe `getuid`).
pub fn own_uid(probe_dir: &Path) -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let probe = tempfile_in(probe_dir)?;
    let uid = std::fs::metadata(&probe)?.uid();
    let _ = std::fs::remove_file(&probe);
    Ok(uid)
}

fn tempfile_in(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join(format!(".uid-probe-{}", std::process::id()));
    std::fs::write(&path, b"")?;
    Ok(path)
}

/// Binds the socket (replacing a stale one), mode 0600 when only the owner may read, else 0666
/// (the uid check is what protects it).
pub fn bind(path: &Path, allowed: &AllowedUids, own: u32) -> Result<UnixListener, SocketError> {
    let error = |source| SocketError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error(e)),
    }
    let listener = UnixListener::bind(path).map_err(error)?;
    let mode = if allowed.only(own) { 0o600 } else { 0o666 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(error)?;
    Ok(listener)
}

/// Serves until the task is dropped.
pub async fn serve(listener: UnixListener, shelf: Shelf, allowed: AllowedUids) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (shelf, allowed) = (shelf.clone(), allowed.clone());
                tokio::spawn(async move {
                    if let Err(error) = handle(stream, &shelf, &allowed).await {
                        tracing::debug!(%error, "secret socket connection failed");
                    }
                });
            }
            Err(error) => {
                tracing::warn!(%error, "secret socket accept failed");
                tokio::task::yield_now().await;
            }
        }
    }
}

/// An HTTP answer.
struct Answer {
    status: &'static str,
    content_type: &'static str,
    body: zeroize::Zeroizing<Vec<u8>>,
}

fn text(status: &'static str, message: &str) -> Answer {
    Answer {
        status,
        content_type: "text/plain; charset=utf-8",
        body: zeroize::Zeroizing::new(format!("{message}\n").into_bytes()),
    }
}

async fn handle(
    mut stream: UnixStream,
    shelf: &Shelf,
    allowed: &AllowedUids,
) -> std::io::Result<()> {
    let uid = stream.peer_cred()?.uid();
    // The request is read either way (unread input would turn the answer into a reset).
    let head = read_head(&mut stream).await;
    let answer = if !allowed.allows(uid) {
        tracing::warn!(
            uid,
            "secret socket: refused a caller whose uid is not allowed"
        );
        text("403 Forbidden", "uid not allowed to read secrets")
    } else {
        match head {
            Ok(head) => route(&head, shelf, uid),
            Err(message) => text("400 Bad Request", message),
        }
    };
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        answer.status,
        answer.content_type,
        answer.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&answer.body).await?;
    stream.shutdown().await
}

async fn read_head(stream: &mut UnixStream) -> Result<String, &'static str> {
    let mut buffer = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let read = async {
        loop {
            if buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(());
            }
            if buffer.len() > MAX_REQUEST {
                return Err("request head too large");
            }
            match stream.read(&mut chunk).await {
                Ok(0) => return Err("connection closed before the request was complete"),
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                Err(_) => return Err("read error"),
            }
        }
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .map_err(|_| "request not received in time")??;
    String::from_utf8(buffer).map_err(|_| "request head is not UTF-8")
}

fn route(head: &str, shelf: &Shelf, uid: u32) -> Answer {
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return text("400 Bad Request", "malformed request line");
    };
    if !version.starts_with("HTTP/1.") {
        return text("400 Bad Request", "only HTTP/1.x is served");
    }
    if method != "GET" {
        return text("405 Method Not Allowed", "only GET is served");
    }
    if target == "/v1/secrets" {
        let names = shelf.names();
        let json = format!(
            "[{}]",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        return Answer {
            status: "200 OK",
            content_type: "application/json",
            body: zeroize::Zeroizing::new(json.into_bytes()),
        };
    }
    let Some(name) = target.strip_prefix("/v1/secrets/") else {
        return text("404 Not Found", "no such path; use /v1/secrets/NAME");
    };
    match shelf.get(name) {
        Some(secret) => {
            tracing::info!(secret = name, uid, "served a secret on the local socket");
            Answer {
                status: "200 OK",
                content_type: "application/octet-stream",
                body: zeroize::Zeroizing::new(secret.expose().to_vec()),
            }
        }
        None => text(
            "404 Not Found",
            "no such secret (not delivered yet, or removed)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{SecretKind, SecretValue};
    use zeroize::Zeroizing;

    async fn request(path: &Path, raw: &str) -> String {
        let mut stream = UnixStream::connect(path).await.unwrap();
        stream.write_all(raw.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        String::from_utf8_lossy(&response).into_owned()
    }

    async fn start(
        allowed: &[u32],
    ) -> (tempfile::TempDir, PathBuf, u32, tokio::task::JoinHandle<()>) {
        let dir = tempfile::tempdir().unwrap();
        let own = own_uid(dir.path()).unwrap();
        let path = dir.path().join("run/secrets.sock");
        let allowed = AllowedUids::new(allowed, own);
        let listener = bind(&path, &allowed, own).unwrap();
        let shelf = Shelf::default();
        shelf.replace(vec![SecretValue::new(
            "api-key",
            SecretKind::Raw,
            Zeroizing::new(b"k-123".to_vec()),
        )]);
        let task = tokio::spawn(serve(listener, shelf, allowed));
        (dir, path, own, task)
    }

    #[tokio::test]
    async fn own_uid_reads_a_secret_by_name() {
        let (_dir, path, _, task) = start(&[]).await;
        let response = request(&path, "GET /v1/secrets/api-key HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("Content-Length: 5\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nk-123"), "{response}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        task.abort();
    }

    #[tokio::test]
    async fn a_uid_outside_the_allowed_list_gets_403_checked_with_peer_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let own = own_uid(dir.path()).unwrap();
        let other = own.wrapping_add(4242);
        let (_dir, path, _, task) = start(&[other]).await;
        let response = request(&path, "GET /v1/secrets/api-key HTTP/1.1\r\n\r\n").await;
        assert!(response.starts_with("HTTP/1.1 403 Forbidden"), "{response}");
        assert!(!response.contains("k-123"));
        task.abort();
    }

    #[tokio::test]
    async fn unknown_secret_is_404_listing_gives_names_and_post_is_405() {
        let (_dir, path, _, task) = start(&[]).await;
        let missing = request(&path, "GET /v1/secrets/nope HTTP/1.1\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let list = request(&path, "GET /v1/secrets HTTP/1.1\r\n\r\n").await;
        assert!(list.ends_with("[\"api-key\"]"), "{list}");
        let post = request(&path, "POST /v1/secrets/api-key HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        task.abort();
    }

    #[tokio::test]
    async fn garbage_requests_get_400_and_the_server_keeps_serving() {
        let (_dir, path, _, task) = start(&[]).await;
        let garbage = request(&path, "\u{1}\u{2}nonsense\r\n\r\n").await;
        assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
        let ok = request(&path, "GET /v1/secrets/api-key HTTP/1.0\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        task.abort();
    }

    #[test]
    fn allowed_defaults_to_the_own_uid() {
        let allowed = AllowedUids::new(&[], 1000);
        assert!(allowed.allows(1000));
        assert!(!allowed.allows(0));
        assert!(AllowedUids::new(&[0, 1000], 1000).allows(0));
    }
}
