//! The Secrets tab: each stored secret's name, kind, size and protection (sealed to the VM's EK, or
//! encrypted to the token server). Never a value: the approval holds only sealed bytes, and they are
//! not shown either.

use ratatui::text::{Line, Span};

use super::super::theme::Theme;
use super::text::{cell, heading, safe};
use crate::operations::approval::PROTECTION_SERVER_HPKE;
use crate::operations::model::VmDetail;

pub fn lines(detail: &VmDetail, theme: Theme) -> Vec<Line<'static>> {
    let Some(approval) = &detail.approval else {
        return vec![Line::styled(
            "no approval: no secrets are stored for this VM".to_owned(),
            theme.muted(),
        )];
    };
    if approval.secrets.is_empty() {
        return vec![Line::styled(
            "the approval holds no secrets".to_owned(),
            theme.muted(),
        )];
    }
    let mut out = vec![heading(
        format!(
            "{}{}{:>9}  protection",
            cell("name", 24),
            cell("kind", 6),
            "size"
        ),
        theme,
    )];
    for secret in &approval.secrets {
        let protection = if secret.protection == PROTECTION_SERVER_HPKE {
            Span::styled("HPKE to the token server", theme.warn())
        } else {
            Span::styled(
                format!("sealed to the VM's EK ({})", safe(&secret.protection)),
                theme.ok(),
            )
        };
        out.push(Line::from(vec![
            Span::raw(format!(
                "{}{}{:>7} B  ",
                cell(&safe(&secret.name), 24),
                cell(&safe(&secret.secret_type), 6),
                secret.plaintext_len
            )),
            protection,
        ]));
    }
    out
}
