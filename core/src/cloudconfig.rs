//! Analysis of a Container-Optimized OS `#cloud-config` user-data, for Alice's review: does it remove
//! the SSH allow rule, mask the serial getty, which containers does it run and are they pinned by
//! digest; plus the user-data digests the `instance.user_data` check pins. Pure text analysis.
//!
//! The analysis explains; the gate is `cloudconfig.template` ([`template`]). It fails closed: whatever
//! it does not interpret is recorded in [`CloudConfigAnalysis::uninspectable`] (and the review's four
//! analysis checks then fail), never read as hardening. It interprets:
//! - one implicit YAML document without anchors, aliases, tags, merge keys or directives
//!   (`yaml_features`, checked on the text because serde_yaml resolves them silently);
//! - the top-level modules `write_files`, `bootcmd` and `runcmd` only (the ones a tokendist VM needs;
//!   every other cloud-init module can run code or change users, packages or mounts);
//! - `bootcmd`/`runcmd` entries: string form through a strict shell parser (`shell_words`), list
//!   form as words (strings that YAML 1.1, which cloud-init uses, reads as strings), `sh -c "…"`
//!   unwrapped; programs that run other programs from their arguments or input are not followed;
//! - `write_files` entries with only `path`, `content`, `permissions`, `owner` and `encoding` (plain
//!   text, or base64 of UTF-8 text), to systemd service units in `/etc/systemd/system/` (their `Exec*=`
//!   lines) or tokendist's own configuration in `/etc/tokendist/` (data the client reads, never run).
//!
//! Hardening only counts when done unconditionally by `bootcmd`/`runcmd`; anything anywhere that undoes
//! it makes the corresponding result negative.
//!
//! What it finds is typed, with its place ([`finding`]: key, list entry, written file, unit line);
//! [`locate`] ties a place to a line of the text, for the console's flagged lines.

mod docker_run;
pub mod finding;
mod hardening;
pub mod locate;
mod shell_words;
pub mod template;
mod yaml_features;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;
use sha2::{Digest as _, Sha256};

pub use docker_run::{ContainerRun, split_image};
pub use finding::{Finding, FindingKind, Hardening, Place};
pub use template::{CloudConfigTemplate, TemplateError, TemplateSettings};
pub use yaml_features::{Unsupported as UnsupportedYaml, unsupported as unsupported_yaml};

/// For the fuzz targets (`fuzz/`): this module's private parsers. Not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use super::docker_run::parse as docker_run;
    pub use super::shell_words::{SimpleCommand, Syntax, parse as shell_words};
}

use hardening::Effect;
use shell_words::{SimpleCommand, Syntax};

/// What the review checks need to know about one cloud-config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudConfigAnalysis {
    /// base64 (standard, padded) of the raw SHA-256 of the exact user-data bytes, as the original logs.
    pub user_data_sha256_b64: String,
    /// The same digest in lower-case hex.
    pub user_data_sha256_hex: String,
    /// `bootcmd`/`runcmd` delete COS's port-22 ACCEPT rule and nothing re-opens port 22.
    pub ssh_rule_removed: bool,
    /// `bootcmd`/`runcmd` mask `serial-getty@ttyS0` and nothing unmasks or starts it.
    pub serial_getty_masked: bool,
    /// Every `docker run` found, in document order.
    pub containers: Vec<ContainerRun>,
    /// Top-level cloud-config keys, in document order (anything besides `write_files`, `bootcmd`,
    /// `runcmd` deserves Alice's attention).
    pub top_level_keys: Vec<String>,
    /// Places whose content could not be inspected (e.g. gzip-encoded `write_files`).
    pub uninspectable: Vec<String>,
    /// Operator-readable notes on what was found where, in document order.
    pub findings: Vec<String>,
    /// The same findings, typed and with their places (for tying them to lines of the text).
    #[serde(default)]
    pub located_findings: Vec<Finding>,
}

