//! SQLite-only behaviour: one database file shared by independent `open()`s (as the console and the
//! server share it), schema creation on open, WAL, and lock timeouts reported as retryable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as TimeDelta;
use tokendist_store::{
    Outage, Revocation, SessionStep, SessionUpdate, StepChange, Store, StoreError, StoreOptions,
};

use support::samples::{approval, session, t0};

fn url_of(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_opens_of_one_file_race_on_consume_and_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_of(&dir.path().join("shared.db"));
    let first = tokendist_store::open(&url, &StoreOptions::default())
        .await
        .unwrap();
    let second = tokendist_store::open(&url, &StoreOptions::default())
        .await
        .unwrap();

    for round in 0..10 {
        let id = format!("sess-{round}");
        first.create_session(&session(&id, t0())).await.unwrap();
        let now = t0() + TimeDelta::seconds(1);
        for (from, to) in [
            (SessionStep::Begun, SessionStep::Attested),
            (SessionStep::Attested, SessionStep::Proven),
        ] {
            second
                .advance_session(
                    &id,
                    StepChange {
                        from,
                        to,
                        update: SessionUpdate::default(),
                        now,
                    },
                )
                .await
                .unwrap();
        }
        let consumers: Vec<_> = (0..8)
            .map(|i| {
                let store: Arc<dyn Store> = if i % 2 == 0 {
                    Arc::clone(&first)
                } else {
                    Arc::clone(&second)
                };
                let id = id.clone();
                tokio::spawn(async move { store.consume_session(&id, now).await })
            })
            .collect();
        let mut wins = 0;
        for consumer in consumers {
            match consumer.await.unwrap() {
                Ok(s) => {
                    assert_eq!(s.step, SessionStep::Consumed);
                    wins += 1;
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(other) => panic!("round {round}: unexpected error {other}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_new_file_all_succeed_and_share_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_of(&dir.path().join("new.db"));
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { tokendist_store::open(&url, &StoreOptions::default()).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.unwrap().unwrap());
    }
    stores[0]
        .put_approval(approval("1001"), None)
        .await
        .unwrap();
    assert_eq!(
        stores[3]
            .get_approval("1001")
            .await
            .unwrap()
            .unwrap()
            .revision,
        1
    );

    let conn = rusqlite::Connection::open(dir.path().join("new.db")).unwrap();
    let versions: i64 = conn
        .query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 1);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn writer_locked_out_beyond_busy_timeout_gets_retryable_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let options = StoreOptions {
        sqlite_busy_timeout: Duration::from_millis(100),
        ..StoreOptions::default()
    };
    let store = tokendist_store::open(&url_of(&path), &options)
        .await
        .unwrap();

    let other_process = rusqlite::Connection::open(&path).unwrap();
    other_process.execute_batch("BEGIN IMMEDIATE").unwrap();
    let result = store.put_approval(approval("1001"), None).await;
    assert!(
        matches!(
            result,
            Err(StoreError::Unavailable {
                outage: Outage::Locked,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(result.unwrap_err().is_retryable());

    other_process.execute_batch("COMMIT").unwrap();
    assert_eq!(
        store
            .put_approval(approval("1001"), None)
            .await
            .unwrap()
            .revision,
        1
    );
}

#[tokio::test]
async fn open_in_missing_directory_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_of(&dir.path().join("no/such/dir/tokendist.db"));
    let result = tokendist_store::open(&url, &StoreOptions::default()).await;
    assert!(
        matches!(result, Err(StoreError::Config(ref m)) if m.contains("directory")),
        "{result:?}"
    );
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_of(&dir.path().join("durable.db"));
    {
        let store = tokendist_store::open(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.put_approval(approval("1001"), None).await.unwrap();
        store
            .revoke("1001", Revocation::new("tampered", t0(), 1))
            .await
            .unwrap();
    }
    let store = tokendist_store::open(&url, &StoreOptions::default())
        .await
        .unwrap();
    let stored = store.get_approval("1001").await.unwrap().unwrap();
    assert_eq!(
        (stored.revision, stored.revoke_reason.as_deref()),
        (2, Some("tampered"))
    );
}
