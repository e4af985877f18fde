//! The TPM tab: where the EK comes from and its fingerprint (against the approved EK and the last
//! quote's), the AK, the last verified quote, and each PCR of the policy against the quoted value,
//! mismatches highlighted.

use ratatui::text::{Line, Span};

use super::super::theme::Theme;
use super::text::{field, field_spans, fit, heading, safe, time};
use crate::operations::model::VmDetail;
use crate::tpm_view::PcrOutcome;

pub fn lines(detail: &VmDetail, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let tpm = &detail.tpm;
    let ek = &tpm.ek;
    let mut out = vec![
        field("EK source", ek.source, theme),
        match (&ek.fingerprint, &ek.problem) {
            (Some(f), _) => field("EK sha256", safe(f), theme),
            (None, Some(problem)) => field_spans(
                "EK sha256",
                vec![Span::styled(format!("✘ {}", safe(problem)), theme.danger())],
                theme,
            ),
            (None, None) => field("EK sha256", "–", theme),
        },
        field(
            "EK cert",
            if ek.certificate {
                "published by Google"
            } else {
                "none published"
            },
            theme,
        ),
        field_spans(
            "approved EK",
            vec![ek_match(ek.matches_approval, theme)],
            theme,
        ),
        field_spans(
            "quoting TPM",
            vec![ek_match(ek.matches_last_quote, theme)],
            theme,
        ),
    ];
    let ak = match (&tpm.ak.attested_name, &tpm.ak.attested_template_problem) {
        (Some(name), None) => Span::raw(format!("{} ✔ restricted signing key", safe(name))),
        (Some(name), Some(problem)) => Span::styled(
            format!("{} ✘ {}", safe(name), safe(problem)),
            theme.danger(),
        ),
        (None, Some(problem)) => Span::styled(format!("✘ {}", safe(problem)), theme.danger()),
        (None, None) => Span::styled("not attested yet", theme.muted()),
    };
    out.push(field_spans("AK", vec![ak], theme));
    match &tpm.last_quote {
        Some(q) => {
            let verified = if q.verified {
                Span::styled("✔ verified", theme.ok())
            } else {
                Span::styled("✘ NOT verified", theme.danger())
            };
            out.push(field_spans(
                "last quote",
                vec![
                    Span::raw(format!(
                        "{} bank 0x{:04x} ",
                        time(q.quoted_at),
                        q.pcr_hash_alg
                    )),
                    verified,
                ],
                theme,
            ));
            let record = match (q.record_signature, &q.record_problem) {
                ("verified", _) => Span::styled("✔ signed by the token server", theme.ok()),
                (_, Some(problem)) => {
                    Span::styled(format!("✘ refused: {}", safe(problem)), theme.danger())
                }
                _ => Span::styled("– not checked (no --server-receipt-key)", theme.muted()),
            };
            out.push(field("nonce", safe(&q.nonce), theme));
            let counter = |c: Option<u32>| c.map_or_else(|| "–".to_owned(), |c| c.to_string());
            out.push(field(
                "counters",
                format!(
                    "reset {}, restart {}",
                    counter(q.reset_count),
                    counter(q.restart_count)
                ),
                theme,
            ));
            out.push(field_spans("quote record", vec![record], theme));
        }
        None => out.push(field_spans(
            "last quote",
            vec![Span::styled(
                "none: the VM has not attested to the token server yet",
                theme.muted(),
            )],
            theme,
        )),
    }
    if tpm.pcrs.is_empty() {
        return out;
    }
    out.push(Line::default());
    out.push(heading(
        if tpm.has_policy {
            "PCR  policy against last quote"
        } else {
            "PCR  last quote (no policy yet: approve seals to these)"
        },
        theme,
    ));
    let digest = width.saturating_sub(12) / 2;
    for row in &tpm.pcrs {
        let none = "–".to_owned();
        let policy = fit(&safe(row.policy.as_ref().unwrap_or(&none)), digest.max(8));
        let quoted = fit(&safe(row.quoted.as_ref().unwrap_or(&none)), digest.max(8));
        let (marker, style, text) = match row.outcome {
            PcrOutcome::Match => ("✔", theme.ok(), quoted),
            PcrOutcome::Mismatch => ("✘", theme.danger(), format!("{policy} ≠ {quoted}")),
            PcrOutcome::NotQuoted => ("✘", theme.danger(), format!("{policy} not quoted")),
            PcrOutcome::NotInPolicy => ("–", theme.muted(), quoted),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{marker} {:>2}  ", row.index), style),
            Span::styled(text, style),
        ]));
    }
    out
}

fn ek_match(matches: Option<bool>, theme: Theme) -> Span<'static> {
    match matches {
        Some(true) => Span::styled("✔ same EK as the live VM", theme.ok()),
        Some(false) => Span::styled("✘ a different EK", theme.danger()),
        None => Span::styled("– nothing to compare", theme.muted()),
    }
}