/// Why a user-data could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum CloudConfigError {
    #[error(
        "user-data does not start with `#cloud-config` (first line: {first_line:?}); COS would run it as something else, so it cannot be approved"
    )]
    NotCloudConfig { first_line: String },
    #[error("cloud-config is not valid YAML at line {line}, column {column}: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cloud-config must be a YAML mapping at the top level")]
    NotAMapping,
    #[error("cloud-config section {section} is malformed: {reason}")]
    BadSection { section: String, reason: String },
    #[error(
        "uninspectable: the analysis does not interpret {}",
        .0.join("; ")
    )]
    Uninspectable(Vec<String>),
}

/// base64 (standard, padded) of the SHA-256 of `user_data`'s bytes, exactly as stored in metadata.
pub fn user_data_sha256_b64(user_data: &str) -> String {
    STANDARD.encode(Sha256::digest(user_data.as_bytes()))
}

/// Lower-case hex of the SHA-256 of `user_data`'s bytes.
pub fn user_data_sha256_hex(user_data: &str) -> String {
    hex::encode(Sha256::digest(user_data.as_bytes()))
}

/// True for `sha256:` followed by exactly 64 lower-case hex digits.
pub fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Analyses a user-data text. Errors on anything that is not a well-formed `#cloud-config`.
pub fn analyse(user_data: &str) -> Result<CloudConfigAnalysis, CloudConfigError> {
    let first_line = user_data.lines().next().unwrap_or("").trim_end();
    if first_line != "#cloud-config" {
        return Err(CloudConfigError::NotCloudConfig {
            first_line: first_line.chars().take(60).collect(),
        });
    }
    let features = yaml_features::unsupported(user_data);
    if !features.is_empty() {
        return Err(CloudConfigError::Uninspectable(
            features
                .iter()
                .map(|f| format!("line {}: {}", f.line, f.what))
                .collect(),
        ));
    }
    let document: Value = serde_yaml::from_str(user_data).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        CloudConfigError::Yaml {
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let mapping = match document {
        Value::Mapping(m) => m,
        Value::Null => serde_yaml::Mapping::new(),
        _ => return Err(CloudConfigError::NotAMapping),
    };

    let mut scan = Scan::default();
    let mut top_level_keys = Vec::new();
    for (key, value) in &mapping {
        let Value::String(key) = key else {
            return Err(CloudConfigError::NotAMapping);
        };
        top_level_keys.push(key.clone());
        match key.as_str() {
            "bootcmd" | "runcmd" => scan.command_section(key, value)?,
            "write_files" => scan.write_files(value)?,
            other => scan.not_interpreted(
                &Place::section(other),
                "only the modules write_files, bootcmd and runcmd are interpreted",
            ),
        }
    }

    Ok(CloudConfigAnalysis {
        user_data_sha256_b64: user_data_sha256_b64(user_data),
        user_data_sha256_hex: user_data_sha256_hex(user_data),
        ssh_rule_removed: scan.ssh_removed && !scan.ssh_reopened,
        serial_getty_masked: scan.serial_masked && !scan.serial_reopened,
        containers: scan.containers,
        top_level_keys,
        uninspectable: scan.uninspectable,
        findings: scan.found.iter().map(ToString::to_string).collect(),
        located_findings: scan.found,
    })
}

/// Accumulates what the commands of a cloud-config do.
#[derive(Default)]
struct Scan {
    ssh_removed: bool,
    ssh_reopened: bool,
    serial_masked: bool,
    serial_reopened: bool,
    containers: Vec<ContainerRun>,
    uninspectable: Vec<String>,
    found: Vec<Finding>,
}

/// The `write_files` keys the analysis interprets (`source`, `defer`, `append`, … are not).
const WRITE_FILES_KEYS: &[&str] = &["path", "content", "permissions", "owner", "encoding"];

/// Programs that run other programs named in their arguments or read from their input; what those
/// run is not followed (`sh`/`bash`/`dash` with `-c SCRIPT` are unwrapped instead).
const RUNNERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "ash",
    "zsh",
    "ksh",
    "busybox",
    "eval",
    "source",
    ".",
    "exec",
    "env",
    "xargs",
    "nohup",
    "sudo",
    "su",
    "timeout",
    "nice",
    "ionice",
    "chroot",
    "nsenter",
    "setsid",
    "stdbuf",
    "watch",
    "flock",
    "systemd-run",
    "toolbox",
    "python",
    "python3",
    "perl",
    "awk",
    "command",
    "builtin",
    "trap",
    "coproc",
];

