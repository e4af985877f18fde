//! The conformance cases: each takes a fresh backend and checks one behaviour of the `Store` contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;
use tokendist_core::evidence::EkSource;
use tokendist_store::{
    EventDetail, EventKind, EventQuery, Record, RecordKind, Revocation, SessionAttestation,
    SessionQuote, SessionStep, SessionUpdate, StepChange, Store, StoreError,
};

use crate::support::backends::Backend;
use crate::support::samples::{approval, attestation, event, pending_attempt, session, t0};

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict { .. }))
}

pub async fn ping_answers(backend: &Backend) {
    backend.store.ping().await.unwrap();
}

pub async fn every_record_type_round_trips(backend: &Backend) {
    let store = &backend.store;

    let stored = store.put_approval(approval("1001"), None).await.unwrap();
    let mut expected = approval("1001");
    expected.revision = 1;
    assert_eq!(stored, expected);
    assert_eq!(
        store.get_approval("1001").await.unwrap(),
        Some(expected.clone())
    );
    store.put_approval(approval("1000"), None).await.unwrap();
    let ids: Vec<_> = store
        .list_approvals()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.instance_id)
        .collect();
    assert_eq!(ids, ["1000", "1001"]);

    let pending = store
        .upsert_pending(&pending_attempt("2001", t0()))
        .await
        .unwrap();
    assert_eq!(
        store.get_pending("2001").await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(store.list_pending().await.unwrap(), vec![pending]);

    store.put_attestation(&attestation("3001")).await.unwrap();
    assert_eq!(
        store.get_attestation("3001").await.unwrap(),
        Some(attestation("3001"))
    );
    let mut replaced = attestation("3001");
    replaced.verified = false;
    store.put_attestation(&replaced).await.unwrap();
    assert_eq!(store.get_attestation("3001").await.unwrap(), Some(replaced));

    let s = session("sess-1", t0());
    store.create_session(&s).await.unwrap();
    assert_eq!(store.get_session("sess-1").await.unwrap(), Some(s));

    let e = event(EventKind::Released, "1001", t0());
    store.append_event(&e).await.unwrap();
    assert_eq!(
        store.list_events(&EventQuery::latest(10)).await.unwrap(),
        vec![e]
    );
}

pub async fn missing_records_read_as_none(backend: &Backend) {
    let store = &backend.store;
    assert_eq!(store.get_approval("404").await.unwrap(), None);
    assert_eq!(store.get_pending("404").await.unwrap(), None);
    assert_eq!(store.get_attestation("404").await.unwrap(), None);
    assert_eq!(store.get_session("404").await.unwrap(), None);
    assert!(store.list_approvals().await.unwrap().is_empty());
    assert!(
        store
            .list_events(&EventQuery::latest(10))
            .await
            .unwrap()
            .is_empty()
    );
    let advance = store
        .advance_session(
            "404",
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Attested,
                update: SessionUpdate::default(),
                now: t0(),
            },
        )
        .await;
    assert!(
        matches!(advance, Err(StoreError::NotFound { ref what }) if what.kind == RecordKind::Session),
        "{advance:?}"
    );
}

pub async fn approval_created_twice_conflicts(backend: &Backend) {
    let store = &backend.store;
    store.put_approval(approval("1001"), None).await.unwrap();
    let mut second = approval("1001");
    second.approver = "mallory".into();
    let result = store.put_approval(second, None).await;
    assert!(is_conflict(&result), "{result:?}");
    assert_eq!(
        store.get_approval("1001").await.unwrap().unwrap().approver,
        "alice@example.com"
    );
}

pub async fn approval_update_with_stale_revision_conflicts(backend: &Backend) {
    let store = &backend.store;
    store.put_approval(approval("1001"), None).await.unwrap();
    let mut update = approval("1001");
    update.instance_name = "renamed".into();
    let updated = store.put_approval(update.clone(), Some(1)).await.unwrap();
    assert_eq!(updated.revision, 2);

    let stale = store.put_approval(update.clone(), Some(1)).await;
    assert!(is_conflict(&stale), "{stale:?}");
    let future = store.put_approval(update, Some(7)).await;
    assert!(is_conflict(&future), "{future:?}");
    let stored = store.get_approval("1001").await.unwrap().unwrap();
    assert_eq!(
        (stored.revision, stored.instance_name.as_str()),
        (2, "renamed")
    );
}

