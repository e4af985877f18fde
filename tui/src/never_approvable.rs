//! What `approve` refuses outright, `--force` or not: a VM whose own metadata has keys that run code or
//! open access (startup scripts, SSH keys, OS Login, `user-data-encoding`, ...; see
//! `tokendist_core::metadata_keys`), and `--allow-metadata-key` naming such a key. The release check
//! `instance.metadata` would fail on them anyway, so an approval could never be used.

use tokendist_core::evidence::InstanceEvidence;
use tokendist_core::metadata_keys::{instance_findings, never_approvable};
use tokendist_core::terminal_text::printable_line;

use crate::error::ConsoleError;

/// Refuses `--allow-metadata-key` values that no approval may allow.
pub fn refuse_dangerous_allow_keys(keys: &[String]) -> Result<(), ConsoleError> {
    let refused: Vec<String> = keys
        .iter()
        .filter_map(|key| never_approvable(key).map(|reason| format!("{key:?} {reason}")))
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(ConsoleError::Refused(format!(
            "--allow-metadata-key names a key that runs code or opens access on the VM, which no approval may allow: {}",
            refused.join("; ")
        )))
    }
}

/// Refuses a VM whose metadata has keys that run code or open access; the message also names the
/// checks that failed (`failed`).
pub fn refuse_dangerous_instance_metadata(
    instance: &InstanceEvidence,
    failed: &[String],
) -> Result<(), ConsoleError> {
    let findings = instance_findings(&instance.metadata);
    if findings.is_empty() {
        return Ok(());
    }
    // Bob chooses the names: control characters never reach the terminal.
    let keys: Vec<String> = findings
        .iter()
        .map(|f| printable_line(&f.key).into_owned())
        .collect();
    let reasons: Vec<String> = findings.iter().map(ToString::to_string).collect();
    Err(ConsoleError::Refused(format!(
        "{name} has metadata that runs code or opens access on the VM, which no approval may allow \
         (--force --reason does not override this): {reasons}; remove it (gcloud compute instances \
         remove-metadata {name} --zone {zone} --keys {keys}) and review the VM again; failed checks: {failed}",
        name = printable_line(&instance.name),
        reasons = reasons.join("; "),
        zone = printable_line(&instance.zone),
        keys = keys.join(","),
        failed = failed.join(", "),
    )))
}