/// How a `write_files` path is read.
enum FileKind {
    /// `/etc/systemd/system/NAME.service`: its `Exec*=` lines are commands.
    SystemdService,
    /// `/etc/tokendist/NAME`: the client's configuration, never run.
    TokendistData,
}

fn file_kind(path: &str) -> Option<FileKind> {
    let plain = |name: &str| {
        !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    };
    if let Some(name) = path.strip_prefix("/etc/systemd/system/") {
        return (plain(name) && name.ends_with(".service")).then_some(FileKind::SystemdService);
    }
    path.strip_prefix("/etc/tokendist/")
        .filter(|name| plain(name))
        .map(|_| FileKind::TokendistData)
}

impl Scan {
    /// Records that `place` holds something the analysis does not interpret.
    fn not_interpreted(&mut self, place: &Place, why: &str) {
        self.uninspectable.push(format!("{place}: {why}"));
        self.found.push(Finding {
            place: place.clone(),
            what: FindingKind::NotInterpreted {
                why: why.to_owned(),
            },
        });
    }

    fn record(&mut self, place: &Place, what: FindingKind) {
        self.found.push(Finding {
            place: place.clone(),
            what,
        });
    }

    fn command_section(&mut self, section: &str, value: &Value) -> Result<(), CloudConfigError> {
        let bad = |reason: &str| CloudConfigError::BadSection {
            section: section.to_owned(),
            reason: reason.to_owned(),
        };
        let items = match value {
            Value::Sequence(items) => items,
            Value::Null => return Ok(()),
            _ => return Err(bad("expected a list of commands")),
        };
        for (index, item) in items.iter().enumerate() {
            let place = Place::entry(section, index);
            let commands = match item {
                Value::String(line) => match shell_words::parse(line, Syntax::Shell) {
                    Ok(commands) => commands,
                    Err(why) => {
                        self.not_interpreted(&place, &format!("shell it does not parse: {why}"));
                        continue;
                    }
                },
                Value::Sequence(words) => {
                    let words = words
                        .iter()
                        .map(|w| match w {
                            Value::String(s) if !yaml11_not_a_string(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect::<Option<Vec<String>>>();
                    match words {
                        Some(words) => vec![SimpleCommand {
                            words,
                            conditional: false,
                        }],
                        None => {
                            self.not_interpreted(
                                &place,
                                "a list-form command word that is not plainly a string (cloud-init's YAML 1.1 may read it as a number, boolean or null)",
                            );
                            continue;
                        }
                    }
                }
                _ => return Err(bad("each command must be a string or a list of strings")),
            };
            match unwrap_shell_c(commands, Syntax::Shell) {
                Ok(commands) => {
                    for command in commands {
                        self.command(&place, &command, true);
                    }
                }
                Err(why) => self.not_interpreted(&place, &why),
            }
        }
        Ok(())
    }

    fn write_files(&mut self, value: &Value) -> Result<(), CloudConfigError> {
        let bad = |reason: String| CloudConfigError::BadSection {
            section: "write_files".to_owned(),
            reason,
        };
        let items = match value {
            Value::Sequence(items) => items,
            Value::Null => return Ok(()),
            _ => return Err(bad("expected a list of files".to_owned())),
        };
        for (index, item) in items.iter().enumerate() {
            let Value::Mapping(file) = item else {
                return Err(bad(format!("entry {index} is not a mapping")));
            };
            let path = match file.get("path") {
                Some(Value::String(path)) => path.clone(),
                _ => String::new(),
            };
            let place = Place::file(index, &path);
            let unknown: Vec<String> = file
                .keys()
                .map(|k| scalar_text(k).unwrap_or_else(|| "(a non-scalar key)".to_owned()))
                .filter(|k| !WRITE_FILES_KEYS.contains(&k.as_str()))
                .collect();
            if !unknown.is_empty() {
                self.not_interpreted(
                    &place,
                    &format!(
                        "the key(s) {} (remote, deferred or appended content)",
                        unknown.join(", ")
                    ),
                );
                continue;
            }
            let Some(kind) = file_kind(&path) else {
                self.not_interpreted(
                    &place,
                    "a file outside /etc/systemd/system/*.service and /etc/tokendist/ could be run by something the analysis does not follow",
                );
                continue;
            };
            let content = match file.get("content") {
                Some(Value::String(content)) => content.clone(),
                None => String::new(),
                Some(_) => {
                    self.not_interpreted(&place, "content that is not a string");
                    continue;
                }
            };
            let encoding = match file.get("encoding") {
                None => String::new(),
                Some(Value::String(encoding)) => encoding.to_ascii_lowercase(),
                Some(_) => "(not a string)".to_owned(),
            };
            let text = match encoding.as_str() {
                "" | "text/plain" => content,
                "b64" | "base64" => match STANDARD.decode(content.trim()) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            self.not_interpreted(&place, "base64 content that is not UTF-8 text");
                            continue;
                        }
                    },
                    Err(e) => return Err(bad(format!("{place}: content is not base64: {e}"))),
                },
                other => {
                    self.not_interpreted(&place, &format!("{other}-encoded content"));
                    continue;
                }
            };
            match kind {
                FileKind::TokendistData => self.record(&place, FindingKind::TokendistData),
                FileKind::SystemdService => self.service_unit(&place, &text),
            }
        }
        Ok(())
    }

