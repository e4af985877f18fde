//! What the store holds and who may use it: dumps of the SQLite file (raw bytes and every table's rows)
//! and of every Firestore document (official emulator) contain none of the approved secret values,
//! and two `tokenserver` processes sharing one SQLite store serve one session across replicas, once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::approvals::{PlainSecret, approve, approve_with, sample_secrets};
use crate::support::client::{begin_session, get_token};
use crate::support::world::{World, demo_toml, scenario_from};
use crate::support::{GOOD_VM, TAMPERED_VM};
use base64::Engine as _;
use tokendist_store::StoreOptions;
use tonic::Code;

/// Every form in which a secret value could leak: the bytes, and their base64 and hex encodings.
fn forbidden_forms(secrets: &[PlainSecret]) -> Vec<Vec<u8>> {
    secrets
        .iter()
        .flat_map(|s| {
            [
                s.data.clone(),
                base64::engine::general_purpose::STANDARD
                    .encode(&s.data)
                    .into_bytes(),
                hex::encode(&s.data).into_bytes(),
            ]
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_absent(what: &str, haystack: &[u8], forbidden: &[Vec<u8>]) {
    for needle in forbidden {
        assert!(
            !contains(haystack, needle),
            "{what} contains a secret value ({} bytes)",
            needle.len()
        );
    }
}

/// Approvals of both VMs, one release and one denial, so every table has rows.
async fn exercise(world: &World) -> Vec<PlainSecret> {
    let mut secrets = sample_secrets("good");
    approve(world, GOOD_VM, &secrets).await;
    let tampered = sample_secrets("tampered");
    approve_with(world, TAMPERED_VM, &tampered, |a| {
        a.allowed_metadata_keys.clear();
    })
    .await;
    secrets.extend(tampered);
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    let token = world.good_token();
    let session = begin_session(&mut client, &token).await;
    let released = get_token(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        &session.session_id,
    )
    .await
    .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    assert_eq!(released.secrets.len(), 2);
    let denied = world.release(&mut client, TAMPERED_VM).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_file_and_every_table_hold_no_secret_value() {
    let world = World::start().await;
    let secrets = exercise(&world).await;
    let forbidden = forbidden_forms(&secrets);

    let db = world.path("tokendist.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for expected in ["approvals", "pending", "sessions", "events"] {
        assert!(tables.iter().any(|t| t == expected), "{tables:?}");
    }
    let mut rows_seen = 0;
    for table in &tables {
        let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            rows_seen += 1;
            for index in 0..columns {
                let bytes: Vec<u8> = match row.get_ref(index).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        t.to_vec()
                    }
                    other => format!("{other:?}").into_bytes(),
                };
                assert_absent(&format!("table {table} column {index}"), &bytes, &forbidden);
            }
        }
    }
    assert!(rows_seen >= 5, "only {rows_seen} rows");
    drop(conn);
    // The raw files: the database (which must exist), and the write-ahead log the rows may still
    // live in (if there is one).
    let database = std::fs::read(world.path("tokendist.db")).unwrap();
    assert_absent("tokendist.db", &database, &forbidden);
    if let Ok(wal) = std::fs::read(world.path("tokendist.db-wal")) {
        assert_absent("tokendist.db-wal", &wal, &forbidden);
    }
}

/// Every document of every collection of `project` on the emulator, as raw JSON text.
async fn firestore_dump(host: &str, project: &str) -> (Vec<String>, String) {
    let http = reqwest::Client::new();
    let root = format!("http://{host}/v1/projects/{project}/databases/(default)/documents");
    let collections: serde_json::Value = http
        .post(format!("{root}:listCollectionIds"))
        .bearer_auth("owner")
        .json(&serde_json::json!({ "pageSize": 1000 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = collections["collectionIds"]
        .as_array()
        .unwrap_or_else(|| panic!("{collections}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut dump = String::new();
    for id in &ids {
        let mut page_token = String::new();
        loop {
            let page: serde_json::Value = http
                .get(format!("{root}/{id}"))
                .bearer_auth("owner")
                .query(&[("pageSize", "300"), ("pageToken", page_token.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            dump.push_str(&page.to_string());
            match page["nextPageToken"].as_str() {
                Some(next) if !next.is_empty() => page_token = next.to_string(),
                _ => break,
            }
        }
    }
    (ids, dump)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firestore_store_documents_hold_no_secret_value() {
    let emulator = tokendist_testkit::FirestoreEmulator::start_or_reuse().await;
    let project = format!("srv-{}", hex::encode(rand::random::<[u8; 6]>()));
    let url = format!("firestore://{project}/(default)?collection_prefix=td_");
    let options = StoreOptions {
        firestore_emulator_host: Some(emulator.host().to_string()),
        ..StoreOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::start_with_store(scenario_from(&demo_toml()), dir, url, options).await;
    world.server_env.push((
        "FIRESTORE_EMULATOR_HOST".into(),
        emulator.host().to_string(),
    ));
    let secrets = exercise(&world).await;

    let (collections, dump) = firestore_dump(emulator.host(), &project).await;
    for expected in ["td_approvals", "td_pending", "td_sessions", "td_events"] {
        assert!(collections.iter().any(|c| c == expected), "{collections:?}");
    }
    assert!(
        dump.contains("hpke-x25519"),
        "the dump holds the sealed secrets"
    );
    assert_absent(
        "the Firestore dump",
        dump.as_bytes(),
        &forbidden_forms(&secrets),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_begun_on_one_replica_completes_on_the_other_exactly_once() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("replicas")).await;
    let first = world.server("first").await;
    let second = world.server("second").await;
    assert_ne!(first.addr, second.addr);
    let mut on_first = world.client(first.addr).await;
    let mut on_second = world.client(second.addr).await;

    let session = begin_session(&mut on_first, &world.good_token()).await;
    assert!(!session.tpm_required);
    let session_token = world.session_token(GOOD_VM, &session);
    let released = get_token(&mut on_second, &session_token, &session.session_id)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", second.log_text()));
    assert_eq!(released.secrets.len(), 2);

    for client in [&mut on_first, &mut on_second] {
        let again = get_token(
            client,
            &world.session_token(GOOD_VM, &session),
            &session.session_id,
        )
        .await
        .unwrap_err();
        assert_eq!(
            again.code(),
            Code::FailedPrecondition,
            "{again:?}\n{}\n{}",
            first.log_text(),
            second.log_text()
        );
    }
}
