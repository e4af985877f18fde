//! The Firestore backend: one collection per record kind (`{prefix}approvals`, `{prefix}pending`,
//! `{prefix}attestations`, `{prefix}sessions`, `{prefix}events`), document id = record key.
//! Compare-and-swap is optimistic: read the document, decide with the shared transition rules, and
//! write with an `update_time` precondition (or `exists = false` on creation); a lost race is a
//! `Conflict`. Counting pending attempts retries that loop until it wins (bounded).
//!
//! No `run_transaction`: its retry of `Unknown` errors costs seconds before a real error surfaces
//! (gcp-notes §1), and single conditional writes are all CAS needs. The `firestore` crate still retries
//! transport failures of single requests; if a conditional write's response is lost and the retry
//! finds its own write, the caller sees `Conflict` (fail closed: e.g. a consumed session stays consumed).
//!
//! Production indexes: listing events of one instance filters on `instance_id` and ranges/orders on
//! `id`, which needs a composite index (`instance_id` ASC, `id` DESC) on `{prefix}events`.

mod documents;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use firestore::{FirestoreDb, FirestoreDbOptions};
use futures::TryStreamExt;
use rand::Rng;
use tokendist_core::approval::Approval;

use self::documents::{
    Envelope, check_document_id, envelope_of, map_error, read, write_after_read,
};
use crate::Store;
use crate::codec::{decode, encode};
use crate::error::StoreError;
use crate::event_id::EventId;
use crate::records::{
    AttestationRecord, EventQuery, EventRecord, PendingAttempt, PendingRecord, SessionRecord,
    SessionStep, SessionUpdate,
};
use crate::transitions::{advanced_session, next_approval_revision, revoked_approval};

const PRODUCTION_URL: &str = "https://firestore.googleapis.com";

/// How many times `upsert_pending` retries after losing a race before reporting `Unavailable`.
const PENDING_UPSERT_ATTEMPTS: usize = 50;

/// A store in one Firestore database.
pub(crate) struct FirestoreStore {
    db: FirestoreDb,
    prefix: String,
}

impl std::fmt::Debug for FirestoreStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirestoreStore")
            .field("database", self.db.get_database_path())
            .field("collection_prefix", &self.prefix)
            .finish()
    }
}

impl FirestoreStore {
    /// Connects to `projects/{project}/databases/{database}`: the emulator at `emulator_host`
    /// without credentials, else production with Application Default Credentials.
    pub(crate) async fn connect(
        project: String,
        database: String,
        prefix: String,
        emulator_host: Option<String>,
    ) -> Result<Self, StoreError> {
        let options = FirestoreDbOptions::new(project).with_database_id(database);
        let db = match emulator_host {
            Some(host) => {
                let url = if host.contains("://") { host } else { format!("http://{host}") };
                let credentials =
                    firestore::gcloud_sdk::google_cloud_auth::credentials::anonymous::Builder::new().build();
                FirestoreDb::with_options_auth(options.with_firebase_api_url(url), credentials).await
            }
            None => {
                let auth = firestore::gcloud_sdk::GoogleAuthHeaders::from_adc_with_scopes(
                    firestore::gcloud_sdk::GCP_DEFAULT_SCOPES.clone(),
                )
                .await
                .map_err(|e| {
                    StoreError::Config(format!(
                        "no Google credentials for Firestore: {e}; set up Application Default Credentials \
                         or set FIRESTORE_EMULATOR_HOST"
                    ))
                })?;
                FirestoreDb::with_options_auth(options.with_firebase_api_url(PRODUCTION_URL.to_string()), auth)
                    .await
            }
        }
        .map_err(|e| StoreError::Config(format!("cannot create the Firestore client: {e}")))?;
        Ok(FirestoreStore { db, prefix })
    }

    fn collection(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let collection = self.collection(name);
        match read(&self.db, &collection, id).await? {
            Some(doc) => Ok(Some(decode(
                &format!("{collection}/{id}"),
                &doc.envelope.record,
            )?)),
            None => Ok(None),
        }
    }