pub async fn approval_update_of_missing_approval_is_not_found(backend: &Backend) {
    let result = backend.store.put_approval(approval("1001"), Some(1)).await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    let revoke = backend
        .store
        .revoke("1001", Revocation::new("gone", t0(), 1))
        .await;
    assert!(
        matches!(revoke, Err(StoreError::NotFound { .. })),
        "{revoke:?}"
    );
}

pub async fn concurrent_approve_and_revoke_exactly_one_wins(backend: &Backend) {
    for round in 0..5 {
        let id = format!("10{round}");
        backend
            .store
            .put_approval(approval(&id), None)
            .await
            .unwrap();
        let (a, b) = (Arc::clone(&backend.store), backend.reopen().await);
        let (id_a, id_b) = (id.clone(), id.clone());
        let approve = tokio::spawn(async move {
            let mut update = approval(&id_a);
            update.instance_name = "re-approved".into();
            a.put_approval(update, Some(1)).await.map(|_| "approve")
        });
        let revoke = tokio::spawn(async move {
            b.revoke(&id_b, Revocation::new("tampered", t0(), 1))
                .await
                .map(|_| "revoke")
        });
        let results = [approve.await.unwrap(), revoke.await.unwrap()];
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(
            results.iter().any(is_conflict),
            "round {round}: {results:?}"
        );

        let stored = backend.store.get_approval(&id).await.unwrap().unwrap();
        assert_eq!(stored.revision, 2);
        match *winners[0] {
            "revoke" => assert_eq!(stored.revoke_reason.as_deref(), Some("tampered")),
            _ => assert_eq!(
                (stored.instance_name.as_str(), stored.revoked_at),
                ("re-approved", None)
            ),
        }
    }
}

pub async fn revoke_records_reason_and_cannot_repeat(backend: &Backend) {
    let store = &backend.store;
    store.put_approval(approval("1001"), None).await.unwrap();
    let at = t0() + Duration::hours(1);
    let revoked = store
        .revoke("1001", Revocation::new("user-data changed", at, 1))
        .await
        .unwrap();
    assert_eq!((revoked.revision, revoked.revoked_at), (2, Some(at)));
    assert_eq!(revoked.revoke_reason.as_deref(), Some("user-data changed"));
    assert_eq!(store.get_approval("1001").await.unwrap(), Some(revoked));
    let again = store.revoke("1001", Revocation::new("again", at, 2)).await;
    assert!(is_conflict(&again), "{again:?}");
}

pub async fn pending_upsert_counts_attempts_and_keeps_first_seen(backend: &Backend) {
    let store = &backend.store;
    store
        .upsert_pending(&pending_attempt("2001", t0()))
        .await
        .unwrap();
    let mut later = pending_attempt("2001", t0() + Duration::minutes(3));
    later.peer_address = Some("198.51.100.1:1".into());
    later.last_quote = None;
    let record = store.upsert_pending(&later).await.unwrap();
    assert_eq!(record.attempts, 2);
    assert_eq!(record.first_seen, t0());
    assert_eq!(record.last_seen, t0() + Duration::minutes(3));
    assert_eq!(record.peer_address.as_deref(), Some("198.51.100.1:1"));
    assert_eq!(
        record.last_quote,
        pending_attempt("2001", t0()).last_quote,
        "earlier quote kept"
    );
    assert_eq!(store.get_pending("2001").await.unwrap(), Some(record));
}

