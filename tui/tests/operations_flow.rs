//! The operations both front ends call, driven directly on a real SQLite store and gcpsim: plan an
//! approval (nothing written), commit it (a signed approval, its approved text kept, the pending
//! record gone, a typed event in History), refuse what must be refused, then plan and commit a
//! revocation — the same calls the full-screen console makes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::Utc;
use support::{Console, GOOD_VM, GOOD_VM_ID, TAMPERED_VM, TAMPERED_VM_ID};
use tokendist_core::approval::verify;
use tokendist_store::{EventDetail, EventKind, EventQuery};
use tokendist_tui::ConsoleError;
use tokendist_tui::operations::model::{DiffTag, HistoryKind, VmGroup};
use tokendist_tui::operations::{
    SealingSummary, VmRef, commit_approval, commit_revocation, history, list, load_detail,
    plan_approval, plan_revocation,
};
use tokendist_tui::signing_keys::load_approver_key;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_writes_nothing_and_commit_stores_a_signed_approval_with_its_text_and_event() {
    let console = Console::start().await;
    let ctx = console.context().await;
    ctx.store
        .upsert_pending(&support::pending_attempt(GOOD_VM_ID, GOOD_VM))
        .await
        .unwrap();

    let plan = plan_approval(&ctx, &console.approval_request(GOOD_VM))
        .await
        .unwrap();
    assert!(plan.failed.is_empty(), "{:?}", plan.failed);
    assert!(plan.blocked.is_none(), "{:?}", plan.blocked);
    assert!(!plan.needs_reason());
    assert_eq!(plan.sealing, Some(SealingSummary::Server));
    assert_eq!(plan.expected_revision, None);
    assert_eq!(plan.instance_id(), GOOD_VM_ID);
    let names: Vec<&str> = plan.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["db-password", "keyset"]);
    assert_eq!(ctx.store.get_approval(GOOD_VM_ID).await.unwrap(), None);
    assert!(
        format!("{plan:?}")
            .find(support::SECRET_VALUES[0])
            .is_none()
    );

    let outcome = commit_approval(&ctx, plan).await.unwrap();
    assert_eq!(outcome.revision, 1);
    assert_eq!(outcome.secrets, 2);
    assert!(outcome.pending_removed);
    assert!(
        outcome.line().starts_with("Approved tokenclient-good"),
        "{}",
        outcome.line()
    );

    let stored = ctx.store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&stored, &[console.alice_public()]).unwrap();
    assert!(
        stored
            .verified_user_data()
            .unwrap()
            .starts_with("#cloud-config")
    );
    assert_eq!(ctx.store.get_pending(GOOD_VM_ID).await.unwrap(), None);
    let events = ctx
        .store
        .list_events(&EventQuery::latest(10).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    let EventDetail::Approved(detail) = &events[0].detail else {
        panic!("{:?}", events[0].detail)
    };
    assert_eq!(detail.revision, 1);
    assert_eq!(detail.secrets.len(), 2);
    assert!(detail.pending_removed);

    let rows = list(&*ctx.store, Utc::now()).await.unwrap().rows;
    assert_eq!(rows[0].group, VmGroup::Approved);

    // The detail diffs against the approved text once it verifies against the signed hash ...
    let vm = VmRef::by_id(GOOD_VM_ID);
    let detail = load_detail(&ctx, &vm).await.unwrap();
    assert_eq!(detail.fingerprint_changed, Some(false));
    assert!(detail.cloud_config.live.is_some());
    assert_eq!(detail.cloud_config.approved_text_problem, None);
    // The Cloud-config tab compares the live text with the approved one: the same text, no change.
    let approved = detail.cloud_config.against_approved.as_ref().unwrap();
    assert!(!approved.lines.is_empty());
    assert!(
        approved.lines.iter().all(|l| l.tag == DiffTag::Same),
        "{approved:?}"
    );
    assert!(matches!(
        detail.history.first().map(|h| &h.what),
        Some(HistoryKind::Approved { revision: 1, .. })
    ));
    // ... and names the problem when the stored text was changed after signing.
    let mut edited = stored.clone();
    edited.approved_user_data = Some("#cloud-config\nruncmd: [sshd]\n".into());
    ctx.store.put_approval(edited, Some(1)).await.unwrap();
    let detail = load_detail(&ctx, &vm).await.unwrap();
    let problem = detail.cloud_config.approved_text_problem.unwrap();
    assert!(problem.contains("does not match the signed"), "{problem}");
    assert_eq!(detail.cloud_config.against_approved, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_with_never_approvable_metadata_is_blocked_even_with_a_reason() {
    let console = Console::start().await;
    let ctx = console.context().await;
    let mut request = console.approval_request(TAMPERED_VM);
    request.forced_reason = Some("I trust Bob".into());
    let plan = plan_approval(&ctx, &request).await.unwrap();
    assert!(plan.blocked.is_some());
    assert!(!plan.failed.is_empty());
    let refused = commit_approval(&ctx, plan).await.unwrap_err();
    assert!(matches!(refused, ConsoleError::Refused(_)), "{refused}");
    assert_eq!(ctx.store.get_approval(TAMPERED_VM_ID).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_need_a_reason_which_is_signed_into_the_approval() {
    let console = Console::start().await;
    // Without a template, cloudconfig.template fails for the good VM too.
    std::fs::write(
        console.path("settings.toml"),
        format!(
            "trusted_container_digests = [\"{}\"]\n",
            support::GOOD_DIGEST
        ),
    )
    .unwrap();
    let ctx = console.context().await;
    let plan = plan_approval(&ctx, &console.approval_request(GOOD_VM))
        .await
        .unwrap();
    assert_eq!(plan.failed, ["cloudconfig.template"]);
    assert!(plan.needs_reason());
    let refused = commit_approval(&ctx, plan).await.unwrap_err();
    assert!(
        matches!(&refused, ConsoleError::ChecksFailed { failed } if failed == &["cloudconfig.template"]),
        "{refused}"
    );
    assert_eq!(ctx.store.get_approval(GOOD_VM_ID).await.unwrap(), None);

    let mut plan = plan_approval(&ctx, &console.approval_request(GOOD_VM))
        .await
        .unwrap();
    plan.forced_reason = Some("  the template is not written yet ".into());
    let outcome = commit_approval(&ctx, plan).await.unwrap();
    assert_eq!(
        outcome.forced_reason.as_deref(),
        Some("the template is not written yet")
    );
    let stored = ctx.store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert_eq!(
        stored.forced_reason.as_deref(),
        Some("the template is not written yet")
    );
    verify(&stored, &[console.alice_public()]).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_plans_by_name_commits_re_signed_and_cannot_repeat() {
    let console = Console::start().await;
    let ctx = console.context().await;
    let plan = plan_approval(&ctx, &console.approval_request(GOOD_VM))
        .await
        .unwrap();
    commit_approval(&ctx, plan).await.unwrap();
    let alice = load_approver_key(&console.path("alice.key")).unwrap();

    let missing = plan_revocation(&*ctx.store, "no-such-vm")
        .await
        .unwrap_err();
    assert!(matches!(missing, ConsoleError::NoApproval(_)), "{missing}");

    let plan = plan_revocation(&*ctx.store, GOOD_VM).await.unwrap();
    assert_eq!(plan.instance_name(), GOOD_VM);
    assert_eq!(plan.expected_revision, 1);
    let empty = commit_revocation(&*ctx.store, plan.clone(), "  ", &alice)
        .await
        .unwrap_err();
    assert!(matches!(empty, ConsoleError::EmptyReason), "{empty}");
    let outcome = commit_revocation(&*ctx.store, plan, "decommissioned", &alice)
        .await
        .unwrap();
    assert_eq!(outcome.revision, 2);

    let stored = ctx.store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&stored, &[console.alice_public()]).unwrap();
    assert_eq!(stored.revoke_reason.as_deref(), Some("decommissioned"));
    let again = plan_revocation(&*ctx.store, GOOD_VM_ID).await.unwrap_err();
    assert!(
        matches!(again, ConsoleError::AlreadyRevoked { .. }),
        "{again}"
    );

    let entries = history(&*ctx.store, GOOD_VM_ID).await.unwrap();
    let kinds: Vec<&HistoryKind> = entries.iter().map(|e| &e.what).collect();
    assert!(
        matches!(
            kinds[..],
            [
                HistoryKind::Revoked { revision: 2, .. },
                HistoryKind::Approved { revision: 1, .. }
            ]
        ),
        "{kinds:?}"
    );
    let events = ctx
        .store
        .list_events(&EventQuery::latest(10).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    assert_eq!(events[0].kind, EventKind::Revoked);
    let rows = list(&*ctx.store, Utc::now()).await.unwrap().rows;
    assert_eq!(rows[0].group, VmGroup::Revoked);
}
