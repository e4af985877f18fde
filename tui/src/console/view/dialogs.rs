//! The approve and revoke dialogs, drawn over the screen. Approve shows what will be signed (from the
//! plan), the failing checks, the secrets file picker, require-TPM, expiry and reason fields, and the
//! No / Yes buttons with No the default; revoke asks for the VM's name and a reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::model::{
    ApproveDialog, ApproveField, Model, PlanState, PlanSummary, RevokeDialog, RevokeField,
};
use super::super::theme::Theme;
use super::text::{field, fit, safe, spinner, wrap};

/// A `width`×`height` rectangle in the middle of `area` (clamped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

fn popup(
    frame: &mut Frame<'_>,
    area: Rect,
    title: String,
    lines: Vec<Line<'static>>,
    theme: Theme,
) {
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.danger().add_modifier(Modifier::BOLD))
                .title(title),
        ),
        area,
    );
}

/// An input field: label, `[value▏]` (cursor when focused), and a hint.
fn input(label: &str, value: &str, focused: bool, hint: &str, theme: Theme) -> Line<'static> {
    let marker = if focused { "▶ " } else { "  " };
    let cursor = if focused { "▏" } else { "" };
    let value_style = if focused {
        theme.selection()
    } else {
        ratatui::style::Style::new()
    };
    Line::from(vec![
        Span::styled(format!("{marker}{label:<13}"), theme.label()),
        Span::styled(format!("[{}{cursor}]", safe(value)), value_style),
        Span::styled(format!(" {hint}"), theme.muted()),
    ])
}

fn buttons(focused: bool, yes: bool, yes_label: &str, theme: Theme) -> Line<'static> {
    let style = |on: bool| {
        if on && focused {
            theme.selection().add_modifier(Modifier::BOLD)
        } else {
            theme.muted()
        }
    };
    let pointer = |on: bool| if on { "▸" } else { " " };
    Line::from(vec![
        Span::raw("    "),
        Span::styled(format!("{}No ", pointer(!yes)), style(!yes)),
        Span::raw("   "),
        Span::styled(format!("{}{yes_label} ", pointer(yes)), style(yes)),
    ])
}

pub fn approve(
    frame: &mut Frame<'_>,
    area: Rect,
    dialog: &ApproveDialog,
    model: &Model,
    theme: Theme,
) {
    let popup_width = area.width.saturating_sub(4).min(120);
    let width = usize::from(popup_width.saturating_sub(2));
    let mut lines = Vec::new();
    match &dialog.plan {
        PlanState::NeedsSecretsFile => lines.push(Line::styled(
            "Choose the secrets file first: the plan seals what it holds.".to_owned(),
            theme.muted(),
        )),
        PlanState::Loading => lines.push(Line::styled(
            format!(
                "{} reviewing the live evidence: what will be signed…",
                spinner(model.spinner)
            ),
            theme.muted(),
        )),
        PlanState::Failed(failure) => {
            for part in wrap(&failure.status_text("planning the approval"), width) {
                lines.push(Line::styled(part, theme.danger()));
            }
        }
        PlanState::Ready(plan) => lines.extend(plan_lines(plan, width, theme)),
    }
    lines.push(Line::default());
    let focus = dialog.focus;
    let choices = if dialog.secrets_choices.is_empty() {
        "type a path".to_owned()
    } else {
        format!("←/→: {}", dialog.secrets_choices.join(" "))
    };
    lines.push(input(
        "secrets file",
        &dialog.inputs.secrets_file,
        focus == ApproveField::SecretsFile,
        &fit(&choices, width.saturating_sub(40)),
        theme,
    ));
    lines.push(input(
        "require TPM",
        if dialog.inputs.require_tpm { "x" } else { " " },
        focus == ApproveField::RequireTpm,
        "Space toggles; off encrypts to the server",
        theme,
    ));
    lines.push(input(
        "expires",
        &dialog.inputs.expiry,
        focus == ApproveField::Expiry,
        "30d, 12h, RFC 3339; empty = never",
        theme,
    ));
    lines.push(input(
        "reason",
        &dialog.reason,
        focus == ApproveField::Reason,
        "required when checks fail (signed)",
        theme,
    ));
    if let Some(problem) = &dialog.problem {
        for part in wrap(problem, width) {
            lines.push(Line::styled(part, theme.danger()));
        }
    }
    lines.push(Line::default());
    lines.push(buttons(
        focus == ApproveField::Buttons,
        dialog.yes,
        "Yes, sign and store",
        theme,
    ));
    let title = format!(
        " Approve {} (id {})? ",
        safe(&dialog.target.name),
        safe(&dialog.target.instance_id)
    );
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    popup(
        frame,
        centered(area, popup_width, height),
        title,
        lines,
        theme,
    );
}