pub async fn concurrent_pending_upserts_count_every_attempt(backend: &Backend) {
    let second = backend.reopen().await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 {
                Arc::clone(&backend.store)
            } else {
                Arc::clone(&second)
            };
            tokio::spawn(async move {
                store
                    .upsert_pending(&pending_attempt("2001", t0() + Duration::seconds(i)))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let record = backend.store.get_pending("2001").await.unwrap().unwrap();
    assert_eq!(record.attempts, 8);
}

pub async fn pending_record_removed_on_approval(backend: &Backend) {
    let store = &backend.store;
    store
        .upsert_pending(&pending_attempt("2001", t0()))
        .await
        .unwrap();
    store
        .upsert_pending(&pending_attempt("2002", t0()))
        .await
        .unwrap();
    assert!(store.remove_pending("2001").await.unwrap());
    assert!(!store.remove_pending("2001").await.unwrap());
    let left: Vec<_> = store
        .list_pending()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.instance_id)
        .collect();
    assert_eq!(left, ["2002"]);
}

pub async fn session_step_can_be_taken_once(backend: &Backend) {
    let store = &backend.store;
    store
        .create_session(&session("sess-1", t0()))
        .await
        .unwrap();
    let update = SessionUpdate {
        credential_digest: Some("ab".repeat(32)),
        ..SessionUpdate::default()
    };
    let now = t0() + Duration::seconds(10);
    let attested = store
        .advance_session(
            "sess-1",
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Attested,
                update: update.clone(),
                now,
            },
        )
        .await
        .unwrap();
    assert_eq!(attested.step, SessionStep::Attested);
    assert_eq!(attested.credential_digest, Some("ab".repeat(32)));
    assert_eq!(store.get_session("sess-1").await.unwrap(), Some(attested));

    let again = store
        .advance_session(
            "sess-1",
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Attested,
                update,
                now,
            },
        )
        .await;
    assert!(is_conflict(&again), "{again:?}");
    let early_consume = store.consume_session("sess-1", now).await;
    assert!(
        is_conflict(&early_consume),
        "consume before Proven: {early_consume:?}"
    );
}

pub async fn session_keeps_the_attested_keys_and_the_verified_quote(backend: &Backend) {
    let store = &backend.store;
    store
        .create_session(&session("sess-tpm", t0()))
        .await
        .unwrap();
    let attestation = SessionAttestation {
        ek_public: "AAEC".into(),
        ek_source: EkSource::EkCertificate,
        ak_public: "AAED".into(),
    };
    let now = t0() + Duration::seconds(5);
    store
        .advance_session(
            "sess-tpm",
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Attested,
                update: SessionUpdate {
                    credential_digest: Some("cd".repeat(32)),
                    attestation: Some(attestation.clone()),
                    quote: None,
                },
                now,
            },
        )
        .await
        .unwrap();
    let quote = SessionQuote {
        pcr_hash_alg: 0x000B,
        pcr_values: [(0, "00".repeat(32)), (7, "ef".repeat(32))].into(),
        verified_at: now,
    };
    // A later step's update without attestation keeps the stored one.
    let proven = store
        .advance_session(
            "sess-tpm",
            StepChange {
                from: SessionStep::Attested,
                to: SessionStep::Proven,
                update: SessionUpdate {
                    quote: Some(quote.clone()),
                    ..SessionUpdate::default()
                },
                now,
            },
        )
        .await
        .unwrap();
    let stored = store.get_session("sess-tpm").await.unwrap().unwrap();
    assert_eq!(stored, proven);
    assert_eq!(stored.step, SessionStep::Proven);
    assert_eq!(stored.attestation, Some(attestation));
    assert_eq!(stored.quote, Some(quote));
    assert_eq!(stored.credential_digest, Some("cd".repeat(32)));
}

pub async fn session_steps_only_move_forward(backend: &Backend) {
    let store = &backend.store;
    store
        .create_session(&session("sess-1", t0()))
        .await
        .unwrap();
    let result = store
        .advance_session(
            "sess-1",
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Begun,
                update: SessionUpdate::default(),
                now: t0(),
            },
        )
        .await;
    assert!(
        matches!(
            result,
            Err(StoreError::InvalidTransition {
                from: SessionStep::Begun,
                to: SessionStep::Begun
            })
        ),
        "{result:?}"
    );
    assert_eq!(
        store.get_session("sess-1").await.unwrap().unwrap().step,
        SessionStep::Begun
    );
}

pub async fn session_created_twice_conflicts(backend: &Backend) {
    let store = &backend.store;
    store
        .create_session(&session("sess-1", t0()))
        .await
        .unwrap();
    let mut other = session("sess-1", t0());
    other.instance_id = "999".into();
    let result = store.create_session(&other).await;
    assert!(is_conflict(&result), "{result:?}");
    assert_eq!(
        store
            .get_session("sess-1")
            .await
            .unwrap()
            .unwrap()
            .instance_id,
        "1234567890123456789"
    );
}

