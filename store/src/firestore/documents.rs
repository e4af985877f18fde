//! How records sit in Firestore: one document per record, holding the record as JSON text (`record`)
//! plus the key fields queries and compare-and-swap need. Also the low-level reads and conditional
//! writes the backend is built from, and the mapping of `firestore` errors to `StoreError`.

use firestore::FirestoreResult;
use firestore::errors::FirestoreError;
use firestore::gcloud_sdk::google::firestore::v1::Document;
use firestore::gcloud_sdk::prost_types::Timestamp;
use firestore::{FirestoreDb, FirestoreWritePrecondition};
use futures::TryStreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::codec::decode;
use crate::error::{Outage, Record, RecordKind, StoreError};

/// The stored form of every record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Envelope {
    /// The whole record, JSON.
    pub(crate) record: String,
    /// Approvals: the revision compare-and-swap checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revision: Option<i64>,
    /// Events: the instance they concern (equality filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) instance_id: Option<String>,
    /// Events: the time-ordered id (range filter and order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    /// Sessions: expiry in Unix seconds (the purge's range filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<i64>,
}

impl Envelope {
    pub(crate) fn of(record: String) -> Self {
        Envelope {
            record,
            ..Envelope::default()
        }
    }
}

/// A document as read: its envelope and the update time a conditional write must match.
#[derive(Debug)]
pub(crate) struct ReadDocument {
    pub(crate) envelope: Envelope,
    pub(crate) update_time: Timestamp,
}

/// The collection of one record kind, with the store's prefix in its name.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    pub(crate) name: String,
    pub(crate) kind: RecordKind,
}

impl Collection {
    /// The record with document id `id` in this collection, as errors name it.
    pub(crate) fn record(&self, id: &str) -> Record {
        Record::new(self.kind, id)
    }

    /// The collection as a whole, as errors about listing it name it.
    pub(crate) fn whole(&self) -> Record {
        Record::new(self.kind, "")
    }
}

/// Rejects ids Firestore cannot use as a document id (empty, `/`, `.`/`..`, `__reserved__`).
pub(crate) fn check_document_id(collection: &Collection, id: &str) -> Result<(), StoreError> {
    let reserved = id.starts_with("__") && id.ends_with("__");
    if id.is_empty() || id.contains('/') || id == "." || id == ".." || reserved || id.len() > 1500 {
        return Err(StoreError::Config(format!(
            "{} id {id:?} cannot be a Firestore document id (empty, contains '/', or reserved)",
            collection.name
        )));
    }
    Ok(())
}

/// Decodes a fetched document's envelope.
pub(crate) fn envelope_of(what: &Record, doc: &Document) -> Result<Envelope, StoreError> {
    FirestoreDb::deserialize_doc_to::<Envelope>(doc).map_err(|_| {
        StoreError::corrupt(what.clone(), "document is not a tokendist record envelope")
    })
}

/// Reads one document.
pub(crate) async fn read(
    db: &FirestoreDb,
    collection: &Collection,
    id: &str,
) -> Result<Option<ReadDocument>, StoreError> {
    let what = collection.record(id);
    check_document_id(collection, id)?;
    let doc = db
        .fluent()
        .select()
        .by_id_in(&collection.name)
        .one(id)
        .await
        .map_err(|e| map_error(&what, e))?;
    let Some(doc) = doc else { return Ok(None) };
    let envelope = envelope_of(&what, &doc)?;
    let update_time = doc
        .update_time
        .ok_or_else(|| StoreError::corrupt(what, "document has no update time"))?;
    Ok(Some(ReadDocument {
        envelope,
        update_time,
    }))
}

/// The revision a read document was stored at (`None`: no document), for a compare-and-set write.
pub(crate) fn stored_revision(
    collection: &Collection,
    id: &str,
    current: Option<&ReadDocument>,
) -> Result<Option<u64>, StoreError> {
    current
        .map(|doc| {
            doc.envelope
                .revision
                .and_then(|r| u64::try_from(r).ok())
                .ok_or_else(|| {
                    StoreError::corrupt(collection.record(id), "missing or negative revision")
                })
        })
        .transpose()
}

