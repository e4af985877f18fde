//! The Cloud-config tab's data (pure, no I/O): the live user-data diffed against Alice's trusted
//! template with its holes filled with the live values (and each hole's value judged by its pattern),
//! against the text approved last time, and the live lines that break a check. Every judgement comes
//! from what the checks run — `core::policy::review_user_data`, the template's own matcher
//! ([`CloudConfigTemplate::fill`], [`CloudConfigTemplate::compare`]) and the analysis' located
//! findings — so the tab never disagrees with the verdict. A failing check that cannot be tied to a
//! line is flagged at line 0 (the whole document) rather than dropped.

use similar::ChangeTag;
use tokendist_core::checks::{
    CLOUDCONFIG_IMAGE_PINNED, CLOUDCONFIG_IMAGE_TRUSTED, CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_SSH_DISABLED, CLOUDCONFIG_TEMPLATE,
};
use tokendist_core::cloudconfig::locate::Locator;
use tokendist_core::cloudconfig::template::HoleValue as TemplateHole;
use tokendist_core::cloudconfig::{
    CloudConfigAnalysis, CloudConfigError, CloudConfigTemplate, Finding, FindingKind, Hardening,
    Place, analyse, unsupported_yaml,
};
use tokendist_core::policy::review_user_data;
use tokendist_core::settings::Settings;
use tokendist_core::verdict::{CheckResult, Outcome};

use super::model::{CloudConfigView, DiffLine, DiffTag, FlaggedLine, HoleValue, TextDiff};

/// What the template diff compares with.
pub const AGAINST_TEMPLATE: &str = "the trusted template (holes filled with the live values)";
/// What the approved-text diff compares with.
pub const AGAINST_APPROVED: &str = "the text approved last time";

/// The analysis' checks: all four fail together on anything it cannot interpret.
const ANALYSIS_CHECKS: [&str; 4] = [
    CLOUDCONFIG_SSH_DISABLED,
    CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_IMAGE_PINNED,
    CLOUDCONFIG_IMAGE_TRUSTED,
];

/// The tab for `live` (None: the instance has no user-data or it could not be read), judged with
/// `settings` (its template text already read), and `approved`, the text approved last time, already
/// verified against the approval's signed hash by the caller.
pub fn build(live: Option<&str>, settings: &Settings, approved: Option<&str>) -> CloudConfigView {
    let Some(live) = live else {
        return CloudConfigView::default();
    };
    let template = usable_template(settings);
    let filled = template.as_ref().map(|t| t.fill(live));
    CloudConfigView {
        live: Some(live.to_owned()),
        against_template: filled
            .as_ref()
            .map(|f| diff(AGAINST_TEMPLATE, &f.text, live)),
        holes: filled
            .map(|f| f.holes.into_iter().map(hole_value).collect())
            .unwrap_or_default(),
        against_approved: approved.map(|text| diff(AGAINST_APPROVED, text, live)),
        approved_text_problem: None,
        flagged: flagged(live, settings, template.as_ref()),
    }
}

/// A line diff of `live` against `reference`, every line kept (the console folds what it wants).
pub fn diff(against: &str, reference: &str, live: &str) -> TextDiff {
    let lines = similar::TextDiff::from_lines(reference, live)
        .iter_all_changes()
        .map(|change| {
            let text = change.value();
            DiffLine {
                tag: match change.tag() {
                    ChangeTag::Equal => DiffTag::Same,
                    ChangeTag::Insert => DiffTag::Added,
                    ChangeTag::Delete => DiffTag::Removed,
                },
                old_line: change.old_index().map(|i| i + 1),
                new_line: change.new_index().map(|i| i + 1),
                text: text.strip_suffix('\n').unwrap_or(text).to_owned(),
            }
        })
        .collect();
    TextDiff {
        against: against.to_owned(),
        lines,
    }
}

/// The configured template when its text is read and it parses (otherwise the template check says
/// why, and that reason is flagged for the whole document).
fn usable_template(settings: &Settings) -> Option<CloudConfigTemplate> {
    let configured = settings.cloud_config_template.as_ref()?;
    CloudConfigTemplate::parse(configured.text.as_deref()?, &configured.holes).ok()
}

fn hole_value(hole: TemplateHole) -> HoleValue {
    HoleValue {
        name: hole.name,
        pattern: hole.pattern,
        value: hole.value,
        problem: hole.problem,
    }
}