async fn proven_session(store: &Arc<dyn Store>, id: &str) {
    store.create_session(&session(id, t0())).await.unwrap();
    let now = t0() + Duration::seconds(1);
    store
        .advance_session(
            id,
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Attested,
                update: SessionUpdate::default(),
                now,
            },
        )
        .await
        .unwrap();
    store
        .advance_session(
            id,
            StepChange {
                from: SessionStep::Attested,
                to: SessionStep::Proven,
                update: SessionUpdate::default(),
                now,
            },
        )
        .await
        .unwrap();
}

pub async fn session_consumed_exactly_once_by_eight_concurrent_consumers(backend: &Backend) {
    proven_session(&backend.store, "sess-1").await;
    let second = backend.reopen().await;
    let now = t0() + Duration::seconds(2);
    let consumers: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 {
                Arc::clone(&backend.store)
            } else {
                Arc::clone(&second)
            };
            tokio::spawn(async move { store.consume_session("sess-1", now).await })
        })
        .collect();
    let mut results = Vec::new();
    for consumer in consumers {
        results.push(consumer.await.unwrap());
    }
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| is_conflict(r)).count(),
        7,
        "{results:?}"
    );
    assert_eq!(
        backend
            .store
            .get_session("sess-1")
            .await
            .unwrap()
            .unwrap()
            .step,
        SessionStep::Consumed
    );
}

pub async fn expired_session_is_refused(backend: &Backend) {
    let store = &backend.store;
    proven_session(store, "sess-1").await;
    let expires = session("sess-1", t0()).expires_at;
    let result = store.consume_session("sess-1", expires).await;
    assert!(
        matches!(result, Err(StoreError::SessionExpired { ref session_id }) if session_id == "sess-1"),
        "{result:?}"
    );
    assert_eq!(
        store.get_session("sess-1").await.unwrap().unwrap().step,
        SessionStep::Proven
    );
    store
        .consume_session("sess-1", expires - Duration::milliseconds(1))
        .await
        .unwrap();
}

pub async fn events_listed_newest_first_filtered_and_limited(backend: &Backend) {
    let store = &backend.store;
    let kinds = [
        EventKind::Denied,
        EventKind::Approved,
        EventKind::Released,
        EventKind::Revoked,
    ];
    let mut appended = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let instance = if i % 2 == 0 { "A" } else { "B" };
        let e = event(*kind, instance, t0() + Duration::seconds(i as i64));
        store.append_event(&e).await.unwrap();
        appended.push(e);
    }
    let ids = |events: Vec<tokendist_store::EventRecord>| {
        events.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };

    let all = store.list_events(&EventQuery::latest(10)).await.unwrap();
    let newest_first: Vec<_> = appended.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);

    let latest_two = store.list_events(&EventQuery::latest(2)).await.unwrap();
    assert_eq!(
        ids(latest_two),
        [appended[3].id.clone(), appended[2].id.clone()]
    );

    let of_a = store
        .list_events(&EventQuery::latest(10).for_instance("A"))
        .await
        .unwrap();
    assert_eq!(ids(of_a), [appended[2].id.clone(), appended[0].id.clone()]);

    let since = store
        .list_events(&EventQuery::latest(10).since(t0() + Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(
        ids(since),
        [
            appended[3].id.clone(),
            appended[2].id.clone(),
            appended[1].id.clone()
        ]
    );

    let b_since = EventQuery::latest(10)
        .for_instance("B")
        .since(t0() + Duration::seconds(2));
    assert_eq!(
        ids(store.list_events(&b_since).await.unwrap()),
        [appended[3].id.clone()]
    );

    let duplicate = store.append_event(&appended[0]).await;
    assert!(is_conflict(&duplicate), "{duplicate:?}");
}

pub async fn every_typed_event_detail_round_trips(backend: &Backend) {
    let store = &backend.store;
    let kinds = [
        EventKind::Approved,
        EventKind::Revoked,
        EventKind::Released,
        EventKind::Denied,
        EventKind::Attested,
        EventKind::PendingRemoved,
    ];
    let mut appended = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let e = event(*kind, "1001", t0() + Duration::seconds(i as i64));
        assert_eq!(e.detail.kind(), Some(*kind));
        store.append_event(&e).await.unwrap();
        appended.push(e);
    }
    appended.reverse();
    assert_eq!(
        store.list_events(&EventQuery::latest(10)).await.unwrap(),
        appended
    );
}

