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
use rand::Rng;
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::watch::WatchState;

use self::documents::{
    Collection, Envelope, all_documents, check_document_id, envelope_of, map_error, read,
    read_record, stored_revision, write_after_read,
};
use crate::Store;
use crate::codec::{decode, encode};
use crate::error::{Outage, Record, RecordKind, StoreError};
use crate::event_id::EventId;
use crate::records::{
    AttestationRecord, EventQuery, EventRecord, PendingAttempt, PendingRecord, Revocation,
    SessionRecord, StepChange,
};
use crate::transitions::{
    advanced_session, next_approval_revision, next_revision, revoked_approval,
};

/// An event's document: the record, with its instance and id as queryable fields.
fn event_envelope(event: &EventRecord) -> Result<Envelope, StoreError> {
    Ok(Envelope {
        instance_id: Some(event.instance_id.clone()),
        id: Some(event.id.as_str().to_string()),
        ..Envelope::of(encode(RecordKind::Event, event)?)
    })
}

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

    fn collection(&self, kind: RecordKind) -> Collection {
        Collection {
            name: format!("{}{}", self.prefix, kind.collection()),
            kind,
        }
    }

    async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        kind: RecordKind,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let found = read_record(&self.db, &self.collection(kind), id).await?;
        Ok(found.map(|(record, _)| record))
    }

    async fn list_records<T: serde::de::DeserializeOwned>(
        &self,
        kind: RecordKind,
    ) -> Result<Vec<T>, StoreError> {
        let collection = self.collection(kind);
        let listing = self
            .db
            .fluent()
            .list()
            .from(collection.name.as_str())
            .stream_all_with_errors()
            .await;
        let docs = all_documents(&collection, listing).await?;
        let mut keyed = Vec::with_capacity(docs.len());
        for doc in &docs {
            let id = doc.name.rsplit('/').next().unwrap_or_default().to_string();
            let what = collection.record(&id);
            let envelope = envelope_of(&what, doc)?;
            keyed.push((id, decode(&what, &envelope.record)?));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(keyed.into_iter().map(|(_, record)| record).collect())
    }

    /// Reads a record, lets `next` decide what to store instead (or refuse), and writes that back
    /// only if the document has not changed since it was read; a write that loses the race fails
    /// with what `lost` makes of its `Conflict` or `NotFound`.
    async fn read_modify_write<T, R>(
        &self,
        kind: RecordKind,
        id: &str,
        next: impl FnOnce(Option<T>) -> Result<R, StoreError>,
        envelope: impl FnOnce(&R) -> Result<Envelope, StoreError>,
        lost: impl FnOnce(StoreError) -> StoreError,
    ) -> Result<R, StoreError>
    where
        T: serde::de::DeserializeOwned,
    {
        let collection = self.collection(kind);
        let current = read_record(&self.db, &collection, id).await?;
        let (stored, read_at) = match current {
            Some((record, read_at)) => (Some(record), Some(read_at)),
            None => (None, None),
        };
        let record = next(stored)?;
        let envelope = envelope(&record)?;
        write_after_read(&self.db, &collection, id, &envelope, read_at.as_ref())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } | StoreError::NotFound { .. } => lost(e),
                other => other,
            })?;
        Ok(record)
    }
}

fn approval_envelope(approval: &Approval) -> Result<Envelope, StoreError> {
    let revision = i64::try_from(approval.revision).map_err(|_| {
        StoreError::Config(format!("approval revision {} too large", approval.revision))
    })?;
    Ok(Envelope {
        revision: Some(revision),
        ..Envelope::of(encode(RecordKind::Approval, approval)?)
    })
}

