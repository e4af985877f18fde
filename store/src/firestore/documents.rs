//! How records sit in Firestore: one document per record, holding the record as JSON text (`record`)
//! plus the key fields queries and compare-and-swap need. Also the low-level reads and conditional
//! writes the backend is built from, and the mapping of `firestore` errors to `StoreError`.

use firestore::errors::FirestoreError;
use firestore::gcloud_sdk::prost_types::Timestamp;
use firestore::{FirestoreDb, FirestoreWritePrecondition};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

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

/// Rejects ids Firestore cannot use as a document id (empty, `/`, `.`/`..`, `__reserved__`).
pub(crate) fn check_document_id(what: &str, id: &str) -> Result<(), StoreError> {
    let reserved = id.starts_with("__") && id.ends_with("__");
    if id.is_empty() || id.contains('/') || id == "." || id == ".." || reserved || id.len() > 1500 {
        return Err(StoreError::Config(format!(
            "{what} id {id:?} cannot be a Firestore document id (empty, contains '/', or reserved)"
        )));
    }
    Ok(())
}

/// Decodes a fetched document's envelope.
pub(crate) fn envelope_of(
    what: &str,
    doc: &firestore::gcloud_sdk::google::firestore::v1::Document,
) -> Result<Envelope, StoreError> {
    FirestoreDb::deserialize_doc_to::<Envelope>(doc)
        .map_err(|_| StoreError::corrupt(what, "document is not a tokendist record envelope"))
}

/// Reads one document.
pub(crate) async fn read(
    db: &FirestoreDb,
    collection: &str,
    id: &str,
) -> Result<Option<ReadDocument>, StoreError> {
    let what = format!("{collection}/{id}");
    check_document_id(collection, id)?;
    let doc = db
        .fluent()
        .select()
        .by_id_in(collection)
        .one(id)
        .await
        .map_err(|e| map_error(&what, e))?;
    let Some(doc) = doc else { return Ok(None) };
    let envelope = envelope_of(&what, &doc)?;
    let update_time = doc
        .update_time
        .ok_or_else(|| StoreError::corrupt(&what, "document has no update time"))?;
    Ok(Some(ReadDocument {
        envelope,
        update_time,
    }))
}

/// Creates a document; `Conflict` if it exists.
pub(crate) async fn create(
    db: &FirestoreDb,
    collection: &str,
    id: &str,
    envelope: &Envelope,
) -> Result<(), StoreError> {
    let what = format!("{collection}/{id}");
    check_document_id(collection, id)?;
    db.fluent()
        .insert()
        .into(collection)
        .document_id(id)
        .object(envelope)
        .execute::<Envelope>()
        .await
        .map(|_| ())
        .map_err(|e| map_error(&what, e))
}

/// Replaces a document only if it has not changed since `read_at`; `Conflict` otherwise.
pub(crate) async fn replace_unchanged(
    db: &FirestoreDb,
    collection: &str,
    id: &str,
    envelope: &Envelope,
    read_at: &Timestamp,
) -> Result<(), StoreError> {
    let what = format!("{collection}/{id}");
    let instant = firestore::timestamp_utils::from_timestamp(*read_at)
        .map_err(|_| StoreError::corrupt(&what, "document update time out of range"))?;
    db.fluent()
        .update()
        .in_col(collection)
        .precondition(FirestoreWritePrecondition::UpdateTime(instant))
        .document_id(id)
        .object(envelope)
        .execute::<Envelope>()
        .await
        .map(|_| ())
        .map_err(|e| map_error(&what, e))
}

/// Creates `id` if `previous` is `None`, else replaces it if unchanged since it was read.
pub(crate) async fn write_after_read(
    db: &FirestoreDb,
    collection: &str,
    id: &str,
    envelope: &Envelope,
    previous: Option<&Timestamp>,
) -> Result<(), StoreError> {
    match previous {
        None => create(db, collection, id, envelope).await,
        Some(read_at) => replace_unchanged(db, collection, id, envelope, read_at).await,
    }
}

/// Creates or replaces a document unconditionally (last writer wins: attestations only).
pub(crate) async fn put(
    db: &FirestoreDb,
    collection: &str,
    id: &str,
    envelope: &Envelope,
) -> Result<(), StoreError> {
    let what = format!("{collection}/{id}");
    check_document_id(collection, id)?;
    db.fluent()
        .update()
        .in_col(collection)
        .document_id(id)
        .object(envelope)
        .execute::<Envelope>()
        .await
        .map(|_| ())
        .map_err(|e| map_error(&what, e))
}

/// Maps a `firestore` error on `what`: lost preconditions are conflicts, transport trouble is retryable.
pub(crate) fn map_error(what: &str, error: FirestoreError) -> StoreError {
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
        other => StoreError::Unavailable(format!("Firestore request on {what} failed: {other}")),
    }
}