/// Every live line that breaks a check, in line order; line 0 for what concerns the whole document.
fn flagged(
    live: &str,
    settings: &Settings,
    template: Option<&CloudConfigTemplate>,
) -> Vec<FlaggedLine> {
    let checks = review_user_data(live, settings);
    let failing = |name: &str| checks.iter().any(|c| c.name == name && c.is_fail());
    let mut flags = Vec::new();
    if failing(CLOUDCONFIG_TEMPLATE)
        && let Some(Err(differences)) = template.map(|t| t.compare(live))
    {
        flags.extend(differences.into_iter().map(|d| FlaggedLine {
            line: d.line,
            check: CLOUDCONFIG_TEMPLATE.to_owned(),
            why: d.description,
        }));
    }
    match analyse(live) {
        Ok(analysis) => {
            let locator = Locator::new(live);
            for finding in &analysis.located_findings {
                let line = locator.line_of(&finding.place).unwrap_or(0);
                for (check, why) in finding_breaks(finding, &analysis, settings) {
                    if failing(check) {
                        flags.push(flag(line, check, why));
                    }
                }
            }
        }
        Err(error) => {
            for (line, why) in error_lines(live, &error) {
                flags.extend(
                    ANALYSIS_CHECKS
                        .iter()
                        .map(|check| flag(line, check, why.clone())),
                );
            }
        }
    }
    for check in checks.iter().filter(|c| c.is_fail()) {
        if !flags.iter().any(|f| f.check == check.name) {
            flags.push(flag(0, &check.name, reason(check)));
        }
    }
    flags.sort_by_key(|f| f.line);
    flags
}

fn flag(line: usize, check: &str, why: String) -> FlaggedLine {
    FlaggedLine {
        line,
        check: check.to_owned(),
        why,
    }
}

fn reason(check: &CheckResult) -> String {
    match &check.outcome {
        Outcome::Fail(reason) | Outcome::Skipped(reason) => reason.clone(),
        Outcome::Pass => String::new(),
    }
}

/// The checks a finding breaks (if they fail) and why, for Alice.
fn finding_breaks(
    finding: &Finding,
    analysis: &CloudConfigAnalysis,
    settings: &Settings,
) -> Vec<(&'static str, String)> {
    let hardening_check = |hardening: &Hardening| match hardening {
        Hardening::SshRuleRemoved => CLOUDCONFIG_SSH_DISABLED,
        Hardening::SerialGettyMasked => CLOUDCONFIG_SERIAL_DISABLED,
    };
    match &finding.what {
        FindingKind::ReopensSsh { command } => {
            vec![(CLOUDCONFIG_SSH_DISABLED, format!("re-opens SSH: {command}"))]
        }
        FindingKind::ReopensSerial { command } => vec![(
            CLOUDCONFIG_SERIAL_DISABLED,
            format!("re-enables the serial console: {command}"),
        )],
        FindingKind::ConditionalHardening { hardening, command } => vec![(
            hardening_check(hardening),
            format!(
                "runs only if another command succeeds or fails, so it does not count: {command}"
            ),
        )],
        FindingKind::RunsContainer { container, image } => {
            container_breaks(*container, image, analysis, settings)
        }
        FindingKind::NotInterpreted { why } => ANALYSIS_CHECKS
            .iter()
            .map(|check| (*check, format!("uninspectable: {why}")))
            .collect(),
        FindingKind::Hardens { .. } | FindingKind::TokendistData => Vec::new(),
    }
}

fn container_breaks(
    container: usize,
    image: &str,
    analysis: &CloudConfigAnalysis,
    settings: &Settings,
) -> Vec<(&'static str, String)> {
    let mut breaks = Vec::new();
    let Some(run) = analysis.containers.get(container) else {
        return breaks;
    };
    if container > 0 {
        breaks.push((
            CLOUDCONFIG_TEMPLATE,
            format!("starts another container ({image}) besides the first"),
        ));
    }
    if !run.pinned() {
        breaks.push((
            CLOUDCONFIG_IMAGE_PINNED,
            format!("runs {image}, not pinned by an @sha256 digest"),
        ));
    }
    let trusted = run
        .digest
        .as_ref()
        .is_some_and(|d| settings.trusted_container_digests.contains(d));
    if !trusted {
        breaks.push((
            CLOUDCONFIG_IMAGE_TRUSTED,
            format!("runs {image}, whose digest is not trusted"),
        ));
    }
    breaks
}

/// Where a text the analysis refuses is refused, with why.
fn error_lines(live: &str, error: &CloudConfigError) -> Vec<(usize, String)> {
    let whole = || vec![(0, error.to_string())];
    match error {
        CloudConfigError::NotCloudConfig { .. } => vec![(1, error.to_string())],
        CloudConfigError::Yaml { line, .. } => vec![(*line, error.to_string())],
        CloudConfigError::BadSection { section, .. } => {
            let line = Locator::new(live)
                .line_of(&Place::section(section))
                .unwrap_or(0);
            vec![(line, error.to_string())]
        }
        CloudConfigError::Uninspectable(_) => {
            let found: Vec<(usize, String)> = unsupported_yaml(live)
                .into_iter()
                .map(|u| (u.line, format!("uninspectable: {}", u.what)))
                .collect();
            if found.is_empty() { whole() } else { found }
        }
        CloudConfigError::NotAMapping => whole(),
    }
}

#[cfg(test)]
mod tests;
