//! Text rendering of a [`Review`]: identity, placement, service account, IPs, boot image,
//! fingerprint, shielded options, metadata keys (instance and project), the cloud-config review,
//! the audit-log timeline (denied entries marked), every check with ✔ / ✘ / – and its reason, and
//! what an approval plan will sign.
//! Secret values are never part of it. Text from Google or the store that fills one line (names,
//! metadata keys, audit entries, reasons) goes through `printable_line`, so it cannot start a line
//! of its own or move the cursor; `emit` escapes what is left of any control character in the whole
//! output.

use std::fmt::Write as _;

use tokendist_core::approval::Approval;
use tokendist_core::terminal_text::printable_line;
use tokendist_core::verdict::{CheckResult, Outcome};

use crate::operations::ApprovalPlan;
use crate::review::{Against, Review};

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

/// One check as a line: mark, name, reason.
pub fn check_line(check: &CheckResult) -> String {
    match &check.outcome {
        Outcome::Pass => format!("  ✔ {}", check.name),
        Outcome::Fail(reason) => format!("  ✘ {:<27} {}", check.name, printable_line(reason)),
        Outcome::Skipped(why) => format!("  – {:<27} {}", check.name, printable_line(why)),
    }
}

/// The evidence part (everything but the checks).
pub fn evidence(review: &Review) -> String {
    let mut out = String::new();
    let target = &review.target;
    match review.instance() {
        Ok(i) => {
            let _ = writeln!(
                out,
                "{} (id {})",
                printable_line(&i.name),
                printable_line(&i.instance_id)
            );
            let _ = writeln!(out, "  project / zone     {} / {}", i.project, i.zone);
            let _ = writeln!(
                out,
                "  status             {}, {}, created {}",
                i.status,
                i.machine_type,
                i.creation_timestamp.to_rfc3339()
            );
            let _ = writeln!(
                out,
                "  service account    {}",
                i.service_accounts.join(", ")
            );
            let _ = writeln!(
                out,
                "  IPs                internal {}; external {}",
                list_or_none(&i.internal_ips),
                list_or_none(&i.nat_ips)
            );
            let image = match review.boot_disk() {
                Ok(disk) => disk
                    .source_image
                    .clone()
                    .unwrap_or_else(|| format!("none (disk {} has no source image)", disk.name)),
                Err(e) => format!("unknown ({e})"),
            };
            let _ = writeln!(out, "  boot image         {image}");
            let _ = writeln!(out, "  fingerprint        {}", i.fingerprint);
            let _ = writeln!(
                out,
                "  shielded           secure boot {}, vTPM {}, integrity monitoring {}; confidential {}",
                on_off(i.shielded.secure_boot),
                on_off(i.shielded.vtpm),
                on_off(i.shielded.integrity_monitoring),
                on_off(i.confidential_compute)
            );
            let ek = match &review.shielded_identity {
                Ok(s) if s.ek_pub_pem.is_some() => "EK public key published by Google".to_owned(),
                Ok(_) => "no EK public key published".to_owned(),
                Err(e) => format!("unknown ({e})"),
            };
            let _ = writeln!(out, "  shielded identity  {ek}");
            let keys: Vec<String> = i
                .metadata
                .keys()
                .map(|key| printable_line(key).into_owned())
                .collect();
            let _ = writeln!(out, "  metadata keys      {}", keys.join(", "));
            let _ = writeln!(out, "  project metadata   {}", project_keys(review));
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "{} in {}/{}: the instance could not be read: {e}",
                target.name, target.project, target.zone
            );
        }
    }
    out.push_str("\nCloud-config review\n");
    for check in &review.cloud_config_review {
        out.push_str(&check_line(check));
        out.push('\n');
    }
    match &review.timeline {
        Ok(events) => {
            let denied = events.iter().filter(|e| e.is_denied()).count();
            let unknown = events.iter().filter(|e| e.is_unknown()).count();
            let _ = writeln!(
                out,
                "\nAudit log since creation ({} events, {denied} denied, {unknown} unknown)",
                events.len()
            );
            for event in events {
                let _ = writeln!(out, "  {}", printable_line(&event.line()));
            }
        }
        Err(e) => {
            let _ = writeln!(out, "\nAudit log: could not be read: {e}");
        }
    }
    out
}