#[async_trait]
impl Store for FirestoreStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .ping()
            .await
            .map_err(|e| map_error(&Record::new(RecordKind::Database, ""), e))
    }

    async fn get_approval(&self, instance_id: &str) -> Result<Option<Approval>, StoreError> {
        self.get_record(RecordKind::Approval, instance_id).await
    }

    async fn list_approvals(&self) -> Result<Vec<Approval>, StoreError> {
        self.list_records(RecordKind::Approval).await
    }

    async fn put_approval(
        &self,
        mut approval: Approval,
        expected_revision: Option<u64>,
    ) -> Result<Approval, StoreError> {
        let collection = self.collection(RecordKind::Approval);
        let key = approval.instance_id.clone();
        let current = read(&self.db, &collection, &key).await?;
        let stored_revision = stored_revision(&collection, &key, current.as_ref())?;
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
        .map_err(|e| match e {
            StoreError::Conflict { .. } | StoreError::NotFound { .. } => lost_race(&key),
            other => other,
        })?;
        Ok(approval)
    }

    async fn revoke(
        &self,
        instance_id: &str,
        revocation: Revocation,
    ) -> Result<Approval, StoreError> {
        self.read_modify_write(
            RecordKind::Approval,
            instance_id,
            |stored| revoked_approval(instance_id, stored, revocation),
            approval_envelope,
            |_| lost_race(instance_id),
        )
        .await
    }

    async fn upsert_pending(&self, attempt: &PendingAttempt) -> Result<PendingRecord, StoreError> {
        let key = &attempt.instance_id;
        for _ in 0..PENDING_UPSERT_ATTEMPTS {
            let written = self
                .read_modify_write(
                    RecordKind::Pending,
                    key,
                    |previous| Ok(PendingRecord::after_attempt(previous, attempt)),
                    |record| Ok(Envelope::of(encode(RecordKind::Pending, record)?)),
                    |lost| lost,
                )
                .await;
            match written {
                Ok(record) => return Ok(record),
                Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {
                    // Another writer counted an attempt first: back off a little and count on top of it.
                    let jitter = rand::rng().random_range(1..=20);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::unavailable(
            Outage::Unreachable,
            format!(
                "pending record {key} is contended: lost {PENDING_UPSERT_ATTEMPTS} races in a row"
            ),
        ))
    }

    async fn get_pending(&self, instance_id: &str) -> Result<Option<PendingRecord>, StoreError> {
        self.get_record(RecordKind::Pending, instance_id).await
    }

    async fn list_pending(&self) -> Result<Vec<PendingRecord>, StoreError> {
        self.list_records(RecordKind::Pending).await
    }

    async fn remove_pending(&self, instance_id: &str) -> Result<bool, StoreError> {
        let collection = self.collection(RecordKind::Pending);
        check_document_id(&collection, instance_id)?;
        let result = self
            .db
            .fluent()
            .delete()
            .from(collection.name.as_str())
            .precondition(firestore::FirestoreWritePrecondition::Exists(true))
            .document_id(instance_id)
            .execute()
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(firestore::errors::FirestoreError::DataNotFoundError(_)) => Ok(false),
            Err(e) => Err(map_error(&collection.record(instance_id), e)),
        }
    }

    async fn put_attestation(&self, record: &AttestationRecord) -> Result<(), StoreError> {
        let envelope = Envelope::of(encode(RecordKind::Attestation, record)?);
        let collection = self.collection(RecordKind::Attestation);
        documents::update(&self.db, &collection, &record.instance_id, &envelope, None).await
    }

    async fn get_attestation(
        &self,
        instance_id: &str,
    ) -> Result<Option<AttestationRecord>, StoreError> {
        self.get_record(RecordKind::Attestation, instance_id).await
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let envelope = session_envelope(session)?;
        documents::create(
            &self.db,
            &self.collection(RecordKind::Session),
            &session.session_id,
            &envelope,
        )
        .await
    }

    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.get_record(RecordKind::Session, session_id).await
    }

    async fn advance_session(
        &self,
        session_id: &str,
        change: StepChange,
    ) -> Result<SessionRecord, StoreError> {
        let from = change.from;
        self.read_modify_write(
            RecordKind::Session,
            session_id,
            |stored| advanced_session(session_id, stored, change),
            session_envelope,
            |_| {
                StoreError::conflict(
                    Record::new(RecordKind::Session, session_id),
                    format!("another caller moved the session from {from:?} first"),
                )
            },
        )
        .await
    }

    async fn purge_expired_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        // In pages of PURGE_BATCH ids (the documents' other fields are not fetched): a backlog of
        // ten thousand expired sessions never sits in memory at once.
        let collection = self.collection(RecordKind::Session);
        let bound = before.timestamp();
        let page_size = u32::try_from(crate::PURGE_BATCH).unwrap_or(u32::MAX);
        let mut removed = 0u64;
        loop {
            let page = self
                .db
                .fluent()
                .select()
                .fields(["expires_at"])
                .from(collection.name.as_str())
                .filter(|q| q.for_all([q.field("expires_at").less_than(bound)]))
                .limit(page_size)
                .query()
                .await
                .map_err(|e| map_error(&collection.whole(), e))?;
            for doc in &page {
                let id = doc.name.rsplit('/').next().unwrap_or_default();
                check_document_id(&collection, id)?;
                self.db
                    .fluent()
                    .delete()
                    .from(collection.name.as_str())
                    .document_id(id)
                    .execute()
                    .await
                    .map_err(|e| map_error(&collection.record(id), e))?;
                removed += 1;
            }
            if page.len() < crate::PURGE_BATCH {
                return Ok(removed);
            }
        }
    }

    async fn append_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        let envelope = event_envelope(event)?;
        documents::create(
            &self.db,
            &self.collection(RecordKind::Event),
            event.id.as_str(),
            &envelope,
        )
        .await
    }

    async fn record_release(&self, event: &EventRecord) -> Result<(), StoreError> {
        let envelope = event_envelope(event)?;
        let events = self.collection(RecordKind::Event);
        let pending = self.collection(RecordKind::Pending);
        let id = event.id.as_str();
        check_document_id(&events, id)?;
        check_document_id(&pending, &event.instance_id)?;
        // One commit: both writes or neither (a transaction without reads, never retried here).
        let mut transaction = self
            .db
            .begin_transaction()
            .await
            .map_err(|e| map_error(&events.record(id), e))?;
        let queued = self
            .db
            .fluent()
            .update()
            .in_col(&events.name)
            .precondition(firestore::FirestoreWritePrecondition::Exists(false))
            .document_id(id)
            .object(&envelope)
            .add_to_transaction(&mut transaction)
            .and_then(|transaction| {
                self.db
                    .fluent()
                    .delete()
                    .from(pending.name.as_str())
                    .document_id(&event.instance_id)
                    .add_to_transaction(transaction)
            })
            .map(|_| ());
        if let Err(error) = queued {
            let _ignored = transaction.rollback().await;
            return Err(map_error(&events.record(id), error));
        }
        transaction
            .commit()
            .await
            .map(|_| ())
            .map_err(|e| map_error(&events.record(id), e))
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, StoreError> {
        let collection = self.collection(RecordKind::Event);
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let lower_bound = query.since.map(EventId::lower_bound).unwrap_or_default();
        let instance_id = query.instance_id.clone();
        let limit = u32::try_from(query.limit).unwrap_or(u32::MAX);
        let docs = self
            .db
            .fluent()
            .select()
            .from(collection.name.as_str())
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
            .await;
        let docs = all_documents(&collection, docs).await?;
        docs.iter()
            .map(|doc| {
                let id = doc.name.rsplit('/').next().unwrap_or_default();
                let what = collection.record(id);
                decode(&what, &envelope_of(&what, doc)?.record)
            })
            .collect()
    }

    async fn get_watch(&self, project: &str) -> Result<Option<WatchState>, StoreError> {
        self.get_record(RecordKind::Watch, project).await
    }

    async fn put_watch(
        &self,
        mut state: WatchState,
        expected_revision: Option<u64>,
    ) -> Result<WatchState, StoreError> {
        let collection = self.collection(RecordKind::Watch);
        let key = state.project.clone();
        let current = read(&self.db, &collection, &key).await?;
        let stored_revision = stored_revision(&collection, &key, current.as_ref())?;
        state.revision =
            next_revision(collection.record(&key), stored_revision, expected_revision)?;
        let mut envelope = Envelope::of(encode(RecordKind::Watch, &state)?);
        envelope.revision =
            Some(i64::try_from(state.revision).map_err(|_| {
                StoreError::corrupt(collection.record(&key), "revision out of range")
            })?);
        write_after_read(
            &self.db,
            &collection,
            &key,
            &envelope,
            current.as_ref().map(|d| &d.update_time),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } | StoreError::NotFound { .. } => StoreError::conflict(
                collection.record(&key),
                "another writer changed the watch state first",
            ),
            other => other,
        })?;
        Ok(state)
    }
}

/// A session's document: the record plus its expiry, which the purge filters on.
fn session_envelope(session: &SessionRecord) -> Result<Envelope, StoreError> {
    Ok(Envelope {
        expires_at: Some(session.expires_at.timestamp()),
        ..Envelope::of(encode(RecordKind::Session, session)?)
    })
}

/// A precondition that failed because the document vanished or changed is a lost race on the approval.
fn lost_race(instance_id: &str) -> StoreError {
    StoreError::conflict(
        Record::new(RecordKind::Approval, instance_id),
        "another writer changed it at the same time; re-read and retry",
    )
}
