//! The `instance.project_metadata` check: the project's live `commonInstanceMetadata` (which every VM
//! of the project reads besides its own) has no key that runs code or opens access on the VM. An
//! allow-list: known harmless keys pass, dangerous ones fail with their reason, unknown ones fail as
//! unknown. Project SSH keys pass only while the instance blocks them; when the instance could not be
//! read, they count as not blocked. A fetch error fails the check with that error.

use crate::checks::INSTANCE_PROJECT_METADATA;
use crate::evidence::Evidence;
use crate::metadata_keys::{KeyClass, blocks_project_ssh_keys, classify_project_key};
use crate::verdict::CheckResult;

pub(super) fn check(evidence: &Evidence) -> CheckResult {
    let project = match &evidence.project {
        Ok(project) => project,
        Err(e) => return CheckResult::fail(INSTANCE_PROJECT_METADATA, e.to_string()),
    };
    let blocked = evidence
        .instance
        .as_ref()
        .is_ok_and(|instance| blocks_project_ssh_keys(&instance.metadata));
    let problems: Vec<String> = project
        .metadata
        .iter()
        .filter_map(
            |(key, value)| match classify_project_key(key, value, blocked) {
                KeyClass::Harmless => None,
                KeyClass::Dangerous(reason) => Some(format!("{key:?} {reason}")),
                KeyClass::Unknown => Some(format!(
                    "{key:?} is not a key known to be harmless (every VM of the project reads it)"
                )),
            },
        )
        .collect();
    if problems.is_empty() {
        CheckResult::pass(INSTANCE_PROJECT_METADATA)
    } else {
        CheckResult::fail(
            INSTANCE_PROJECT_METADATA,
            format!(
                "project {} metadata: {}",
                project.project,
                problems.join("; ")
            ),
        )
    }
}