fn plan_lines(plan: &PlanSummary, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let value_width = width.saturating_sub(14);
    let mut lines = vec![
        Line::styled("What will be signed:".to_owned(), theme.heading()),
        field(
            "instance",
            fit(
                &format!(
                    "{} (id {}) {}/{}",
                    safe(&plan.name),
                    safe(&plan.instance_id),
                    safe(&plan.project),
                    safe(&plan.zone)
                ),
                value_width,
            ),
            theme,
        ),
        field(
            "user-data",
            fit(&safe(&plan.user_data_sha256), value_width),
            theme,
        ),
        field(
            "fingerprint",
            fit(&safe(&plan.fingerprint), value_width),
            theme,
        ),
        field(
            "boot images",
            fit(&safe(&plan.boot_images.join(", ")), value_width),
            theme,
        ),
        field(
            "EK",
            fit(
                &safe(
                    plan.ek_fingerprint
                        .as_deref()
                        .unwrap_or("– (not sealed to a vTPM)"),
                ),
                value_width,
            ),
            theme,
        ),
    ];
    let pcrs = if plan.pcrs.is_empty() {
        plan.pcr_problem
            .clone()
            .unwrap_or_else(|| "– none".to_owned())
    } else {
        plan.pcrs
            .iter()
            .map(|(i, v)| format!("{i}={}", fit(v, 12)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    lines.push(field("PCR policy", fit(&safe(&pcrs), value_width), theme));
    let secrets: Vec<String> = plan
        .secrets
        .iter()
        .map(|(name, kind, size)| format!("{} ({kind}, {size} B)", safe(name)))
        .collect();
    lines.push(field(
        "secrets",
        fit(&secrets.join(", "), value_width),
        theme,
    ));
    if let Some(blocked) = &plan.blocked {
        for part in wrap(&format!("✘ cannot approve: {}", safe(blocked)), width) {
            lines.push(Line::styled(part, theme.danger()));
        }
    }
    if let Some(approver) = &plan.approver {
        lines.push(field("signed by", safe(approver), theme));
    }
    if plan.failed_checks.is_empty() {
        lines.push(Line::styled("✔ every check passes".to_owned(), theme.ok()));
    } else {
        let text = format!(
            "✘ {} check(s) fail: {} — approving needs a reason",
            plan.failed_checks.len(),
            safe(&plan.failed_checks.join(", "))
        );
        for part in wrap(&text, width) {
            lines.push(Line::styled(part, theme.danger()));
        }
    }
    lines
}

pub fn revoke(frame: &mut Frame<'_>, area: Rect, dialog: &RevokeDialog, theme: Theme) {
    let mut lines = vec![
        Line::from(format!(
            "Revoking {} (id {}) in {}/{}: the server denies its next request.",
            safe(&dialog.target.name),
            safe(&dialog.target.instance_id),
            safe(&dialog.target.project),
            safe(&dialog.target.zone)
        )),
        Line::default(),
        input(
            "VM name",
            &dialog.typed_name,
            dialog.focus == RevokeField::Name,
            "type it to confirm",
            theme,
        ),
        input(
            "reason",
            &dialog.reason,
            dialog.focus == RevokeField::Reason,
            "recorded with the revocation",
            theme,
        ),
    ];
    if let Some(problem) = &dialog.problem {
        lines.push(Line::styled(problem.clone(), theme.danger()));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        "Enter revokes · Esc cancels".to_owned(),
        theme.muted(),
    ));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup_area = centered(area, area.width.saturating_sub(8).min(90), height);
    popup(frame, popup_area, " Revoke? ".to_owned(), lines, theme);
}
