//! The VM list's pure helpers: which group a row belongs to, its verdict summary, whether it passes
//! the `/` filter (name, project, zone, instance id or a failed check's name), and the display lines
//! (a header per non-empty group with its count, then its rows in the order the operations sorted
//! them). Cheap enough to rebuild on every refresh or keystroke with 10,000 VMs.

use crate::operations::model::{VmGroup, VmRow};

/// One line of the list: a group header or a row (index into the rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListLine {
    Header { group: VmGroup, count: usize },
    Row(usize),
}

/// Groups in display order (most in need of attention first).
pub const GROUPS: [VmGroup; 4] = [
    VmGroup::DeniedAfterApproval,
    VmGroup::Pending,
    VmGroup::Approved,
    VmGroup::Revoked,
];

pub fn group_title(group: VmGroup) -> &'static str {
    match group {
        VmGroup::DeniedAfterApproval => "Denied after approval",
        VmGroup::Pending => "Pending",
        VmGroup::Approved => "Approved",
        VmGroup::Revoked => "Revoked",
    }
}

/// The group of a row, as the operations decided it.
pub fn group_of(row: &VmRow) -> VmGroup {
    row.group
}

/// The verdict summary shown in the row: `passed/evaluated` (`14/16`) of the server's last verdict,
/// `–` when none is recorded.
pub fn verdict_text(row: &VmRow) -> String {
    row.verdict
        .as_ref()
        .map_or_else(|| "–".to_owned(), |verdict| verdict.ratio())
}

/// Whether `row` passes `filter` (case-insensitive substring of name, project, zone, instance id or
/// a failed check's name; a leading `!` inverts, as in k9s).
pub fn matches_filter(row: &VmRow, filter: &str) -> bool {
    let (invert, wanted) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter),
    };
    let wanted = wanted.trim().to_lowercase();
    if wanted.is_empty() {
        return true;
    }
    let hit = [&row.name, &row.project, &row.zone, &row.instance_id]
        .into_iter()
        .chain(&row.failed_checks)
        .any(|field| field.to_lowercase().contains(&wanted));
    hit != invert
}

/// The display lines for `rows` under `filter`.
pub fn build_lines(rows: &[VmRow], filter: &str) -> Vec<ListLine> {
    let mut by_group: [Vec<usize>; 4] = Default::default();
    for (i, row) in rows.iter().enumerate() {
        if matches_filter(row, filter) {
            let slot = GROUPS.iter().position(|g| *g == group_of(row)).unwrap_or(0);
            by_group[slot].push(i);
        }
    }
    let mut lines = Vec::with_capacity(rows.len() + GROUPS.len());
    for (group, members) in GROUPS.into_iter().zip(by_group) {
        if members.is_empty() {
            continue;
        }
        lines.push(ListLine::Header {
            group,
            count: members.len(),
        });
        lines.extend(members.into_iter().map(ListLine::Row));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::row;
    use crate::operations::model::VmState;

    #[test]
    fn rows_are_grouped_by_need_of_attention_with_counts() {
        let rows = vec![
            row("1", "a", VmState::Approved, &[]),
            row("2", "b", VmState::Pending, &["instance.user_data"]),
            row("3", "c", VmState::Approved, &["tpm.quote"]),
            row("4", "d", VmState::Expired, &[]),
            row("5", "e", VmState::Pending, &[]),
        ];
        let header = |group, count| ListLine::Header { group, count };
        assert_eq!(
            build_lines(&rows, ""),
            [
                header(VmGroup::DeniedAfterApproval, 1),
                ListLine::Row(2),
                header(VmGroup::Pending, 2),
                ListLine::Row(1),
                ListLine::Row(4),
                header(VmGroup::Approved, 1),
                ListLine::Row(0),
                header(VmGroup::Revoked, 1),
                ListLine::Row(3),
            ]
        );
    }

    #[test]
    fn the_filter_matches_name_project_and_check_names_and_inverts_with_a_bang() {
        let tampered = row("2", "web", VmState::Pending, &["instance.user_data"]);
        assert!(matches_filter(&tampered, "WEB"));
        assert!(matches_filter(&tampered, "bob-proj"));
        assert!(matches_filter(&tampered, "user_data"));
        assert!(!matches_filter(&tampered, "tpm"));
        assert!(matches_filter(&tampered, "!tpm"));
        assert!(!matches_filter(&tampered, "!web"));
        assert!(matches_filter(&tampered, "  "));
    }

    #[test]
    fn the_verdict_summary_is_passed_of_evaluated() {
        assert_eq!(
            verdict_text(&row("1", "a", VmState::Pending, &["x", "y"])),
            "14/16"
        );
        assert_eq!(verdict_text(&row("1", "a", VmState::Approved, &[])), "–");
    }
}