    async fn list_records<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Vec<T>, StoreError> {
        let collection = self.collection(name);
        let docs: Vec<_> = self
            .db
            .fluent()
            .list()
            .from(collection.as_str())
            .stream_all_with_errors()
            .await
            .map_err(|e| map_error(&collection, e))?
            .try_collect()
            .await
            .map_err(|e| map_error(&collection, e))?;
        let mut keyed = Vec::with_capacity(docs.len());
        for doc in &docs {
            let id = doc.name.rsplit('/').next().unwrap_or_default().to_string();
            let what = format!("{collection}/{id}");
            let envelope = envelope_of(&what, doc)?;
            keyed.push((id, decode(&what, &envelope.record)?));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(keyed.into_iter().map(|(_, record)| record).collect())
    }
}

fn approval_envelope(approval: &Approval) -> Result<Envelope, StoreError> {
    let revision = i64::try_from(approval.revision).map_err(|_| {
        StoreError::Config(format!("approval revision {} too large", approval.revision))
    })?;
    Ok(Envelope {
        revision: Some(revision),
        ..Envelope::of(encode("approval", approval)?)
    })
}

#[async_trait]
impl Store for FirestoreStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(|e| map_error("ping", e))
    }

    async fn get_approval(&self, instance_id: &str) -> Result<Option<Approval>, StoreError> {
        self.get_record("approvals", instance_id).await
    }

    async fn list_approvals(&self) -> Result<Vec<Approval>, StoreError> {
        self.list_records("approvals").await
    }

    async fn put_approval(
        &self,
        mut approval: Approval,
        expected_revision: Option<u64>,
    ) -> Result<Approval, StoreError> {
        let collection = self.collection("approvals");
        let key = approval.instance_id.clone();
        let current = read(&self.db, &collection, &key).await?;
        let stored_revision = match &current {
            Some(doc) => Some(
                doc.envelope
                    .revision
                    .and_then(|r| u64::try_from(r).ok())
                    .ok_or_else(|| {
                        StoreError::corrupt(
                            format!("{collection}/{key}"),
                            "missing or negative revision",
                        )
                    })?,
            ),
            None => None,
        };
        approval.revision = next_approval_revision(&key, stored_revision, expected_revision)?;
        let envelope = approval_envelope(&approval)?;
        write_after_read(
            &self.db,
            &collection,
            &key,
            &envelope,
            current.as_ref().map(|d| &d.update_time),
        )
        .await
        .map_err(|e| lost_race(e, &key))?;
        Ok(approval)
    }

    async fn revoke(
        &self,
        instance_id: &str,
        reason: &str,
        at: DateTime<Utc>,
        expected_revision: u64,
    ) -> Result<Approval, StoreError> {
        let collection = self.collection("approvals");
        let current = read(&self.db, &collection, instance_id).await?;
        let stored = match &current {
            Some(doc) => Some(decode(
                &format!("{collection}/{instance_id}"),
                &doc.envelope.record,
            )?),
            None => None,
        };
        let approval = revoked_approval(instance_id, stored, reason, at, expected_revision)?;
        let envelope = approval_envelope(&approval)?;
        write_after_read(
            &self.db,
            &collection,
            instance_id,
            &envelope,
            current.as_ref().map(|d| &d.update_time),
        )
        .await
        .map_err(|e| lost_race(e, instance_id))?;
        Ok(approval)
    }

    async fn upsert_pending(&self, attempt: &PendingAttempt) -> Result<PendingRecord, StoreError> {
        let collection = self.collection("pending");
        let key = &attempt.instance_id;
        for _ in 0..PENDING_UPSERT_ATTEMPTS {
            let current = read(&self.db, &collection, key).await?;
            let previous = match &current {
                Some(doc) => Some(decode(
                    &format!("{collection}/{key}"),
                    &doc.envelope.record,
                )?),
                None => None,
            };
            let record = PendingRecord::after_attempt(previous, attempt);
            let envelope = Envelope::of(encode("pending record", &record)?);
            match write_after_read(
                &self.db,
                &collection,
                key,
                &envelope,
                current.as_ref().map(|d| &d.update_time),
            )
            .await
            {
                Ok(()) => return Ok(record),
                Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {
                    // Another writer counted an attempt first: back off a little and count on top of it.
                    let jitter = rand::rng().random_range(1..=20);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Unavailable(format!(
            "pending record {key} is contended: lost {PENDING_UPSERT_ATTEMPTS} races in a row"
        )))
    }

    async fn get_pending(&self, instance_id: &str) -> Result<Option<PendingRecord>, StoreError> {
        self.get_record("pending", instance_id).await
    }

    async fn list_pending(&self) -> Result<Vec<PendingRecord>, StoreError> {
        self.list_records("pending").await
    }

    async fn remove_pending(&self, instance_id: &str) -> Result<bool, StoreError> {
        let collection = self.collection("pending");
        check_document_id(&collection, instance_id)?;
        let result = self
            .db
            .fluent()
            .delete()
            .from(collection.as_str())
            .precondition(firestore::FirestoreWritePrecondition::Exists(true))
            .document_id(instance_id)
            .execute()
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(firestore::errors::FirestoreError::DataNotFoundError(_)) => Ok(false),
            Err(e) => Err(map_error(&format!("{collection}/{instance_id}"), e)),
        }
    }

    async fn put_attestation(&self, record: &AttestationRecord) -> Result<(), StoreError> {
        let envelope = Envelope::of(encode("attestation record", record)?);
        documents::put(
            &self.db,
            &self.collection("attestations"),
            &record.instance_id,
            &envelope,
        )
        .await
    }

    async fn get_attestation(
        &self,
        instance_id: &str,
    ) -> Result<Option<AttestationRecord>, StoreError> {
        self.get_record("attestations", instance_id).await
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let envelope = session_envelope(session)?;
        documents::create(
            &self.db,
            &self.collection("sessions"),
            &session.session_id,
            &envelope,
        )
        .await
    }

    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.get_record("sessions", session_id).await
    }

    async fn advance_session(
        &self,
        session_id: &str,
        from: SessionStep,
        to: SessionStep,
        update: SessionUpdate,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, StoreError> {
        let collection = self.collection("sessions");
        let current = read(&self.db, &collection, session_id).await?;
        let stored = match &current {
            Some(doc) => Some(decode(
                &format!("{collection}/{session_id}"),
                &doc.envelope.record,
            )?),
            None => None,
        };
        let session = advanced_session(session_id, stored, from, to, update, now)?;
        let envelope = session_envelope(&session)?;
        write_after_read(
            &self.db,
            &collection,
            session_id,
            &envelope,
            current.as_ref().map(|d| &d.update_time),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { what, .. } | StoreError::NotFound { what } => {
                StoreError::Conflict {
                    what,
                    detail: format!("another caller moved the session from {from:?} first"),
                }
            }
            other => other,
        })?;
        Ok(session)
    }

    async fn purge_expired_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let collection = self.collection("sessions");
        let bound = before.timestamp();
        let docs: Vec<_> = self
            .db
            .fluent()
            .select()
            .from(collection.as_str())
            .filter(|q| q.for_all([q.field("expires_at").less_than(bound)]))
            .stream_query_with_errors()
            .await
            .map_err(|e| map_error(&collection, e))?
            .try_collect()
            .await
            .map_err(|e| map_error(&collection, e))?;
        let mut removed = 0u64;
        for doc in &docs {
            let id = doc.name.rsplit('/').next().unwrap_or_default();
            check_document_id(&collection, id)?;
            self.db
                .fluent()
                .delete()
                .from(collection.as_str())
                .document_id(id)
                .execute()
                .await
                .map_err(|e| map_error(&format!("{collection}/{id}"), e))?;
            removed += 1;
        }
        Ok(removed)
    }

    async fn append_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        let envelope = Envelope {
            instance_id: Some(event.instance_id.clone()),
            id: Some(event.id.as_str().to_string()),
            ..Envelope::of(encode("event record", event)?)
        };
        documents::create(
            &self.db,
            &self.collection("events"),
            event.id.as_str(),
            &envelope,
        )
        .await
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, StoreError> {
        let collection = self.collection("events");
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let lower_bound = query.since.map(EventId::lower_bound).unwrap_or_default();
        let instance_id = query.instance_id.clone();
        let limit = u32::try_from(query.limit).unwrap_or(u32::MAX);
        let docs: Vec<_> = self
            .db
            .fluent()
            .select()
            .from(collection.as_str())
            .filter(|q| {
                q.for_all([
                    instance_id
                        .clone()
                        .and_then(|id| q.field("instance_id").eq(id)),
                    q.field("id").greater_than_or_equal(lower_bound.clone()),
                ])
            })
            .order(|o| o.fields([o.field("id").desc()]))
            .limit(limit)
            .stream_query_with_errors()
            .await
            .map_err(|e| map_error(&collection, e))?
            .try_collect()
            .await
            .map_err(|e| map_error(&collection, e))?;
        docs.iter()
            .map(|doc| {
                let id = doc.name.rsplit('/').next().unwrap_or_default();
                let what = format!("{collection}/{id}");
                decode(&what, &envelope_of(&what, doc)?.record)
            })
            .collect()
    }
}

/// A session's document: the record plus its expiry, which the purge filters on.
fn session_envelope(session: &SessionRecord) -> Result<Envelope, StoreError> {
    Ok(Envelope {
        expires_at: Some(session.expires_at.timestamp()),
        ..Envelope::of(encode("session record", session)?)
    })
}

/// A precondition that failed because the document vanished or changed is a lost race on the approval.
fn lost_race(error: StoreError, instance_id: &str) -> StoreError {
    match error {
        StoreError::NotFound { .. } | StoreError::Conflict { .. } => StoreError::conflict(
            format!("approval {instance_id}"),
            "another writer changed it at the same time; re-read and retry",
        ),
        other => other,
    }
}
