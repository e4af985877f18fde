//! `tracing` set-up for the daemons. Where lines go is decided from the stream itself:
//!
//! - stderr is the journal's stream (`JOURNAL_STREAM` names its `DEV:INODE`, and stderr is that
//!   file): each line starts with its sd-daemon priority (`<3>` error, `<4>` warn, `<6>` info, `<7>`
//!   debug and trace), without timestamps (journald adds its own) or colours;
//! - stderr is a terminal: the human format with timestamps and colours;
//! - anything else (a file, a pipe): the human format with timestamps, never colours.
//!
//! `log_format = "json"` writes one JSON object per line instead (still prefixed under journald).
//! The level comes from `RUST_LOG` (default `info`). The TSS library's own `log` records (tss-esapi
//! logs an `error!` beside every failing TPM call, including the expected "NV index absent") are
//! off unless `RUST_LOG` names `tss_esapi`: every one of them is also returned to our code, which
//! logs it at the level it deserves. Secrets are never logged: that is the callers' rule; this
//! module only decides where lines go.

use std::collections::BTreeMap;
use std::fmt;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use serde::{Deserialize, Serialize};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The `log_format` setting of both daemons (`--log-format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text; journald priorities when stderr is the journal's stream.
    #[default]
    Auto,
    /// Text (the same as `auto`: the stream still decides priorities, timestamps and colours).
    Text,
    /// One JSON object per line.
    Json,
}

/// Where stderr leads, which decides the line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The journal (`JOURNAL_STREAM` matches stderr).
    Journal,
    /// An interactive terminal.
    Terminal,
    /// A file or a pipe.
    Plain,
}

/// The directive added when `RUST_LOG` does not mention the TSS library.
const TSS_ESAPI_OFF: &str = "tss_esapi=off";

/// Installs the global subscriber once for this process (a second call is ignored).
pub fn init(env: &BTreeMap<String, String>, format: LogFormat) {
    let filter = filter(env.get("RUST_LOG").map(String::as_str));
    let stream = stderr_stream(env);
    let journal = stream == Stream::Journal;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(stream == Stream::Terminal);
    let result = match (format, journal) {
        (LogFormat::Json, _) => tracing_subscriber::registry()
            .with(filter)
            .with(
                layer
                    .json()
                    .map_event_format(|f| Prioritized::new(f, journal)),
            )
            .try_init(),
        (_, true) => tracing_subscriber::registry()
            .with(filter)
            .with(
                layer
                    .without_time()
                    .map_event_format(|f| Prioritized::new(f, true)),
            )
            .try_init(),
        (_, false) => tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .try_init(),
    };
    // A subscriber may already be installed (tests); keep it.
    drop(result);
}

/// Writes one error line to stderr outside `tracing` (a bad configuration before logging starts, the
/// reason a daemon exits), with the journal's error priority `<3>` when stderr is the journal.
pub fn error_line(env: &BTreeMap<String, String>, line: &str) {
    if stderr_stream(env) == Stream::Journal {
        eprintln!("<3>{line}");
    } else {
        eprintln!("{line}");
    }
}

/// The level filter: `RUST_LOG` when it parses (default `info`), with the TSS library off unless
/// `RUST_LOG` names it.
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    let spec = rust_log
        .filter(|spec| EnvFilter::try_new(spec).is_ok())
        .unwrap_or("info");
    let spec = if spec.contains("tss_esapi") {
        spec.to_string()
    } else {
        format!("{spec},{TSS_ESAPI_OFF}")
    };
    EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Where this process's stderr leads.
pub fn stderr_stream(env: &BTreeMap<String, String>) -> Stream {
    let stderr = std::io::stderr();
    if std::io::IsTerminal::is_terminal(&stderr) {
        return Stream::Terminal;
    }
    let identity = stderr
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|file| file.metadata())
        .map(|meta| (meta.dev(), meta.ino()));
    match (env.get("JOURNAL_STREAM"), identity) {
        (Some(named), Ok((dev, ino))) if is_journal_stream(named, dev, ino) => Stream::Journal,
        _ => Stream::Plain,
    }
}

/// Whether `JOURNAL_STREAM` (`DEV:INODE`, decimal) names the file with this device and inode.
pub fn is_journal_stream(named: &str, dev: u64, ino: u64) -> bool {
    let Some((named_dev, named_ino)) = named.trim().split_once(':') else {
        return false;
    };
    named_dev.parse() == Ok(dev) && named_ino.parse() == Ok(ino)
}

/// The sd-daemon priority of a level (`sd-daemon(3)`: `<3>` error ... `<7>` debug).
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// An event format that starts each line with the event's sd-daemon priority when `enabled`.
#[derive(Debug)]
struct Prioritized<F> {
    inner: F,
    enabled: bool,
}

impl<F> Prioritized<F> {
    fn new(inner: F, enabled: bool) -> Self {
        Self { inner, enabled }
    }
}

impl<S, N, F> FormatEvent<S, N> for Prioritized<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if self.enabled {
            write!(writer, "<{}>", priority(event.metadata().level()))?;
        }
        self.inner.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_matches_only_the_same_device_and_inode() {
        assert!(is_journal_stream("2049:123456", 2049, 123456));
        assert!(!is_journal_stream("2049:123457", 2049, 123456));
        assert!(!is_journal_stream("2050:123456", 2049, 123456));
        assert!(!is_journal_stream("garbage", 2049, 123456));
        assert!(!is_journal_stream("", 0, 0));
    }

    #[test]
    fn priorities_follow_sd_daemon() {
        let got: Vec<u8> = [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ]
        .iter()
        .map(priority)
        .collect();
        assert_eq!(got, [3, 4, 6, 7, 7]);
    }

    #[test]
    fn the_tss_library_is_off_unless_rust_log_names_it() {
        assert!(filter(None).to_string().contains(TSS_ESAPI_OFF));
        assert!(filter(Some("debug")).to_string().contains(TSS_ESAPI_OFF));
        assert!(
            !filter(Some("info,tss_esapi=debug"))
                .to_string()
                .contains(TSS_ESAPI_OFF)
        );
    }

    #[test]
    fn log_format_reads_its_three_spellings() {
        #[derive(Deserialize)]
        struct Wrapper {
            f: LogFormat,
        }
        for (text, want) in [
            ("auto", LogFormat::Auto),
            ("text", LogFormat::Text),
            ("json", LogFormat::Json),
        ] {
            let parsed: Wrapper = toml::from_str(&format!("f = \"{text}\"")).unwrap();
            assert_eq!(parsed.f, want);
        }
        assert!(toml::from_str::<Wrapper>("f = \"xml\"").is_err());
    }
}
