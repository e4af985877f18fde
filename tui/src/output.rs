//! Writing results to stdout (data) without panicking on a closed pipe, and JSON shapes shared by the
//! subcommands. Prompts and progress go to the terminal (stderr) so stdout stays parseable. Everything written goes
//! through `core::terminal_text::printable`: text from Google, certificates or the store reaches the
//! terminal with its control characters (ANSI escapes, CR, BEL, C1, bidi overrides) escaped.

use std::io::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_core::terminal_text::printable;
use tokendist_core::verdict::{CheckResult, Outcome};

use crate::error::ConsoleError;
use crate::style::{paint, stdout_colour};

/// Writes `text` to stdout, its marks coloured on a terminal ([`crate::style`]). A reader that went
/// away (`| head -1`) is [`ConsoleError::OutputClosed`], which ends the command quietly.
pub fn emit(text: &str) -> Result<(), ConsoleError> {
    let text = printable(text);
    let text = if stdout_colour() {
        paint(&text)
    } else {
        text.into_owned()
    };
    write_stdout(text.as_bytes())
}

fn write_stdout(bytes: &[u8]) -> Result<(), ConsoleError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => ConsoleError::OutputClosed,
            _ => ConsoleError::Failed(format!("cannot write to stdout: {e}")),
        })
}

/// Writes `value` as pretty JSON and a newline to stdout.
pub fn emit_json(value: &impl Serialize) -> Result<(), ConsoleError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| ConsoleError::Failed(format!("cannot encode the output as JSON: {e}")))?;
    text.push('\n');
    // JSON is never coloured; `printable` only escapes control characters JSON already escaped.
    write_stdout(printable(&text).as_bytes())
}

/// A stored secret as shown: everything but the protected bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretJson {
    pub name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub protection: String,
    pub plaintext_len: u64,
}

/// An approval as shown by `show --json` (no secret bytes, no signature bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalJson {
    pub instance_id: String,
    pub instance_name: String,
    pub project: String,
    pub zone: String,
    pub revision: u64,
    pub approver: String,
    pub approved_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    /// Why Alice approved despite failed checks (signed with the approval).
    pub forced_reason: Option<String>,
    pub require_tpm: bool,
    pub peer_address: Option<String>,
    pub client_cert_serial: Option<String>,
    pub signed: bool,
    pub secrets: Vec<SecretJson>,
}

impl From<&Approval> for ApprovalJson {
    fn from(a: &Approval) -> Self {
        Self {
            instance_id: a.instance_id.clone(),
            instance_name: a.instance_name.clone(),
            project: a.project.clone(),
            zone: a.zone.clone(),
            revision: a.revision,
            approver: a.approver.clone(),
            approved_at: a.approved_at,
            expires_at: a.expires_at,
            revoked_at: a.revoked_at,
            revoke_reason: a.revoke_reason.clone(),
            forced_reason: a.forced_reason.clone(),
            require_tpm: a.require_tpm,
            peer_address: a.peer_address.clone(),
            client_cert_serial: a.client_cert_serial.clone(),
            signed: !a.signature.is_empty(),
            secrets: a
                .secrets
                .iter()
                .map(|s| SecretJson {
                    name: s.name.clone(),
                    secret_type: s.secret_type.clone(),
                    protection: s.protection.clone(),
                    plaintext_len: s.plaintext_len,
                })
                .collect(),
        }
    }
}

/// One check as the console's JSON shows it: `{"name", "outcome": "pass"|"fail"|"skipped", "reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckJson {
    pub name: String,
    pub outcome: &'static str,
    /// Why it failed or was skipped; null when it passed.
    pub reason: Option<String>,
}

impl From<&CheckResult> for CheckJson {
    fn from(check: &CheckResult) -> Self {
        let (outcome, reason) = match &check.outcome {
            Outcome::Pass => ("pass", None),
            Outcome::Fail(reason) => ("fail", Some(reason.clone())),
            Outcome::Skipped(why) => ("skipped", Some(why.clone())),
        };
        Self {
            name: check.name.clone(),
            outcome,
            reason,
        }
    }
}

/// Every check, converted.
pub fn checks_json(checks: &[CheckResult]) -> Vec<CheckJson> {
    checks.iter().map(CheckJson::from).collect()
}