    /// Reads the `Exec*=` commands of a systemd service unit.
    fn service_unit(&mut self, file: &Place, text: &str) {
        for line in logical_lines(text) {
            let Some(command_text) = exec_value(&line) else {
                continue;
            };
            let place = &file.on_file_line(&line);
            let commands = shell_words::parse(command_text, Syntax::Systemd)
                .and_then(|c| unwrap_shell_c(c, Syntax::Shell));
            match commands {
                Ok(commands) => {
                    for command in commands {
                        self.command(place, &command, false);
                    }
                }
                Err(why) => {
                    self.not_interpreted(
                        place,
                        &format!("a systemd command it does not parse: {why}"),
                    );
                }
            }
        }
    }

    /// Records what one command does; `runs_at_boot` is true for `bootcmd`/`runcmd`.
    fn command(&mut self, place: &Place, command: &SimpleCommand, runs_at_boot: bool) {
        let words = &command.words;
        let counts = runs_at_boot && !command.conditional;
        let hardening = match hardening::effect(words) {
            Effect::RemovesSshRule => Some(Hardening::SshRuleRemoved),
            Effect::MasksSerialGetty => Some(Hardening::SerialGettyMasked),
            Effect::ReopensSsh => {
                self.ssh_reopened = true;
                let command = words.join(" ");
                self.record(place, FindingKind::ReopensSsh { command });
                None
            }
            Effect::ReopensSerial => {
                self.serial_reopened = true;
                let command = words.join(" ");
                self.record(place, FindingKind::ReopensSerial { command });
                None
            }
            Effect::None => None,
        };
        match hardening {
            Some(hardening) if counts => {
                match hardening {
                    Hardening::SshRuleRemoved => self.ssh_removed = true,
                    Hardening::SerialGettyMasked => self.serial_masked = true,
                }
                self.record(place, FindingKind::Hardens { hardening });
            }
            Some(hardening) if runs_at_boot => {
                let command = words.join(" ");
                self.record(
                    place,
                    FindingKind::ConditionalHardening { hardening, command },
                );
            }
            _ => {}
        }
        if let Some(run) = docker_run::parse(words, &place.to_string()) {
            let what = FindingKind::RunsContainer {
                container: self.containers.len(),
                image: run.image.clone(),
            };
            self.record(place, what);
            self.containers.push(run);
        }
    }
}

