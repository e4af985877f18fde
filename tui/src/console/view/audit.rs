//! The Audit log tab: the VM's timeline since creation (time, method, principal, what changed), denied
//! and unknown methods in red with the reason, and how many entries were fetched and from when.

use ratatui::text::{Line, Span};
use tokendist_core::auditlog::Classification;

use super::super::theme::Theme;
use super::text::{safe, time, wrap};
use crate::operations::model::VmDetail;

pub fn lines(detail: &VmDetail, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let events = match &detail.review.timeline {
        Ok(events) => events,
        Err(e) => {
            return vec![Line::styled(
                format!(
                    "✘ the audit log could not be read: {}",
                    safe(&e.to_string())
                ),
                theme.danger(),
            )];
        }
    };
    let since = detail
        .review
        .instance()
        .map(|vm| time(vm.creation_timestamp))
        .unwrap_or_else(|_| "the VM's creation".to_owned());
    let shown: Vec<_> = events
        .iter()
        .filter(|e| !matches!(e.classification, Classification::OtherInstance))
        .collect();
    let failing = shown
        .iter()
        .filter(|e| e.is_denied() || e.is_unknown())
        .count();
    let fetched = detail
        .review
        .evidence
        .audit_log
        .as_ref()
        .map_or(0, Vec::len);
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("{} entries since {since} ({fetched} fetched)", shown.len()),
            theme.heading(),
        ),
        if failing > 0 {
            Span::styled(format!("  ✘ {failing} denied or unknown"), theme.danger())
        } else {
            Span::styled("  ✔ every method allowed", theme.ok())
        },
    ])];
    for event in shown {
        let (marker, style, reason) = match &event.classification {
            Classification::Denied { reason } => ("✘ DENIED ", theme.danger(), Some(reason)),
            Classification::Unknown { reason } => ("✘ UNKNOWN", theme.danger(), Some(reason)),
            Classification::Allowed | Classification::OtherInstance => {
                ("✔        ", theme.muted(), None)
            }
        };
        out.push(Line::from(vec![
            Span::styled(format!("{} ", time(event.timestamp)), theme.muted()),
            Span::styled(format!("{marker} "), style),
            Span::styled(safe(&event.method), style),
            Span::raw(format!(
                " by {}",
                safe(event.principal.as_deref().unwrap_or("?"))
            )),
        ]));
        if !event.request_summary.is_empty() {
            out.push(Line::styled(
                format!("      {}", safe(&event.request_summary)),
                theme.muted(),
            ));
        }
        if let Some(reason) = reason {
            for part in wrap(&safe(reason), width.saturating_sub(6)) {
                out.push(Line::styled(format!("      {part}"), theme.danger()));
            }
        }
    }
    out
}
