//! `instance.boot_disk`: the boot disk was created with its instance (their `creationTimestamp`s
//! within `Settings::boot_disk_created_within_secs`), has only ever been attached to it (`users` is
//! exactly the instance, never detached, not re-attached later), and its audit history (its own
//! `gce_disk` entries and anything made from it) holds only harmless methods: no snapshot, image,
//! machine image, clone, attach or detach.

use chrono::{DateTime, Duration, Utc};

use crate::auditlog::{AuditScope, classify, relation};
use crate::checks::INSTANCE_BOOT_DISK;
use crate::evidence::{DiskEvidence, Evidence, InstanceEvidence};
use crate::settings::Settings;
use crate::verdict::CheckResult;

/// How many history problems the reason lists before summarising the rest.
const LISTED: usize = 3;

/// The largest tolerance `boot_disk_created_within_secs` takes effect with: one day.
const MAX_CREATED_WITHIN_SECS: u64 = 86_400;

pub(super) fn check(
    evidence: &Evidence,
    settings: &Settings,
    scope: &AuditScope<'_>,
) -> CheckResult {
    let instance = match &evidence.instance {
        Ok(instance) => instance,
        Err(e) => return CheckResult::fail(INSTANCE_BOOT_DISK, e.to_string()),
    };
    let disk = match &evidence.boot_disk {
        Ok(disk) => disk,
        Err(e) => return CheckResult::fail(INSTANCE_BOOT_DISK, e.to_string()),
    };
    // At most a day: a larger tolerance means nothing for "created with its instance", and keeps
    // the clock arithmetic far from overflow.
    let within = Duration::seconds(
        i64::try_from(
            settings
                .boot_disk_created_within_secs
                .min(MAX_CREATED_WITHIN_SECS),
        )
        .unwrap_or(0),
    );
    let mut problems = attachment_problems(instance, disk, within);
    match &evidence.audit_log {
        Ok(entries) => {
            let failing: Vec<String> = entries
                .iter()
                .filter(|e| relation(e, scope).concerns_boot_disk())
                .filter_map(|e| {
                    classify(e, &settings.audit_methods, scope)
                        .reason()
                        .map(str::to_owned)
                })
                .collect();
            let more = failing.len().saturating_sub(LISTED);
            problems.extend(failing.into_iter().take(LISTED));
            if more > 0 {
                problems.push(format!("and {more} more disk events"));
            }
        }
        Err(e) => problems.push(format!("the disk's audit history is unavailable: {e}")),
    }
    if problems.is_empty() {
        CheckResult::pass(INSTANCE_BOOT_DISK)
    } else {
        CheckResult::fail(
            INSTANCE_BOOT_DISK,
            format!("boot disk {}: {}", disk.name, problems.join("; ")),
        )
    }
}

/// The disk's own record: creation next to the instance's, attached to it alone, never detached.
fn attachment_problems(
    instance: &InstanceEvidence,
    disk: &DiskEvidence,
    within: Duration,
) -> Vec<String> {
    let mut problems = Vec::new();
    if disk.disk_id.is_none() {
        problems.push(
            "the Compute API reports no disk id, so its audit history cannot be read".to_owned(),
        );
    }
    let created = instance.creation_timestamp;
    match disk.creation_timestamp {
        None => problems.push("the Compute API reports no creationTimestamp".to_owned()),
        Some(disk_created) if disk_created < created - within => problems.push(format!(
            "created at {}, {} before its instance ({}): made before the VM, not with it",
            rfc3339(disk_created),
            human(created - disk_created),
            rfc3339(created)
        )),
        Some(disk_created) if disk_created > created + within => problems.push(format!(
            "created at {}, {} after its instance ({}): not the disk the VM was created with",
            rfc3339(disk_created),
            human(disk_created - created),
            rfc3339(created)
        )),
        Some(_) => {}
    }
    let users: Vec<&str> = disk.users.iter().map(String::as_str).collect();
    match users.as_slice() {
        [only] if same_instance(only, &instance.project, &instance.zone, &instance.name) => {}
        [] => problems.push("attached to no instance".to_owned()),
        others => problems.push(format!("attached to [{}]", others.join(", "))),
    }
    if let Some(detached) = disk.last_detach_timestamp {
        problems.push(format!(
            "detached from an instance at {}",
            rfc3339(detached)
        ));
    }
    if let (Some(attached), Some(disk_created)) =
        (disk.last_attach_timestamp, disk.creation_timestamp)
        && attached > disk_created + within
    {
        problems.push(format!("attached again at {}", rfc3339(attached)));
    }
    problems
}

/// True when `user` (a full or partial instance URL) is this instance.
fn same_instance(user: &str, project: &str, zone: &str, name: &str) -> bool {
    let want = format!("projects/{project}/zones/{zone}/instances/{name}");
    user.trim_end_matches('/').ends_with(&want)
        && user
            .trim_end_matches('/')
            .strip_suffix(&want)
            .is_some_and(|head| head.is_empty() || head.ends_with('/'))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339()
}

fn human(gap: Duration) -> String {
    let secs = gap.num_seconds();
    if secs >= 2 * 86_400 {
        format!("{} days", secs / 86_400)
    } else if secs >= 2 * 3_600 {
        format!("{} hours", secs / 3_600)
    } else if secs >= 120 {
        format!("{} minutes", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_match_the_instance_by_full_or_partial_url_only() {
        let is_vm = |user: &str| same_instance(user, "p", "z", "vm");
        assert!(is_vm(
            "https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/vm"
        ));
        assert!(is_vm("projects/p/zones/z/instances/vm"));
        assert!(!is_vm("projects/xp/zones/z/instances/vm"));
        assert!(!is_vm("projects/p/zones/z/instances/vm2"));
    }
}
