//! Test data for the console's update and view tests: list rows, a list of many VMs, and the detail
//! of a good and of a tampered VM, built from plain values (no store, no Google, a fixed clock).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone as _, Utc};
use tokendist_core::approval::{Approval, PcrPolicy, StoredSecret};
use tokendist_core::auditlog::{AuditEntry, Classification, TimelineEvent};
use tokendist_core::evidence::{
    DataAccessEvidence, DiskEvidence, Evidence, InstanceEvidence, PeerEvidence, ProjectEvidence,
    ShieldedConfig, ShieldedIdentity,
};
use tokendist_core::identity::IdentityError;
use tokendist_core::verdict::CheckResult;

use super::model::PlanSummary;
use crate::operations::model::{
    CloudConfigView, DiffLine, DiffTag, FlaggedLine, HistoryEntry, HistoryKind, HoleValue,
    TextDiff, VerdictSummary, VmDetail, VmGroup, VmList, VmRow, VmState,
};
use crate::review::{Against, Review};
use crate::target::Target;
use crate::tpm_view::{AkView, EkView, PcrOutcome, PcrRow, QuoteView, TpmView};

/// The fixed clock of every console test.
pub fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, minute, 0)
        .single()
        .unwrap_or_default()
}

/// A row; `failed` non-empty means the server's last verdict failed those of 16 checks.
pub fn row(id: &str, name: &str, state: VmState, failed: &[&str]) -> VmRow {
    let group = match state {
        VmState::Pending => VmGroup::Pending,
        VmState::Approved if !failed.is_empty() => VmGroup::DeniedAfterApproval,
        VmState::Approved => VmGroup::Approved,
        VmState::Expired | VmState::Revoked => VmGroup::Revoked,
    };
    VmRow {
        group,
        verdict: (!failed.is_empty()).then(|| VerdictSummary {
            evaluated: 16,
            failed: failed.iter().map(|s| (*s).to_owned()).collect(),
        }),
        instance_id: id.to_owned(),
        name: name.to_owned(),
        project: "bob-project".to_owned(),
        zone: "us-central1-a".to_owned(),
        state,
        approved_at: (state != VmState::Pending).then(|| at(1)),
        expires_at: None,
        revoked_at: (state == VmState::Revoked).then(|| at(2)),
        revoke_reason: None,
        revision: (state != VmState::Pending).then_some(1),
        first_seen: Some(at(0)),
        last_seen: Some(at(3)),
        attempts: u64::try_from(failed.len()).unwrap_or(0) * 2,
        failed_checks: failed.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The demo's VMs: the tampered one pending with red checks, the good one pending, one approved,
/// one revoked.
pub fn demo_list() -> VmList {
    VmList {
        rows: vec![
            row(
                "1001",
                "tokenclient-tampered",
                VmState::Pending,
                &["instance.user_data", "cloudconfig.ssh_disabled"],
            ),
            row("1002", "tokenclient-good", VmState::Pending, &[]),
            row("1003", "web-1", VmState::Approved, &[]),
            row("1004", "old-batch", VmState::Revoked, &[]),
        ],
        loaded_at: Some(at(4)),
    }
}

/// `n` pending VMs named `vm-00000`… (the 10,000-VM list).
pub fn many(n: usize) -> VmList {
    VmList {
        rows: (0..n)
            .map(|i| {
                row(
                    &format!("{}", 100_000 + i),
                    &format!("vm-{i:05}"),
                    VmState::Pending,
                    &[],
                )
            })
            .collect(),
        loaded_at: Some(at(4)),
    }
}

fn audit_entry(minute: u32, method: &str) -> AuditEntry {
    AuditEntry {
        insert_id: format!("e{minute}"),
        timestamp: at(minute),
        log_name: "projects/bob-project/logs/cloudaudit.googleapis.com%2Factivity".into(),
        resource_type: "gce_instance".into(),
        instance_id: Some("1001".into()),
        disk_id: None,
        source_disk: None,
        source_instance: None,
        method_name: method.into(),
        service_name: "compute.googleapis.com".into(),
        resource_name: "projects/bob-project/zones/us-central1-a/instances/vm".into(),
        principal_email: Some("bob@example.com".into()),
        severity: "NOTICE".into(),
        operation_first: true,
        operation_last: true,
        request_summary: String::new(),
    }
}

fn event(
    minute: u32,
    method: &str,
    summary: &str,
    classification: Classification,
) -> TimelineEvent {
    TimelineEvent {
        timestamp: at(minute),
        method: method.into(),
        principal: Some("bob@example.com".into()),
        severity: "NOTICE".into(),
        log_kind: "activity".into(),
        request_summary: summary.into(),
        classification,
    }
}

fn instance(name: &str, id: &str) -> InstanceEvidence {
    InstanceEvidence {
        instance_id: id.into(),
        name: name.into(),
        project: "bob-project".into(),
        zone: "us-central1-a".into(),
        status: "RUNNING".into(),
        creation_timestamp: at(0),
        fingerprint: "qJ2ahXZ6eM8=".into(),
        metadata_fingerprint: "m1".into(),
        metadata: BTreeMap::from([("user-data".to_owned(), "#cloud-config\n".to_owned())]),
        service_accounts: vec!["app@bob-project.iam.gserviceaccount.com".into()],
        internal_ips: vec!["10.128.0.7".into()],
        nat_ips: vec!["34.72.1.9".into()],
        boot_disk_source: Some("projects/bob-project/zones/us-central1-a/disks/vm".into()),
        machine_type: "e2-small".into(),
        cpu_platform: None,
        shielded: ShieldedConfig {
            secure_boot: true,
            vtpm: true,
            integrity_monitoring: true,
        },
        confidential_compute: false,
    }
}

fn checks(tampered: bool) -> Vec<CheckResult> {
    let mut checks = vec![
        CheckResult::skipped(
            "identity.signature",
            "decided by the server on each request, with the VM's identity token",
        ),
        CheckResult::pass("approval.signature"),
        CheckResult::pass("instance.metadata"),
        CheckResult::pass("instance.fingerprint"),
        CheckResult::pass("instance.boot_image"),
        CheckResult::pass("auditlog.clean"),
    ];
    if tampered {
        checks.push(CheckResult::fail(
            "instance.user_data",
            "the live user-data hashes to 9f2c… but the approval pins 4b1a…",
        ));
        checks.push(CheckResult::fail(
            "cloudconfig.ssh_disabled",
            "line 7 opens port 22 (iptables -A INPUT -p tcp --dport 22 -j ACCEPT)",
        ));
    } else {
        checks.push(CheckResult::pass("instance.user_data"));
        checks.push(CheckResult::pass("cloudconfig.ssh_disabled"));
    }
    checks
}

fn diff(tampered: bool) -> TextDiff {
    let same = |n: usize, text: &str| DiffLine {
        tag: DiffTag::Same,
        old_line: Some(n),
        new_line: Some(n),
        text: text.into(),
    };
    let mut lines = vec![
        same(1, "#cloud-config"),
        same(2, "write_files:"),
        same(3, "- path: /etc/systemd/system/app.service"),
        same(4, "runcmd:"),
        same(5, "- systemctl mask serial-getty@ttyS0.service"),
        same(6, "- iptables -D INPUT -p tcp --dport 22 -j ACCEPT"),
    ];
    if tampered {
        lines.push(DiffLine {
            tag: DiffTag::Added,
            old_line: None,
            new_line: Some(7),
            text: "- iptables -A INPUT -p tcp --dport 22 -j ACCEPT".into(),
        });
        lines.push(DiffLine {
            tag: DiffTag::Removed,
            old_line: Some(7),
            new_line: None,
            text: "- systemctl start app".into(),
        });
    }
    TextDiff {
        against: "the trusted template (holes filled)".into(),
        lines,
    }
}

fn tpm(tampered: bool) -> TpmView {
    let digest = |c: char| c.to_string().repeat(64);
    TpmView {
        ek: EkView {
            source: crate::tpm_view::EK_SOURCE,
            fingerprint: Some("5c1e…d04a".into()),
            certificate: false,
            problem: None,
            approved_fingerprint: None,
            matches_approval: None,
            matches_last_quote: Some(true),
        },
        ak: AkView {
            published_by_google: false,
            attested_name: Some("000b8f3e…".into()),
            attested_template_problem: None,
        },
        last_quote: Some(QuoteView {
            quoted_at: at(3),
            verified: true,
            pcr_hash_alg: 0x000B,
            nonce: "5eed".repeat(8),
            reset_count: Some(3),
            restart_count: Some(0),
            record_signature: "verified",
            record_problem: None,
        }),
        has_policy: true,
        pcrs: vec![
            PcrRow {
                index: 0,
                policy: Some(digest('a')),
                quoted: Some(digest('a')),
                outcome: PcrOutcome::Match,
            },
            PcrRow {
                index: 7,
                policy: Some(digest('b')),
                quoted: Some(digest(if tampered { 'c' } else { 'b' })),
                outcome: if tampered {
                    PcrOutcome::Mismatch
                } else {
                    PcrOutcome::Match
                },
            },
        ],
    }
}

/// The detail of a VM: `tampered` fails checks, has a flagged cloud-config line, a denied audit
/// entry and a PCR mismatch; otherwise it is approved with two secrets.
pub fn detail(name: &str, id: &str, tampered: bool) -> VmDetail {
    let vm = instance(name, id);
    let approval = (!tampered).then(|| Approval {
        revision: 2,
        secrets: vec![
            StoredSecret {
                name: "db-password".into(),
                secret_type: "RAW".into(),
                protection: "tpm-envelope".into(),
                data: "c2VhbGVk".into(),
                plaintext_len: 24,
            },
            StoredSecret {
                name: "api-token".into(),
                secret_type: "RAW".into(),
                protection: crate::operations::approval::PROTECTION_SERVER_HPKE.into(),
                data: "c2VhbGVk".into(),
                plaintext_len: 40,
            },
        ],
        pcr_policy: Some(PcrPolicy {
            hash_alg: 0x000B,
            pcrs: BTreeMap::new(),
        }),
        ..Approval::unpinned(
            id,
            name,
            "bob-project",
            "us-central1-a",
            "alice-key-1",
            at(1),
        )
    });
    let mut timeline = vec![
        event(0, "compute.instances.insert", "", Classification::Allowed),
        event(1, "compute.instances.start", "", Classification::Allowed),
    ];
    if tampered {
        timeline.push(event(
            2,
            "compute.instances.setMetadata",
            "metadata keys modified: user-data",
            Classification::Denied {
                reason: "setMetadata changes what the VM runs after its review".into(),
            },
        ));
    }
    let review = Review {
        target: Target {
            project: "bob-project".into(),
            zone: "us-central1-a".into(),
            name: name.into(),
            known_id: Some(id.into()),
        },
        evidence: Evidence {
            identity: Err(IdentityError::Malformed("console".into())),
            instance: Ok(vm),
            boot_disk: Ok(DiskEvidence {
                name: name.into(),
                source_image: Some("projects/cos-cloud/global/images/cos-stable-117".into()),
                source_image_id: None,
                licenses: Vec::new(),
                disk_id: Some("77".into()),
                creation_timestamp: Some(at(0)),
                users: Vec::new(),
                last_attach_timestamp: None,
                last_detach_timestamp: None,
            }),
            project: Ok(ProjectEvidence {
                project: "bob-project".into(),
                project_number: None,
                metadata_fingerprint: "p1".into(),
                metadata: BTreeMap::new(),
            }),
            audit_log: Ok(vec![
                audit_entry(0, "v1.compute.instances.insert"),
                audit_entry(1, "v1.compute.instances.start"),
                audit_entry(2, "v1.compute.instances.setMetadata"),
            ]),
            data_access: Ok(DataAccessEvidence::default()),
            peer: PeerEvidence::default(),
            tpm: None,
            gathered_at: at(4),
        },
        shielded_identity: Ok(ShieldedIdentity {
            ek_pub_pem: None,
            ek_cert_pem: None,
            ak_pub_pem: None,
            ak_cert_pem: None,
        }),
        cloud_config_review: Vec::new(),
        timeline: Ok(timeline),
    };
    let history = if tampered {
        vec![HistoryEntry {
            time: at(3),
            actor: "tokenserver".into(),
            what: HistoryKind::Denied {
                failed_checks: vec![
                    "instance.user_data".into(),
                    "cloudconfig.ssh_disabled".into(),
                ],
            },
        }]
    } else {
        vec![
            HistoryEntry {
                time: at(3),
                actor: "tokenserver".into(),
                what: HistoryKind::Released {
                    receipt_id: Some("rcpt-7f3a".into()),
                    secrets: 2,
                },
            },
            HistoryEntry {
                time: at(1),
                actor: "alice-key-1".into(),
                what: HistoryKind::Approved {
                    revision: 2,
                    forced_reason: None,
                    secrets: 2,
                },
            },
        ]
    };
    VmDetail {
        review,
        against: if tampered {
            Against::Proposal
        } else {
            Against::Approval
        },
        approval,
        checks: checks(tampered),
        fingerprint_changed: (!tampered).then_some(false),
        tpm: tpm(tampered),
        cloud_config: CloudConfigView {
            live: Some("#cloud-config\n".into()),
            against_template: Some(diff(tampered)),
            holes: vec![HoleValue {
                name: "image".into(),
                pattern: "^gcr\\.io/[a-z-]+/app@sha256:[0-9a-f]{64}$".into(),
                value: Some(if tampered {
                    "gcr.io/bob/app:latest".into()
                } else {
                    "gcr.io/bob/app@sha256:0f3c…".into()
                }),
                problem: tampered
                    .then(|| "does not match the pattern (not pinned by digest)".into()),
            }],
            against_approved: None,
            approved_text_problem: None,
            flagged: if tampered {
                vec![FlaggedLine {
                    line: 7,
                    check: "cloudconfig.ssh_disabled".into(),
                    why: "opens SSH".into(),
                }]
            } else {
                Vec::new()
            },
        },
        history,
    }
}

/// The plan the approve dialog shows for the tampered VM (failing checks) or a good one.
pub fn plan(tampered: bool) -> PlanSummary {
    PlanSummary {
        instance_id: "1002".into(),
        name: "tokenclient-good".into(),
        project: "bob-project".into(),
        zone: "us-central1-a".into(),
        user_data_sha256: "S2Vr5cN3xX2k6b1qH0m+Q1w8jv0bq2M6YwJ0q9m4mYk=".into(),
        fingerprint: "qJ2ahXZ6eM8=".into(),
        boot_images: vec!["projects/cos-cloud/global/images/cos-stable-117".into()],
        pcrs: vec![(0, "a".repeat(64)), (7, "b".repeat(64))],
        pcr_problem: None,
        ek_fingerprint: Some("5c1e…d04a".into()),
        failed_checks: if tampered {
            vec![
                "instance.user_data".into(),
                "cloudconfig.ssh_disabled".into(),
            ]
        } else {
            Vec::new()
        },
        approver: Some("alice-key-1".into()),
        secrets: vec![
            ("db-password".into(), "RAW".into(), 24),
            ("keyset".into(), "TINK".into(), 112),
        ],
        blocked: None,
    }
}
