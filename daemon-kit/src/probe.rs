//! `tokenserver probe` / `tokenclient status`: one plain HTTP/1.1 GET of `/readyz` (or `/healthz`)
//! on a daemon's metrics listener, and the exit code that answers it: 0 ready (or live), 1 not
//! ready, 69 nothing answers, 78 no listener configured (or a configuration that cannot be read).
//! The listener is found in the same configuration sources the daemon reads (`--config`, its
//! environment prefix), or named with `--address`. Blocking and std-only: the commands ask once, or
//! until ready within `--wait`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigSources, LoadOptions, load_layered_part};
use crate::exit;

/// The options of `tokenserver probe` and `tokenclient status`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProbeArgs {
    /// Configuration file (TOML) naming `metrics_listen`.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ask this HOST:PORT instead of the configured `metrics_listen`.
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,

    /// Ask `/healthz` (is the process serving) instead of `/readyz` (can it do its work).
    #[arg(long)]
    pub live: bool,

    /// Keep asking, for up to SECS seconds, until the daemon is ready (or live); then report the
    /// last answer. For scripts that start a daemon and go on once it serves.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub wait: u64,
}

/// The one setting a probe reads; every other setting is ignored, so that a probe works with any
/// configuration the daemon would accept.
#[derive(Debug, serde::Deserialize)]
struct ListenSetting {
    #[serde(default)]
    metrics_listen: Option<SocketAddr>,
}

/// Where a daemon's configuration is found: its environment prefix, the variable naming its file,
/// and the file read when none is named (and it exists).
#[derive(Debug, Clone, Copy)]
pub struct ConfigPlace<'a> {
    pub env_prefix: &'a str,
    pub config_env: &'a str,
    pub default_path: Option<&'a std::path::Path>,
}

/// Runs the probe command of `program`: prints the daemon's answer (or why there is none) and
/// returns the exit code. `sources` are the daemon's; `args.config` replaces their file.
pub fn run(program: &str, args: &ProbeArgs, sources: ConfigSources, place: ConfigPlace<'_>) -> i32 {
    let sources = ConfigSources {
        file: args.config.clone().or(sources.file),
        use_default_path: place.default_path.is_some(),
        ..sources
    };
    let options = LoadOptions {
        env_prefix: place.env_prefix,
        config_env: place.config_env,
        default_path: place.default_path,
        ..LoadOptions::default()
    };
    let listen = match &args.address {
        Some(_) => None,
        None => match load_layered_part::<ListenSetting>(&sources, &options) {
            Ok(setting) => setting.metrics_listen,
            Err(error) => {
                eprintln!("{program}: bad configuration: {error}");
                return exit::BAD_CONFIG;
            }
        },
    };
    let Some(address) = target(args.address.as_deref(), listen) else {
        eprintln!(
            "{program}: no metrics_listen configured: set it in the config file (or pass --address HOST:PORT)"
        );
        return exit::BAD_CONFIG;
    };
    let check = if args.live { Check::Live } else { Check::Ready };
    let deadline = std::time::Instant::now() + Duration::from_secs(args.wait);
    let outcome = loop {
        let outcome = probe(&address, check);
        if outcome.exit_code() == exit::OK || std::time::Instant::now() >= deadline {
            break outcome;
        }
        std::thread::sleep(WAIT_POLL);
    };
    match outcome {
        ProbeOutcome::Answered { .. } => println!("{}", outcome.text()),
        ProbeOutcome::NoAnswer { .. } => eprintln!("{program}: {}", outcome.text()),
    }
    outcome.exit_code()
}

/// How often `--wait` asks again.
const WAIT_POLL: Duration = Duration::from_millis(250);
/// How long connecting, sending and reading may each take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read (health bodies are a few lines).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Which endpoint a probe asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `/readyz`: the daemon can do its work.
    Ready,
    /// `/healthz`: the process serves.
    Live,
}

impl Check {
    pub fn path(self) -> &'static str {
        match self {
            Check::Ready => "/readyz",
            Check::Live => "/healthz",
        }
    }
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The daemon answered with this HTTP status and body.
    Answered { status: u16, body: String },
    /// Nothing answered at the address (refused, timed out, not HTTP).
    NoAnswer { address: String, reason: String },
}

