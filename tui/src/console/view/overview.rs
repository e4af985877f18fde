//! The Overview tab: the VM's identity and placement, service account, IPs, machine type, boot image
//! and disk, fingerprint (and whether it changed since approval), Shielded VM and Confidential VM,
//! the approval in force, then every check with ✔ / ✘ / – and its reason, failed checks first.

use ratatui::text::{Line, Span};
use tokendist_core::verdict::{CheckResult, Outcome};

use super::super::theme::Theme;
use super::text::{check_lines, field, field_spans, heading, safe, time, time_or_dash, yes_no};
use crate::operations::model::VmDetail;
use crate::review::Against;

pub fn lines(detail: &VmDetail, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let review = &detail.review;
    match review.instance() {
        Ok(vm) => {
            out.push(field(
                "instance",
                format!("{} (id {})", safe(&vm.name), safe(&vm.instance_id)),
                theme,
            ));
            out.push(field(
                "project/zone",
                format!("{} / {}", safe(&vm.project), safe(&vm.zone)),
                theme,
            ));
            out.push(field(
                "status",
                format!(
                    "{}, created {}",
                    safe(&vm.status),
                    time(vm.creation_timestamp)
                ),
                theme,
            ));
            out.push(field(
                "service acct",
                safe(&vm.service_accounts.join(", ")),
                theme,
            ));
            out.push(field(
                "IPs",
                format!(
                    "internal {} · NAT {}",
                    list_or_dash(&vm.internal_ips),
                    list_or_dash(&vm.nat_ips)
                ),
                theme,
            ));
            out.push(field("machine", safe(&vm.machine_type), theme));
            out.push(boot_line(detail, theme));
            out.push(fingerprint_line(detail, &vm.fingerprint, theme));
            out.push(field_spans(
                "shielded VM",
                vec![
                    yes_no(vm.shielded.secure_boot, theme),
                    Span::raw(" secure boot  "),
                    yes_no(vm.shielded.vtpm, theme),
                    Span::raw(" vTPM  "),
                    yes_no(vm.shielded.integrity_monitoring, theme),
                    Span::raw(" integrity monitoring"),
                ],
                theme,
            ));
            out.push(field_spans(
                "confidential",
                vec![yes_no(vm.confidential_compute, theme)],
                theme,
            ));
        }
        Err(e) => out.push(Line::styled(
            format!("✘ the instance could not be read: {}", safe(&e.to_string())),
            theme.danger(),
        )),
    }
    out.push(approval_line(detail, theme));
    for error in review.fetch_errors() {
        out.push(Line::styled(
            format!("✘ {}", safe(&error.to_string())),
            theme.danger(),
        ));
    }
    out.push(Line::default());
    out.extend(checks(&detail.checks, detail.against, width, theme));
    out
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "–".to_owned()
    } else {
        safe(&items.join(", "))
    }
}

fn boot_line(detail: &VmDetail, theme: Theme) -> Line<'static> {
    match detail.review.boot_disk() {
        Ok(disk) => field(
            "boot",
            format!(
                "{} (disk {})",
                safe(disk.source_image.as_deref().unwrap_or("no source image")),
                safe(&disk.name)
            ),
            theme,
        ),
        Err(e) => field_spans(
            "boot",
            vec![Span::styled(
                format!("✘ {}", safe(&e.to_string())),
                theme.danger(),
            )],
            theme,
        ),
    }
}

fn fingerprint_line(detail: &VmDetail, fingerprint: &str, theme: Theme) -> Line<'static> {
    let note = match detail.fingerprint_changed {
        Some(true) => Span::styled(" ✘ changed since approval", theme.danger()),
        Some(false) => Span::styled(" ✔ as approved", theme.ok()),
        None => Span::styled(" – no approval", theme.muted()),
    };
    field_spans(
        "fingerprint",
        vec![Span::raw(safe(fingerprint)), note],
        theme,
    )
}

fn approval_line(detail: &VmDetail, theme: Theme) -> Line<'static> {
    let Some(approval) = &detail.approval else {
        return field_spans(
            "approval",
            vec![Span::styled("none yet", theme.muted())],
            theme,
        );
    };
    let state = match (approval.revoked_at, approval.expires_at) {
        (Some(at), _) => Span::styled(format!("revoked {}", time(at)), theme.danger()),
        (None, Some(at)) => Span::raw(format!("expires {}", time(at))),
        (None, None) => Span::raw("no expiry"),
    };
    field_spans(
        "approval",
        vec![
            Span::raw(format!(
                "revision {} by {}, {} · ",
                approval.revision,
                safe(&approval.approver),
                time_or_dash(Some(approval.approved_at))
            )),
            state,
        ],
        theme,
    )
}

/// The checks, failed first, under a summary line.
fn checks(
    checks: &[CheckResult],
    against: Against,
    width: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let failed = checks.iter().filter(|c| c.is_fail()).count();
    let passed = checks.iter().filter(|c| c.is_pass()).count();
    let against = match against {
        Against::Approval => "against the approval",
        Against::Proposal => "against the approval `a` would propose",
    };
    let summary_style = if failed > 0 {
        theme.danger()
    } else {
        theme.ok()
    };
    let mut out = vec![Line::from(vec![
        Span::styled("Checks ", theme.heading()),
        Span::styled(
            format!("{passed}/{} pass, {failed} fail", checks.len()),
            summary_style,
        ),
        Span::styled(format!(" ({against})"), theme.muted()),
    ])];
    let rank = |c: &&CheckResult| match c.outcome {
        Outcome::Fail(_) => 0,
        Outcome::Pass => 1,
        Outcome::Skipped(_) => 2,
    };
    let mut ordered: Vec<&CheckResult> = checks.iter().collect();
    ordered.sort_by_key(rank);
    if ordered.is_empty() {
        out.push(heading("no checks were evaluated", theme));
    }
    for check in ordered {
        out.extend(check_lines(check, width, theme));
    }
    out
}