/// Reads and decodes one record (`None` when its document does not exist), with the update time a
/// conditional write must match.
pub(crate) async fn read_record<T: serde::de::DeserializeOwned>(
    db: &FirestoreDb,
    collection: &Collection,
    id: &str,
) -> Result<Option<(T, Timestamp)>, StoreError> {
    match read(db, collection, id).await? {
        Some(doc) => Ok(Some((
            decode(&collection.record(id), &doc.envelope.record)?,
            doc.update_time,
        ))),
        None => Ok(None),
    }
}

/// Creates a document; `Conflict` if it exists.
pub(crate) async fn create(
    db: &FirestoreDb,
    collection: &Collection,
    id: &str,
    envelope: &Envelope,
) -> Result<(), StoreError> {
    let absent = FirestoreWritePrecondition::Exists(false);
    update(db, collection, id, envelope, Some(absent)).await
}

/// Every document a listing or query streams, or the first error it met.
pub(crate) async fn all_documents(
    collection: &Collection,
    stream: FirestoreResult<BoxStream<'_, FirestoreResult<Document>>>,
) -> Result<Vec<Document>, StoreError> {
    let what = collection.whole();
    stream
        .map_err(|e| map_error(&what, e))?
        .try_collect()
        .await
        .map_err(|e| map_error(&what, e))
}

/// Creates or replaces a document: unconditionally (last writer wins: attestations only) without
/// `precondition`, else only if it holds (`Conflict` otherwise).
pub(crate) async fn update(
    db: &FirestoreDb,
    collection: &Collection,
    id: &str,
    envelope: &Envelope,
    precondition: Option<FirestoreWritePrecondition>,
) -> Result<(), StoreError> {
    check_document_id(collection, id)?;
    let update = db.fluent().update().in_col(&collection.name);
    let update = match precondition {
        Some(precondition) => update.precondition(precondition),
        None => update,
    };
    let written = update
        .document_id(id)
        .object(envelope)
        .execute::<Envelope>()
        .await;
    written
        .map(|_| ())
        .map_err(|e| map_error(&collection.record(id), e))
}

/// Creates `id` if `previous` is `None`, else replaces it if unchanged since it was read at that
/// update time (`Conflict` otherwise).
pub(crate) async fn write_after_read(
    db: &FirestoreDb,
    collection: &Collection,
    id: &str,
    envelope: &Envelope,
    previous: Option<&Timestamp>,
) -> Result<(), StoreError> {
    let Some(read_at) = previous else {
        return create(db, collection, id, envelope).await;
    };
    let instant = firestore::timestamp_utils::from_timestamp(*read_at).map_err(|_| {
        StoreError::corrupt(collection.record(id), "document update time out of range")
    })?;
    let precondition = FirestoreWritePrecondition::UpdateTime(instant);
    update(db, collection, id, envelope, Some(precondition)).await
}

/// Maps a `firestore` error on `what`: lost preconditions are conflicts, transport trouble is
/// retryable. (The `firestore` crate gives a database error's gRPC code only as its name.)
pub(crate) fn map_error(what: &Record, error: FirestoreError) -> StoreError {
    let what = what.clone();
    match error {
        FirestoreError::DataConflictError(_) => {
            StoreError::conflict(what, "the document already exists")
        }
        FirestoreError::DataNotFoundError(_) => StoreError::not_found(what),
        FirestoreError::DatabaseError(e)
            if e.public.code == "FailedPrecondition" || e.public.code == "Aborted" =>
        {
            StoreError::conflict(what, "the document changed since it was read")
        }
        FirestoreError::DatabaseError(e) if e.public.code == "InvalidArgument" => {
            StoreError::Config(format!(
                "Firestore rejected the request on {what}: {}",
                e.details
            ))
        }
        FirestoreError::DatabaseError(e)
            if e.public.code == "PermissionDenied" || e.public.code == "Unauthenticated" =>
        {
            StoreError::Config(format!(
                "Firestore denied access on {what}: {}; check the credentials and their IAM roles",
                e.details
            ))
        }
        FirestoreError::DeserializeError(_) => {
            StoreError::corrupt(what, "undecodable Firestore document")
        }
        other => StoreError::unavailable(
            Outage::Unreachable,
            format!("Firestore request on {what} failed: {other}"),
        ),
    }
}
