//! The History tab: approvals, revocations, releases with their receipt ids and denials with their
//! failed checks, newest first (as the operations return them).

use ratatui::text::{Line, Span};

use super::super::theme::Theme;
use super::text::{safe, time, wrap};
use crate::operations::model::{HistoryKind, VmDetail};

pub fn lines(detail: &VmDetail, width: usize, theme: Theme) -> Vec<Line<'static>> {
    if detail.history.is_empty() {
        return vec![Line::styled(
            "no events recorded for this VM yet".to_owned(),
            theme.muted(),
        )];
    }
    let mut out = Vec::new();
    for entry in &detail.history {
        let (marker, style, what) = match &entry.what {
            HistoryKind::Approved {
                revision,
                forced_reason,
                secrets,
            } => (
                "✔",
                theme.ok(),
                match forced_reason {
                    Some(reason) => format!(
                        "approved revision {revision}, {secrets} secret(s), despite failed checks: {}",
                        safe(reason)
                    ),
                    None => format!("approved revision {revision}, {secrets} secret(s)"),
                },
            ),
            HistoryKind::Revoked {
                revision,
                reason,
                cause,
            } => (
                "–",
                theme.warn(),
                match cause {
                    Some(cause) => format!(
                        "revoked (revision {revision}) by the audit watch: {} by {} at {}; {}",
                        safe(&cause.method),
                        safe(cause.principal.as_deref().unwrap_or("an unnamed principal")),
                        time(cause.time),
                        safe(reason)
                    ),
                    None => format!("revoked (revision {revision}): {}", safe(reason)),
                },
            ),
            HistoryKind::Released {
                receipt_id,
                secrets,
            } => (
                "→",
                theme.ok(),
                format!(
                    "released {secrets} secret(s), receipt {}",
                    safe(receipt_id.as_deref().unwrap_or("–"))
                ),
            ),
            HistoryKind::Denied { failed_checks } => (
                "✘",
                theme.danger(),
                format!("denied: {}", safe(&failed_checks.join(", "))),
            ),
            HistoryKind::Attested => ("●", theme.muted(), "attested (quote recorded)".to_owned()),
            HistoryKind::PendingRemoved => {
                ("●", theme.muted(), "pending record removed".to_owned())
            }
            HistoryKind::Unrecognized { event_kind } => (
                "?",
                theme.muted(),
                format!(
                    "{} (details not readable by this version)",
                    safe(event_kind)
                ),
            ),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{} ", time(entry.time)), theme.muted()),
            Span::styled(format!("{marker} "), style),
            Span::styled(format!("by {}", safe(&entry.actor)), theme.muted()),
        ]));
        for part in wrap(&what, width.saturating_sub(4)) {
            out.push(Line::styled(format!("    {part}"), style));
        }
    }
    out
}