/// An event written before details were typed (ad-hoc JSON) still lists, its detail kept as it
/// was stored, and does not hide the events around it.
pub async fn an_untyped_event_detail_lists_as_unrecognized(backend: &Backend) {
    let store = &backend.store;
    let typed = event(EventKind::Denied, "1001", t0());
    store.append_event(&typed).await.unwrap();
    // Written exactly as an older writer wrote it: the ad-hoc JSON, no `kind` tag.
    let old_detail = json!({"secrets": ["db-password"], "approval_revision": 2, "peer": null});
    let mut legacy = event(EventKind::Released, "1001", t0() + Duration::seconds(1));
    legacy.detail = EventDetail::Unrecognized(old_detail.clone());
    assert_eq!(serde_json::to_value(&legacy).unwrap()["detail"], old_detail);
    store.append_event(&legacy).await.unwrap();
    let listed = store.list_events(&EventQuery::latest(10)).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].id, legacy.id);
    assert_eq!(listed[0].kind, EventKind::Released);
    assert_eq!(listed[0].detail, EventDetail::Unrecognized(old_detail));
    assert_eq!(listed[1], typed);
}

pub async fn corrupt_approval_is_reported_not_panicked(backend: &Backend) {
    let store = &backend.store;
    store.put_approval(approval("1001"), None).await.unwrap();
    backend
        .plant_garbage("approvals", "1001", "{not json")
        .await;
    let get = store.get_approval("1001").await;
    assert!(
        matches!(get, Err(StoreError::Corrupt { ref what, .. }) if *what == Record::new(RecordKind::Approval, "1001")),
        "{get:?}"
    );
    let list = store.list_approvals().await;
    assert!(matches!(list, Err(StoreError::Corrupt { .. })), "{list:?}");
    let revoke = store.revoke("1001", Revocation::new("r", t0(), 1)).await;
    assert!(
        matches!(revoke, Err(StoreError::Corrupt { .. })),
        "{revoke:?}"
    );
}