/// The text of a scalar YAML value (numbers and booleans as written by serde_yaml).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// True when YAML 1.1 (cloud-init's PyYAML) could read this plain text as something other than the
/// same string: booleans (`on`, `yes`, …), null, and anything starting like a number (`022` is octal
/// there). serde_yaml does not say whether a scalar was quoted, so quoted look-alikes count too.
fn yaml11_not_a_string(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "y" | "yes" | "n" | "no" | "on" | "off" | "true" | "false" | "null" | "~" | ""
    ) || text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '.'))
        || (text.starts_with('-')
            && text[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.'))
}

/// Replaces `sh -c "a; b"` (and bash/dash) by the commands inside it; refuses every other program
/// that runs programs named in its arguments or input.
fn unwrap_shell_c(
    commands: Vec<SimpleCommand>,
    syntax: Syntax,
) -> Result<Vec<SimpleCommand>, String> {
    let mut out = Vec::new();
    for command in commands {
        let program = command
            .words
            .first()
            .map(|w| shell_words::program_name(w))
            .unwrap_or_default();
        let is_shell = matches!(program, "sh" | "bash" | "dash");
        match command.words.as_slice() {
            [_, flag, script, ..] if is_shell && flag == "-c" => {
                for mut inner in shell_words::parse(script, syntax)? {
                    inner.conditional |= command.conditional;
                    out.extend(unwrap_shell_c(vec![inner], syntax)?);
                }
            }
            _ if RUNNERS.contains(&program) => {
                return Err(format!(
                    "`{program}` runs commands the analysis does not follow"
                ));
            }
            _ => out.push(command),
        }
    }
    Ok(out)
}

/// Lines of a file with trailing-backslash continuations joined (systemd units).
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The command of a systemd `Exec*=` line, without systemd's `-@:+!` prefixes.
fn exec_value(line: &str) -> Option<&str> {
    let (key, value) = line.trim_start().split_once('=')?;
    key.trim()
        .starts_with("Exec")
        .then(|| value.trim_start_matches(['-', '@', ':', '+', '!']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_format_is_strict() {
        assert!(is_sha256_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_sha256_digest("sha256:abc"));
        assert!(!is_sha256_digest(&"a".repeat(64)));
    }

    #[test]
    fn shell_script_user_data_is_not_a_cloud_config() {
        let err = analyse("#!/bin/bash\necho hi\n").unwrap_err();
        assert!(
            matches!(err, CloudConfigError::NotCloudConfig { .. }),
            "{err}"
        );
    }

    #[test]
    fn re_adding_the_ssh_rule_in_runcmd_cancels_its_removal() {
        let text = "#cloud-config\nbootcmd:\n- iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nruncmd:\n- iptables -A INPUT -p tcp --dport 22 -j ACCEPT\n";
        let analysis = analyse(text).unwrap();
        assert!(!analysis.ssh_rule_removed);
    }

    #[test]
    fn unmasking_the_getty_cancels_the_mask() {
        let text = "#cloud-config\nbootcmd:\n- systemctl mask --now serial-getty@ttyS0.service\nruncmd:\n- [systemctl, unmask, serial-getty@ttyS0.service]\n";
        assert!(!analyse(text).unwrap().serial_getty_masked);
    }

    #[test]
    fn docker_run_inside_sh_c_and_base64_files_is_found() {
        let unit = STANDARD.encode("[Service]\nExecStart=/usr/bin/docker run evil:latest\n");
        let text = format!(
            "#cloud-config\nwrite_files:\n- path: /etc/systemd/system/x.service\n  encoding: b64\n  content: {unit}\nruncmd:\n- sh -c \"docker run other@sha256:{}\"\n",
            "b".repeat(64)
        );
        let analysis = analyse(&text).unwrap();
        let images: Vec<_> = analysis
            .containers
            .iter()
            .map(|c| c.repository.as_str())
            .collect();
        assert_eq!(images, ["evil", "other"]);
    }

    #[test]
    fn gzip_content_is_reported_uninspectable() {
        let text = "#cloud-config\nwrite_files:\n- path: /etc/tokendist/x\n  encoding: gzip\n  content: abc\n";
        assert_eq!(
            analyse(text).unwrap().uninspectable,
            ["write_files[0] /etc/tokendist/x: gzip-encoded content"]
        );
    }

    #[test]
    fn empty_cloud_config_has_no_hardening() {
        let analysis = analyse("#cloud-config\n").unwrap();
        assert!(!analysis.ssh_rule_removed && !analysis.serial_getty_masked);
        assert!(analysis.containers.is_empty());
    }
}
