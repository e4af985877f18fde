//! The four `cloudconfig.*` checks Alice's review runs on a VM's user-data (the approval then pins its
//! hash, so they need not run on every release).

use crate::checks::{
    CLOUDCONFIG_IMAGE_PINNED, CLOUDCONFIG_IMAGE_TRUSTED, CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_SSH_DISABLED, REVIEW_CHECKS,
};
use crate::cloudconfig::{CloudConfigAnalysis, analyse};
use crate::settings::Settings;
use crate::verdict::CheckResult;

/// Runs the four cloud-config checks on an analysis.
pub fn review(analysis: &CloudConfigAnalysis, settings: &Settings) -> Vec<CheckResult> {
    vec![
        ssh_disabled(analysis),
        serial_disabled(analysis),
        image_pinned(analysis),
        image_trusted(analysis, settings),
    ]
}

/// Analyses `user_data` and reviews it; if it cannot be analysed, all four checks fail with the reason.
pub fn review_user_data(user_data: &str, settings: &Settings) -> Vec<CheckResult> {
    match analyse(user_data) {
        Ok(analysis) => review(&analysis, settings),
        Err(e) => REVIEW_CHECKS
            .iter()
            .map(|name| CheckResult::fail(name, e.to_string()))
            .collect(),
    }
}

fn ssh_disabled(analysis: &CloudConfigAnalysis) -> CheckResult {
    if analysis.ssh_rule_removed {
        CheckResult::pass(CLOUDCONFIG_SSH_DISABLED)
    } else {
        CheckResult::fail(
            CLOUDCONFIG_SSH_DISABLED,
            "bootcmd/runcmd do not run `iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT`, or a command re-opens port 22: SSH stays open",
        )
    }
}

fn serial_disabled(analysis: &CloudConfigAnalysis) -> CheckResult {
    if analysis.serial_getty_masked {
        CheckResult::pass(CLOUDCONFIG_SERIAL_DISABLED)
    } else {
        CheckResult::fail(
            CLOUDCONFIG_SERIAL_DISABLED,
            "bootcmd/runcmd do not run `systemctl mask serial-getty@ttyS0.service`, or a command re-enables it: the serial console allows login",
        )
    }
}

/// Common reasons why no container can be judged: none found, or content that could not be read.
fn containers_unjudgeable(analysis: &CloudConfigAnalysis) -> Option<String> {
    if !analysis.uninspectable.is_empty() {
        return Some(format!(
            "cannot inspect: {}",
            analysis.uninspectable.join(", ")
        ));
    }
    if analysis.containers.is_empty() {
        return Some("the cloud-config runs no container (no `docker run` found)".to_owned());
    }
    None
}

fn image_pinned(analysis: &CloudConfigAnalysis) -> CheckResult {
    if let Some(reason) = containers_unjudgeable(analysis) {
        return CheckResult::fail(CLOUDCONFIG_IMAGE_PINNED, reason);
    }
    let unpinned: Vec<String> = analysis
        .containers
        .iter()
        .filter(|c| !c.pinned())
        .map(|c| format!("{} ({})", c.image, c.source))
        .collect();
    if unpinned.is_empty() {
        CheckResult::pass(CLOUDCONFIG_IMAGE_PINNED)
    } else {
        CheckResult::fail(
            CLOUDCONFIG_IMAGE_PINNED,
            format!("not pinned by @sha256 digest: {}", unpinned.join(", ")),
        )
    }
}

fn image_trusted(analysis: &CloudConfigAnalysis, settings: &Settings) -> CheckResult {
    if let Some(reason) = containers_unjudgeable(analysis) {
        return CheckResult::fail(CLOUDCONFIG_IMAGE_TRUSTED, reason);
    }
    let untrusted: Vec<String> = analysis
        .containers
        .iter()
        .filter(|c| {
            !c.digest
                .as_ref()
                .is_some_and(|d| settings.trusted_container_digests.contains(d))
        })
        .map(|c| c.image.clone())
        .collect();
    if untrusted.is_empty() {
        CheckResult::pass(CLOUDCONFIG_IMAGE_TRUSTED)
    } else if settings.trusted_container_digests.is_empty() {
        CheckResult::fail(
            CLOUDCONFIG_IMAGE_TRUSTED,
            "no trusted container digests are configured (settings: trusted_container_digests)",
        )
    } else {
        CheckResult::fail(
            CLOUDCONFIG_IMAGE_TRUSTED,
            format!(
                "images whose digest is not trusted: {}",
                untrusted.join(", ")
            ),
        )
    }
}
