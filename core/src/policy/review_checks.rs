//! The `cloudconfig.*` checks Alice's review runs on a VM's user-data (the approval then pins its
//! hash, so they need not run on every release): `cloudconfig.template`, the gate (the user-data is
//! her trusted template with its holes filled), then the four checks of the analysis, which explain
//! what the text does and fail closed on anything the analysis cannot interpret.

use crate::checks::{
    CLOUDCONFIG_IMAGE_PINNED, CLOUDCONFIG_IMAGE_TRUSTED, CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_SSH_DISABLED, CLOUDCONFIG_TEMPLATE, REVIEW_CHECKS,
};
use crate::cloudconfig::template::describe;
use crate::cloudconfig::{CloudConfigAnalysis, CloudConfigTemplate, analyse};
use crate::evidence::InstanceEvidence;
use crate::settings::Settings;
use crate::verdict::CheckResult;

/// The analysis' four checks, in [`crate::checks::REVIEW_CHECKS`] order after the template.
const ANALYSIS_CHECKS: [&str; 4] = [
    CLOUDCONFIG_SSH_DISABLED,
    CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_IMAGE_PINNED,
    CLOUDCONFIG_IMAGE_TRUSTED,
];

/// What Alice reads when no template is configured.
const NO_TEMPLATE: &str = "no trusted cloud-config template is configured, so nothing vouches for the user-data text: \
add a [cloud_config_template] table to the settings file (--settings / TOKENDIST_SETTINGS) with \
path = \"FILE\" (e.g. dist/cloud-config/tokenclient.template.yaml) and, under \
[cloud_config_template.holes], one NAME = \"PATTERN\" per {{NAME}} in the file; \
or approve with --force --reason TEXT";

/// Runs the analysis' four checks; anything it could not interpret fails all four.
pub fn review(analysis: &CloudConfigAnalysis, settings: &Settings) -> Vec<CheckResult> {
    if !analysis.uninspectable.is_empty() {
        let reason = format!(
            "uninspectable (the analysis cannot tell what this does, so it vouches for nothing): {}",
            analysis.uninspectable.join("; ")
        );
        return ANALYSIS_CHECKS
            .iter()
            .map(|name| CheckResult::fail(name, reason.clone()))
            .collect();
    }
    vec![
        ssh_disabled(analysis),
        serial_disabled(analysis),
        image_pinned(analysis),
        image_trusted(analysis, settings),
    ]
}

/// Every review check on the instance's `user-data` metadata; all fail when it has none.
pub fn review_instance(instance: &InstanceEvidence, settings: &Settings) -> Vec<CheckResult> {
    match instance.metadata.get("user-data") {
        Some(text) => review_user_data(text, settings),
        None => REVIEW_CHECKS
            .iter()
            .map(|name| CheckResult::fail(name, "the instance has no user-data metadata"))
            .collect(),
    }
}

/// Every review check on `user_data`: `cloudconfig.template`, then the analysis' four (all four fail
/// with the reason when the text cannot be analysed).
pub fn review_user_data(user_data: &str, settings: &Settings) -> Vec<CheckResult> {
    let mut results = vec![template(user_data, settings)];
    match analyse(user_data) {
        Ok(analysis) => results.extend(review(&analysis, settings)),
        Err(e) => results.extend(
            ANALYSIS_CHECKS
                .iter()
                .map(|name| CheckResult::fail(name, e.to_string())),
        ),
    }
    results
}

/// `cloudconfig.template`: the live user-data is the configured template with every hole filled by
/// a value its pattern accepts, byte for byte elsewhere.
pub fn template(user_data: &str, settings: &Settings) -> CheckResult {
    let Some(configured) = &settings.cloud_config_template else {
        return CheckResult::fail(CLOUDCONFIG_TEMPLATE, NO_TEMPLATE);
    };
    let Some(text) = &configured.text else {
        return CheckResult::fail(
            CLOUDCONFIG_TEMPLATE,
            format!(
                "the template file {:?} was not read (the console reads it with its settings)",
                configured.path.as_deref().unwrap_or_default()
            ),
        );
    };
    let template = match CloudConfigTemplate::parse(text, &configured.holes) {
        Ok(template) => template,
        Err(e) => {
            return CheckResult::fail(
                CLOUDCONFIG_TEMPLATE,
                format!("the configured template cannot be used: {e}"),
            );
        }
    };
    match template.compare(user_data) {
        Ok(_) => CheckResult::pass(CLOUDCONFIG_TEMPLATE),
        Err(differences) => CheckResult::fail(
            CLOUDCONFIG_TEMPLATE,
            format!(
                "the user-data is not the trusted template: {}",
                describe(&differences)
            ),
        ),
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