impl ProbeOutcome {
    /// The exit code of the probe command: 0 when the daemon answered 200, 1 when it answered
    /// anything else, 69 when nothing answered.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProbeOutcome::Answered { status: 200, .. } => exit::OK,
            ProbeOutcome::Answered { .. } => exit::FAILURE,
            ProbeOutcome::NoAnswer { .. } => exit::UNAVAILABLE,
        }
    }

    /// What the command prints: the daemon's body, or why nothing answered.
    pub fn text(&self) -> String {
        match self {
            ProbeOutcome::Answered { body, .. } => body.trim_end().to_string(),
            ProbeOutcome::NoAnswer { address, reason } => {
                format!("nothing answers on {address}: {reason}")
            }
        }
    }
}

/// The address a probe asks: `--address` when given, else the configured `metrics_listen` with
/// an unspecified IP (`0.0.0.0`, `::`) replaced by loopback.
pub fn target(address: Option<&str>, metrics_listen: Option<SocketAddr>) -> Option<String> {
    if let Some(address) = address {
        return Some(address.to_string());
    }
    let mut listen = metrics_listen?;
    if listen.ip().is_unspecified() {
        let loopback = if listen.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        listen.set_ip(loopback);
    }
    Some(listen.to_string())
}

/// GETs `check`'s path from `address` (`HOST:PORT`).
pub fn probe(address: &str, check: Check) -> ProbeOutcome {
    match get(address, check.path()) {
        Ok((status, body)) => ProbeOutcome::Answered { status, body },
        Err(reason) => ProbeOutcome::NoAnswer {
            address: address.to_string(),
            reason,
        },
    }
}

fn get(address: &str, path: &str) -> Result<(u16, String), String> {
    let socket = address
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "the address resolves to nothing".to_string())?;
    let mut stream = TcpStream::connect_timeout(&socket, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nUser-Agent: tokendist-probe\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut answer)
        .map_err(|e| e.to_string())?;
    parse_answer(&String::from_utf8_lossy(&answer))
}

/// The status code and body of an HTTP/1.1 answer (a `Content-Length` or closed-connection body).
pub fn parse_answer(answer: &str) -> Result<(u16, String), String> {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| "not an HTTP answer".to_string())?;
    let status = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1."))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| "not an HTTP answer".to_string())?;
    Ok((status, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_exit_codes() {
        let ready = ProbeOutcome::Answered {
            status: 200,
            body: "ready\n".into(),
        };
        let not_ready = ProbeOutcome::Answered {
            status: 503,
            body: "store: down\n".into(),
        };
        let none = ProbeOutcome::NoAnswer {
            address: "127.0.0.1:1".into(),
            reason: "refused".into(),
        };
        assert_eq!(
            [ready.exit_code(), not_ready.exit_code(), none.exit_code()],
            [0, 1, 69]
        );
        assert_eq!(ready.text(), "ready");
        assert!(none.text().contains("127.0.0.1:1"), "{}", none.text());
    }

    #[test]
    fn an_unspecified_listen_address_is_probed_on_loopback() {
        let listen: SocketAddr = "0.0.0.0:9464".parse().unwrap();
        assert_eq!(
            target(None, Some(listen)).as_deref(),
            Some("127.0.0.1:9464")
        );
        let v6: SocketAddr = "[::]:9464".parse().unwrap();
        assert_eq!(target(None, Some(v6)).as_deref(), Some("[::1]:9464"));
        assert_eq!(target(Some("h:1"), Some(listen)).as_deref(), Some("h:1"));
        assert_eq!(target(None, None), None);
    }

    #[test]
    fn status_and_body_are_read_from_an_answer() {
        let answer = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nstore";
        assert_eq!(parse_answer(answer), Ok((503, "store".to_string())));
        assert!(parse_answer("SSH-2.0-OpenSSH").is_err());
    }

    #[test]
    fn nothing_listening_is_no_answer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        let outcome = probe(&address, Check::Ready);
        assert_eq!(outcome.exit_code(), 69, "{outcome:?}");
    }
}
