//! The soak accounting on hand-made timelines: a clean one passes; one with a release after its
//! revocation committed, a release to a never-approved VM, a release answered before its approval
//! was written, a release whose event is missing, an approval whose event is missing, a store
//! release under a revoked revision, an UNAVAILABLE and a denial of an approved VM is caught on
//! each count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn vm(name: &str, id: &str, role: Role) -> Vm {
    Vm {
        name: name.into(),
        instance_id: id.into(),
        role,
    }
}

fn released(vm: usize, sent: f64, answered: f64, event_id: &str) -> Attempt {
    Attempt {
        vm,
        sent,
        answered,
        outcome: Outcome::Released {
            event_id: event_id.into(),
        },
    }
}

fn failed(vm: usize, sent: f64, answered: f64, code: &str) -> Attempt {
    Attempt {
        vm,
        sent,
        answered,
        outcome: Outcome::Failed {
            code: code.into(),
            detail: "GetToken: no".into(),
        },
    }
}

fn release_event(id: &str, instance_id: &str, revision: u64) -> StoredEvent {
    StoredEvent {
        id: id.into(),
        kind: EventKind::Released,
        instance_id: instance_id.into(),
        approval_revision: Some(revision),
    }
}

fn change_event(id: &str, instance_id: &str, kind: EventKind) -> StoredEvent {
    StoredEvent {
        id: id.into(),
        kind,
        instance_id: instance_id.into(),
        approval_revision: None,
    }
}

/// VM 0 approved throughout, VM 1 revoked at 10 s (committed 10.2 s), VM 2 approved at 5 s
/// (committed 5.1 s), VM 3 never approved.
fn clean() -> Timeline {
    Timeline {
        vms: vec![
            vm("a", "100", Role::Approved),
            vm("r", "101", Role::Revoked),
            vm("l", "102", Role::LateApproved),
            vm("u", "103", Role::Unapproved),
        ],
        attempts: vec![
            released(0, 1.0, 1.1, "e1"),
            released(1, 2.0, 2.1, "e2"),
            // In flight while the revocation was written: either answer is right.
            released(1, 10.1, 10.3, "e3"),
            failed(1, 11.0, 11.1, DENIED),
            failed(2, 3.0, 3.1, DENIED),
            // Sent before the approval committed, answered after it began: may be released.
            released(2, 5.05, 5.2, "e4"),
            released(2, 6.0, 6.1, "e5"),
            failed(3, 4.0, 4.1, DENIED),
        ],
        changes: vec![
            Change {
                vm: 1,
                kind: ChangeKind::Revoke,
                started: 10.0,
                committed: 10.2,
                revision: 2,
                event_id: "c1".into(),
            },
            Change {
                vm: 2,
                kind: ChangeKind::Approve,
                started: 5.0,
                committed: 5.1,
                revision: 1,
                event_id: "c2".into(),
            },
        ],
        events: vec![
            release_event("e1", "100", 1),
            release_event("e2", "101", 1),
            release_event("e3", "101", 1),
            release_event("e4", "102", 1),
            release_event("e5", "102", 1),
            change_event("c1", "101", EventKind::Revoked),
            change_event("c2", "102", EventKind::Approved),
        ],
    }
}

#[test]
fn a_clean_timeline_has_no_wrong_release_lost_event_or_error() {
    let out = clean().account();
    assert_eq!(out.wrong_releases, 0, "{out:#?}");
    assert_eq!(out.lost_events, 0, "{out:#?}");
    assert!(out.errors.is_empty(), "{out:#?}");
    assert_eq!(out.requests, 8);
    assert_eq!(out.releases, 5);
    assert_eq!(out.expected_denials, 3);
    assert_eq!(out.raced, 2);
    assert_eq!(
        (
            out.stored_releases,
            out.stored_approvals,
            out.stored_revocations
        ),
        (5, 1, 1)
    );
}

#[test]
fn a_release_after_the_revocation_committed_is_wrong() {
    let mut timeline = clean();
    timeline.attempts.push(released(1, 10.25, 10.4, "e6"));
    timeline.events.push(release_event("e6", "101", 1));
    let out = timeline.account();
    assert_eq!(out.wrong_releases, 1, "{out:#?}");
    assert!(
        out.wrong_release_examples[0].contains("after its revocation committed"),
        "{out:#?}"
    );
}

#[test]
fn a_release_to_a_never_approved_vm_is_wrong_twice_client_and_store() {
    let mut timeline = clean();
    timeline.attempts.push(released(3, 7.0, 7.1, "e7"));
    timeline.events.push(release_event("e7", "103", 1));
    let out = timeline.account();
    assert_eq!(out.wrong_releases, 2, "{out:#?}");
    assert!(
        out.wrong_release_examples
            .iter()
            .all(|w| w.contains("never approved"))
    );
}

#[test]
fn a_release_answered_before_the_approval_was_written_is_wrong() {
    let mut timeline = clean();
    timeline.attempts.push(released(2, 4.0, 4.5, "e8"));
    timeline.events.push(release_event("e8", "102", 1));
    let out = timeline.account();
    assert_eq!(out.wrong_releases, 1, "{out:#?}");
    assert!(out.wrong_release_examples[0].contains("before its approval was written"));
}

#[test]
fn a_stored_release_under_the_revoked_revision_is_wrong() {
    let mut timeline = clean();
    timeline.events.push(release_event("e9", "101", 2));
    let out = timeline.account();
    assert_eq!(out.wrong_releases, 1, "{out:#?}");
    assert!(out.wrong_release_examples[0].contains("revoked revision 2"));
}

#[test]
fn an_acknowledged_release_or_a_change_without_its_event_is_lost() {
    let mut timeline = clean();
    timeline.events.retain(|e| e.id != "e5" && e.id != "c1");
    timeline.attempts.push(released(0, 8.0, 8.1, ""));
    let out = timeline.account();
    assert_eq!(out.lost_events, 3, "{out:#?}");
    assert_eq!(out.wrong_releases, 0, "{out:#?}");
}

#[test]
fn unavailable_unfinished_and_denials_of_approved_vms_are_errors() {
    let mut timeline = clean();
    timeline.attempts.push(failed(0, 9.0, 9.1, "Unavailable"));
    timeline.attempts.push(failed(0, 9.5, 9.6, DENIED));
    // Approved since 5.1 s: a denial of a request sent at 6 s is not expected.
    timeline.attempts.push(failed(2, 6.0, 6.2, DENIED));
    timeline.attempts.push(Attempt {
        vm: 0,
        sent: 9.7,
        answered: 40.0,
        outcome: Outcome::Unfinished,
    });
    let out = timeline.account();
    assert_eq!(out.errors.get("Unavailable"), Some(&1), "{out:#?}");
    assert_eq!(
        out.errors.get("unexpected-PermissionDenied"),
        Some(&2),
        "{out:#?}"
    );
    assert_eq!(out.errors.get("unfinished"), Some(&1), "{out:#?}");
    assert_eq!(out.expected_denials, 3);
}