/// The keys of the project's common instance metadata (every VM of the project reads them).
fn project_keys(review: &Review) -> String {
    match review.project() {
        Ok(project) if project.metadata.is_empty() => "none".to_owned(),
        // Bob chooses the keys: control characters never reach the terminal.
        Ok(project) => project
            .metadata
            .keys()
            .map(|key| printable_line(key).into_owned())
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("unknown ({e})"),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The secrets an approval holds: names, types, sizes, protection (never the data).
pub fn approval_summary(approval: &Approval) -> String {
    let mut out = String::new();
    let state = match (&approval.revoked_at, &approval.expires_at) {
        (Some(at), _) => format!(
            "revoked at {} ({})",
            at.to_rfc3339(),
            approval.revoke_reason.as_deref().unwrap_or("")
        ),
        (None, Some(at)) => format!("expires {}", at.to_rfc3339()),
        (None, None) => "no expiry".to_owned(),
    };
    let _ = writeln!(
        out,
        "\nApproval revision {} by {} at {}; {state}; TPM {}",
        approval.revision,
        approval.approver,
        approval.approved_at.to_rfc3339(),
        if approval.require_tpm {
            "required"
        } else {
            "not required"
        }
    );
    for s in &approval.secrets {
        let _ = writeln!(
            out,
            "  secret {} ({}, {} bytes, {})",
            s.name, s.secret_type, s.plaintext_len, s.protection
        );
    }
    out
}

/// What an approval plan will sign: the pins, the secrets (never their data), the expiry and the
/// revision it replaces.
pub fn plan(plan: &ApprovalPlan) -> String {
    let a = &plan.approval;
    let line = |text: &str| printable_line(text).into_owned();
    let mut out = String::from("\nWhat will be signed\n");
    let _ = writeln!(
        out,
        "  instance          {} (id {}) in {}/{}",
        line(&a.instance_name),
        line(&a.instance_id),
        line(&a.project),
        line(&a.zone)
    );
    let _ = writeln!(out, "  service account   {}", line(&a.service_account));
    let _ = writeln!(out, "  user-data sha256  {}", line(&a.user_data_sha256));
    let _ = writeln!(out, "  fingerprint       {}", line(&a.fingerprint));
    let keys: Vec<String> = a.allowed_metadata_keys.iter().map(|k| line(k)).collect();
    let _ = writeln!(out, "  metadata keys     {}", keys.join(", "));
    let pcrs = a.pcr_policy.as_ref().map_or_else(
        || "-".to_owned(),
        |p| {
            p.pcrs
                .keys()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        },
    );
    let _ = writeln!(
        out,
        "  TPM               {}; PCRs {pcrs}",
        if a.require_tpm {
            "required"
        } else {
            "not required"
        }
    );
    let pin = |value: &Option<String>| value.as_deref().map_or_else(|| "-".to_owned(), line);
    let _ = writeln!(
        out,
        "  pins              peer {}, client certificate {}",
        pin(&a.peer_address),
        pin(&a.client_cert_serial)
    );
    let _ = writeln!(
        out,
        "  expires           {}",
        a.expires_at
            .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339())
    );
    let _ = writeln!(
        out,
        "  revision          {}",
        plan.expected_revision.map_or_else(
            || "1 (first approval)".to_owned(),
            |r| format!("{} (replaces {r})", r.saturating_add(1))
        )
    );
    for s in &plan.secrets {
        let _ = writeln!(
            out,
            "  secret            {} ({}, {} bytes, {})",
            line(&s.name),
            s.secret_type,
            s.plaintext_len,
            s.protection
        );
    }
    out
}

/// The checks, with a heading saying what they were evaluated against, and a failure summary.
pub fn checks(checks: &[CheckResult], against: Against) -> String {
    let mut out = String::new();
    let heading = match against {
        Against::Approval => "Checks (against the stored approval)",
        Against::Proposal => "Checks (against the approval that would be proposed)",
    };
    let _ = writeln!(out, "\n{heading}");
    for check in checks {
        out.push_str(&check_line(check));
        out.push('\n');
    }
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.is_fail())
        .map(|c| c.name.as_str())
        .collect();
    if failed.is_empty() {
        out.push_str("\nNo check failed.\n");
    } else {
        let _ = writeln!(
            out,
            "\n{} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    out
}
