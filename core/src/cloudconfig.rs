//! Analysis of a Container-Optimized OS `#cloud-config` user-data, for Alice's review: does it remove
//! the SSH allow rule, mask the serial getty, which containers does it run and are they pinned by
//! digest; plus the user-data digests the `instance.user_data` check pins. Pure text analysis.
//!
//! Where commands are read: `bootcmd` and `runcmd` entries (string form through a small shell
//! splitter, list form as words, `sh -c "…"` unwrapped), and every line of every `write_files`
//! content (systemd `Exec*=` prefixes stripped, `\` continuations joined). Hardening only counts when
//! done by `bootcmd`/`runcmd`; anything anywhere that undoes it, or that cannot be read (gzip
//! content), makes the corresponding result negative.

mod docker_run;
mod hardening;
mod shell_words;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;
use sha2::{Digest as _, Sha256};

pub use docker_run::{ContainerRun, split_image};

use hardening::Effect;

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
            _ => {}
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
        findings: scan.findings,
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
    findings: Vec<String>,
}

impl Scan {
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
            let place = format!("{section}[{index}]");
            let commands = match item {
                Value::String(line) => shell_words::commands(line),
                Value::Sequence(words) => {
                    let words = words
                        .iter()
                        .map(scalar_text)
                        .collect::<Option<Vec<String>>>()
                        .ok_or_else(|| bad("a list-form command must contain only scalars"))?;
                    vec![words]
                }
                _ => return Err(bad("each command must be a string or a list of strings")),
            };
            for words in unwrap_shell_c(commands) {
                self.command(&place, &words, true);
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
            let path = file.get("path").and_then(scalar_text).unwrap_or_default();
            let place = format!("write_files[{index}] {path}");
            let content = file
                .get("content")
                .and_then(scalar_text)
                .unwrap_or_default();
            let encoding = file
                .get("encoding")
                .and_then(scalar_text)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let text = match encoding.as_str() {
                "" | "text/plain" => content,
                "b64" | "base64" => match STANDARD.decode(content.trim()) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) => return Err(bad(format!("{place}: content is not base64: {e}"))),
                },
                other => {
                    self.findings.push(format!(
                        "{place}: {other}-encoded content cannot be inspected"
                    ));
                    self.uninspectable.push(place);
                    continue;
                }
            };
            for line in logical_lines(&text) {
                let command_text = exec_value(&line).unwrap_or(&line);
                for words in unwrap_shell_c(shell_words::commands(command_text)) {
                    self.command(&place, &words, false);
                }
            }
        }
        Ok(())
    }

    /// Records what one command does; `runs_at_boot` is true for `bootcmd`/`runcmd`.
    fn command(&mut self, place: &str, words: &[String], runs_at_boot: bool) {
        match hardening::effect(words) {
            Effect::RemovesSshRule if runs_at_boot => {
                self.ssh_removed = true;
                self.findings
                    .push(format!("{place}: removes the port-22 ACCEPT rule"));
            }
            Effect::MasksSerialGetty if runs_at_boot => {
                self.serial_masked = true;
                self.findings
                    .push(format!("{place}: masks serial-getty@ttyS0"));
            }
            Effect::ReopensSsh => {
                self.ssh_reopened = true;
                self.findings
                    .push(format!("{place}: re-opens SSH ({})", words.join(" ")));
            }
            Effect::ReopensSerial => {
                self.serial_reopened = true;
                self.findings.push(format!(
                    "{place}: re-enables the serial getty ({})",
                    words.join(" ")
                ));
            }
            Effect::RemovesSshRule | Effect::MasksSerialGetty | Effect::None => {}
        }
        if let Some(run) = docker_run::parse(words, place) {
            self.findings
                .push(format!("{place}: runs container {}", run.image));
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

/// Replaces `sh -c "a; b"` (and bash/dash) by the commands inside it, keeping the others.
fn unwrap_shell_c(commands: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for words in commands {
        let is_shell = words
            .first()
            .is_some_and(|w| matches!(shell_words::program_name(w), "sh" | "bash" | "dash"));
        let script = words
            .iter()
            .position(|w| w == "-c")
            .and_then(|i| words.get(i + 1));
        match (is_shell, script) {
            (true, Some(script)) => out.extend(shell_words::commands(script)),
            _ => out.push(words),
        }
    }
    out
}

/// Lines of a file with trailing-backslash continuations joined (systemd units and shell scripts).
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
        let script = STANDARD.encode("#!/bin/sh\ndocker run evil:latest\n");
        let text = format!(
            "#cloud-config\nwrite_files:\n- path: /x.sh\n  encoding: b64\n  content: {script}\nruncmd:\n- sh -c \"docker run other@sha256:{}\"\n",
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
        let text = "#cloud-config\nwrite_files:\n- path: /x\n  encoding: gzip\n  content: abc\n";
        assert_eq!(analyse(text).unwrap().uninspectable, ["write_files[0] /x"]);
    }

    #[test]
    fn empty_cloud_config_has_no_hardening() {
        let analysis = analyse("#cloud-config\n").unwrap();
        assert!(!analysis.ssh_rule_removed && !analysis.serial_getty_masked);
        assert!(analysis.containers.is_empty());
    }
}
