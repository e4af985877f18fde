//! What the cloud-config analysis found and where: a [`Place`] (top-level key, list entry, written
//! file and the unit line in it) and a typed [`FindingKind`], so that the console can tie each finding
//! to a line of the user-data ([`super::locate`]) and to the check it breaks without reading strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where in the user-data something was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The top-level key, e.g. `runcmd` or `write_files`.
    pub section: String,
    /// The entry of the section's list, when in one.
    pub index: Option<usize>,
    /// The `path` of a `write_files` entry.
    pub path: Option<String>,
    /// The (logical) line of the written file the finding is on, e.g. a unit's `ExecStart=…`.
    pub file_line: Option<String>,
}

impl Place {
    /// A top-level key as a whole.
    pub fn section(section: &str) -> Self {
        Self {
            section: section.to_owned(),
            index: None,
            path: None,
            file_line: None,
        }
    }

    /// Entry `index` of the list under `section`.
    pub fn entry(section: &str, index: usize) -> Self {
        Self {
            index: Some(index),
            ..Self::section(section)
        }
    }

    /// Entry `index` of `write_files`, writing `path`.
    pub fn file(index: usize, path: &str) -> Self {
        Self {
            path: Some(path.to_owned()),
            ..Self::entry("write_files", index)
        }
    }

    /// The same place, on one line of the written file.
    pub fn on_file_line(&self, line: &str) -> Self {
        Self {
            file_line: Some(line.to_owned()),
            ..self.clone()
        }
    }
}

/// `runcmd[1]`, `write_files[0] /etc/systemd/system/x.service`, `users` (the file line is not shown).
impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.section)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        if let Some(path) = &self.path {
            write!(f, " {path}")?;
        }
        Ok(())
    }
}

/// Which hardening a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hardening {
    /// Deletes COS's port-22 ACCEPT rule.
    SshRuleRemoved,
    /// Masks `serial-getty@ttyS0`.
    SerialGettyMasked,
}

/// What the analysis found at a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// Hardening done unconditionally at boot.
    Hardens { hardening: Hardening },
    /// Hardening that runs only if another command succeeds or fails: it does not count.
    ConditionalHardening {
        hardening: Hardening,
        command: String,
    },
    /// Adds an INPUT rule accepting port 22 or sets INPUT's policy to ACCEPT.
    ReopensSsh { command: String },
    /// Unmasks, enables or starts the serial getty.
    ReopensSerial { command: String },
    /// Runs a container: index into [`super::CloudConfigAnalysis::containers`].
    RunsContainer { container: usize, image: String },
    /// The tokendist client's configuration (data, never run).
    TokendistData,
    /// Something the analysis does not interpret (the analysis checks then fail).
    NotInterpreted { why: String },
}

/// One finding: what, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub place: Place,
    pub what: FindingKind,
}

/// The operator-readable note, e.g. `runcmd[1]: re-opens SSH (iptables -P INPUT ACCEPT)`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = &self.place;
        match &self.what {
            FindingKind::Hardens {
                hardening: Hardening::SshRuleRemoved,
            } => write!(f, "{place}: removes the port-22 ACCEPT rule"),
            FindingKind::Hardens {
                hardening: Hardening::SerialGettyMasked,
            } => write!(f, "{place}: masks serial-getty@ttyS0"),
            FindingKind::ConditionalHardening { command, .. } => write!(
                f,
                "{place}: hardening that runs only if another command succeeds or fails does not count ({command})"
            ),
            FindingKind::ReopensSsh { command } => {
                write!(f, "{place}: re-opens SSH ({command})")
            }
            FindingKind::ReopensSerial { command } => {
                write!(f, "{place}: re-enables the serial getty ({command})")
            }
            FindingKind::RunsContainer { image, .. } => {
                write!(f, "{place}: runs container {image}")
            }
            FindingKind::TokendistData => {
                write!(f, "{place}: tokendist client configuration (data, not run)")
            }
            FindingKind::NotInterpreted { why } => {
                write!(f, "{place}: not interpreted: {why}")
            }
        }
    }
}