pub async fn corrupt_session_is_reported_not_panicked(backend: &Backend) {
    let store = &backend.store;
    store
        .create_session(&session("sess-1", t0()))
        .await
        .unwrap();
    backend
        .plant_garbage("sessions", "sess-1", r#"{"session_id": 5}"#)
        .await;
    let consume = store.consume_session("sess-1", t0()).await;
    assert!(
        matches!(consume, Err(StoreError::Corrupt { ref what, .. }) if *what == Record::new(RecordKind::Session, "sess-1")),
        "{consume:?}"
    );
    let get = store.get_session("sess-1").await;
    assert!(matches!(get, Err(StoreError::Corrupt { .. })), "{get:?}");
}

pub async fn expired_sessions_are_purged_and_live_ones_kept(backend: &Backend) {
    let store = &backend.store;
    let now = t0() + Duration::hours(1);
    // Expired long ago, expired a fraction of a second ago, consumed but still live, live.
    let mut old = session("sess-old", t0());
    old.expires_at = now - Duration::minutes(30);
    let mut just = session("sess-just", t0());
    just.expires_at = now - Duration::seconds(2) + Duration::milliseconds(250);
    let consumed = session("sess-used", now - Duration::seconds(10));
    let live = session("sess-live", now);
    for s in [&old, &just, &consumed, &live] {
        store.create_session(s).await.unwrap();
    }
    store
        .advance_session(
            "sess-used",
            StepChange {
                from: SessionStep::Begun,
                to: SessionStep::Consumed,
                update: SessionUpdate::default(),
                now,
            },
        )
        .await
        .unwrap();

    assert_eq!(store.purge_expired_sessions(now).await.unwrap(), 2);
    assert!(store.get_session("sess-old").await.unwrap().is_none());
    assert!(store.get_session("sess-just").await.unwrap().is_none());
    assert_eq!(
        store.get_session("sess-used").await.unwrap().unwrap().step,
        SessionStep::Consumed,
        "a consumed session stays until it expires, so its token's replay reads as already used"
    );
    assert!(store.get_session("sess-live").await.unwrap().is_some());
    assert_eq!(store.purge_expired_sessions(now).await.unwrap(), 0);
}

pub async fn a_purge_of_many_expired_sessions_removes_them_all_while_writes_go_on(
    backend: &Backend,
) {
    let store = std::sync::Arc::clone(&backend.store);
    let now = t0() + Duration::hours(1);
    // Many times what the SQLite backend deletes per write transaction (100), created concurrently.
    let expired_count = 1_050;
    let creates = (0..expired_count).map(|n| {
        let store = std::sync::Arc::clone(&store);
        async move {
            let mut old = session(&format!("sess-old-{n}"), t0());
            old.expires_at = now - Duration::minutes(5);
            store.create_session(&old).await.unwrap();
        }
    });
    futures::future::join_all(creates).await;
    // Writes arriving while the purge runs are served, and a session created meanwhile stays.
    let purge = store.purge_expired_sessions(now);
    let meanwhile = async {
        for n in 0..20 {
            store
                .create_session(&session(&format!("sess-live-{n}"), now))
                .await
                .unwrap();
        }
    };
    let (removed, ()) = tokio::join!(purge, meanwhile);
    assert_eq!(removed.unwrap(), expired_count);
    assert!(store.get_session("sess-old-0").await.unwrap().is_none());
    assert!(store.get_session("sess-old-1049").await.unwrap().is_none());
    for n in 0..20 {
        assert!(
            store
                .get_session(&format!("sess-live-{n}"))
                .await
                .unwrap()
                .is_some(),
            "sess-live-{n}"
        );
    }
    assert_eq!(store.purge_expired_sessions(now).await.unwrap(), 0);
}

pub async fn a_release_appends_its_event_and_ends_pending_in_one_write(backend: &Backend) {
    let store = &backend.store;
    store
        .upsert_pending(&pending_attempt("3001", t0()))
        .await
        .unwrap();
    let released = event(EventKind::Released, "3001", t0());
    store.record_release(&released).await.unwrap();
    assert_eq!(store.get_pending("3001").await.unwrap(), None);
    let events = store
        .list_events(&EventQuery::latest(10).for_instance("3001"))
        .await
        .unwrap();
    assert_eq!(events, std::slice::from_ref(&released));

    // Without a pending record it is just the event.
    let again = event(EventKind::Released, "3001", t0() + Duration::seconds(1));
    store.record_release(&again).await.unwrap();

    // A failed write leaves everything as it was: the pending record stays, no event is added.
    store
        .upsert_pending(&pending_attempt("3001", t0() + Duration::seconds(2)))
        .await
        .unwrap();
    let duplicate = store.record_release(&released).await;
    assert!(is_conflict(&duplicate), "{duplicate:?}");
    assert!(store.get_pending("3001").await.unwrap().is_some());
    let events = store
        .list_events(&EventQuery::latest(10).for_instance("3001"))
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
}

pub async fn watch_state_round_trips_and_stale_writes_conflict(backend: &Backend) {
    use tokendist_core::auditlog::watch::WatchState;
    let store = &backend.store;
    assert_eq!(store.get_watch("bob-project").await.unwrap(), None);
    let mut state = WatchState::new("bob-project");
    state.watermark = Some(t0());
    state.track(&std::collections::BTreeMap::from([(
        "1001".to_string(),
        ("vm".to_string(), t0()),
    )]));
    let created = store.put_watch(state.clone(), None).await.unwrap();
    assert_eq!(created.revision, 1);
    assert_eq!(
        store.get_watch("bob-project").await.unwrap(),
        Some(created.clone())
    );
    let again = store.put_watch(state.clone(), None).await;
    assert!(is_conflict(&again), "{again:?}");
    let mut next = created.clone();
    next.last_reconciled = Some(t0());
    let updated = store.put_watch(next.clone(), Some(1)).await.unwrap();
    assert_eq!(updated.revision, 2);
    let stale = store.put_watch(next, Some(1)).await;
    assert!(is_conflict(&stale), "{stale:?}");
    assert_eq!(store.get_watch("bob-project").await.unwrap(), Some(updated));
}
