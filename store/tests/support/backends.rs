//! The two backends under test behind one interface: a fresh store plus a way to plant an
//! undecodable record directly in the backend (bypassing the `Store` API).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use tokendist_store::{Store, StoreOptions};

use tokendist_testkit::FirestoreEmulator;

/// How a test reaches a backend's raw storage.
pub enum Raw {
    Sqlite { path: std::path::PathBuf },
    Firestore { host: String, project: String },
}

/// A store under test, and what keeps it alive (temp dir or emulator).
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub url: String,
    pub options: StoreOptions,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
    _emulator: Option<FirestoreEmulator>,
}

impl Backend {
    /// A fresh SQLite store in a temp directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokendist.db");
        let url = format!("sqlite://{}", path.display());
        let options = StoreOptions::default();
        let store = tokendist_store::open(&url, &options).await.unwrap();
        Backend {
            store,
            url,
            options,
            raw: Raw::Sqlite { path },
            _dir: Some(dir),
            _emulator: None,
        }
    }

    /// A fresh Firestore store: its own random project on the (private or shared) emulator.
    pub async fn firestore() -> Self {
        let emulator = FirestoreEmulator::start_or_reuse().await;
        let project = format!("test-{}", hex::encode(rand::random::<[u8; 6]>()));
        let url = format!("firestore://{project}/(default)?collection_prefix=td_");
        let options = StoreOptions {
            firestore_emulator_host: Some(emulator.host().to_string()),
            ..StoreOptions::default()
        };
        let store = tokendist_store::open(&url, &options).await.unwrap();
        store.ping().await.unwrap();
        let raw = Raw::Firestore {
            host: emulator.host().to_string(),
            project,
        };
        Backend {
            store,
            url,
            options,
            raw,
            _dir: None,
            _emulator: Some(emulator),
        }
    }

    /// Another independent handle on the same data (like a second process).
    pub async fn reopen(&self) -> Arc<dyn Store> {
        tokendist_store::open(&self.url, &self.options)
            .await
            .unwrap()
    }

    /// Stores `garbage` as the record text of `collection/key` (`collection` without prefix:
    /// `approvals`, `pending`, `attestations`, `sessions`, `events`).
    pub async fn plant_garbage(&self, collection: &str, key: &str, garbage: &str) {
        match &self.raw {
            Raw::Sqlite { path } => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let key_column = match collection {
                    "sessions" => "session_id",
                    "events" => "id",
                    _ => "instance_id",
                };
                let changed = conn
                    .execute(
                        &format!("UPDATE {collection} SET record = ?1 WHERE {key_column} = ?2"),
                        [garbage, key],
                    )
                    .unwrap();
                assert_eq!(changed, 1, "no {collection} row {key} to corrupt");
            }
            Raw::Firestore { host, project } => {
                let db = firestore::FirestoreDb::with_options_auth(
                    firestore::FirestoreDbOptions::new(project.clone())
                        .with_firebase_api_url(format!("http://{host}")),
                    firestore::gcloud_sdk::google_cloud_auth::credentials::anonymous::Builder::new(
                    )
                    .build(),
                )
                .await
                .unwrap();
                #[derive(serde::Serialize, serde::Deserialize)]
                struct Garbage {
                    record: String,
                    revision: i64,
                }
                let doc = Garbage {
                    record: garbage.to_string(),
                    revision: 1,
                };
                db.fluent()
                    .update()
                    .in_col(format!("td_{collection}"))
                    .document_id(key)
                    .object(&doc)
                    .execute::<Garbage>()
                    .await
                    .unwrap();
            }
        }
    }
}
