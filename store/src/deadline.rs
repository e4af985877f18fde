//! Every store operation a request waits on gets a deadline: a backend that accepts connections and
//! never answers (a frozen Firestore, a hung network file system) fails the operation as
//! `Unavailable` after [`StoreOptions::operation_deadline`](crate::StoreOptions), instead of
//! holding the request — and the caller's connection — for as long as the backend hangs.
//!
//! An operation cut off here may still complete in the backend later (a Firestore commit already
//! sent): the caller has been told `Unavailable`, so at worst a write is recorded that nobody was
//! answered for (a session consumed, an event written), never an answer without its write. The
//! session purge is background maintenance and runs unbounded: a large backlog takes as long as it
//! takes, and no request waits on it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokendist_core::approval::Approval;
use tokendist_core::auditlog::watch::WatchState;

use crate::{
    AttestationRecord, EventQuery, EventRecord, Outage, PendingAttempt, PendingRecord, Revocation,
    SessionRecord, StepChange, Store, StoreError,
};

/// A backend whose every operation (but the purge) is bounded by `limit`.
#[derive(Debug)]
pub(crate) struct WithDeadline {
    inner: Arc<dyn Store>,
    limit: Duration,
}

impl WithDeadline {
    pub(crate) fn wrap(inner: Arc<dyn Store>, limit: Duration) -> Arc<dyn Store> {
        Arc::new(WithDeadline { inner, limit })
    }

    async fn bounded<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.limit, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::unavailable(
                Outage::Unreachable,
                format!(
                    "{operation} got no answer within {:?} (the store's operation deadline)",
                    self.limit
                ),
            )),
        }
    }
}

#[async_trait]
impl Store for WithDeadline {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded("ping", self.inner.ping()).await
    }
    async fn get_approval(&self, instance_id: &str) -> Result<Option<Approval>, StoreError> {
        self.bounded("get_approval", self.inner.get_approval(instance_id))
            .await
    }
    async fn list_approvals(&self) -> Result<Vec<Approval>, StoreError> {
        self.bounded("list_approvals", self.inner.list_approvals())
            .await
    }
    async fn put_approval(
        &self,
        approval: Approval,
        expected_revision: Option<u64>,
    ) -> Result<Approval, StoreError> {
        self.bounded(
            "put_approval",
            self.inner.put_approval(approval, expected_revision),
        )
        .await
    }
    async fn revoke(
        &self,
        instance_id: &str,
        revocation: Revocation,
    ) -> Result<Approval, StoreError> {
        self.bounded("revoke", self.inner.revoke(instance_id, revocation))
            .await
    }
    async fn upsert_pending(&self, attempt: &PendingAttempt) -> Result<PendingRecord, StoreError> {
        self.bounded("upsert_pending", self.inner.upsert_pending(attempt))
            .await
    }
    async fn get_pending(&self, instance_id: &str) -> Result<Option<PendingRecord>, StoreError> {
        self.bounded("get_pending", self.inner.get_pending(instance_id))
            .await
    }
    async fn list_pending(&self) -> Result<Vec<PendingRecord>, StoreError> {
        self.bounded("list_pending", self.inner.list_pending())
            .await
    }
    async fn remove_pending(&self, instance_id: &str) -> Result<bool, StoreError> {
        self.bounded("remove_pending", self.inner.remove_pending(instance_id))
            .await
    }
    async fn put_attestation(&self, record: &AttestationRecord) -> Result<(), StoreError> {
        self.bounded("put_attestation", self.inner.put_attestation(record))
            .await
    }
    async fn get_attestation(
        &self,
        instance_id: &str,
    ) -> Result<Option<AttestationRecord>, StoreError> {
        self.bounded("get_attestation", self.inner.get_attestation(instance_id))
            .await
    }
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.bounded("create_session", self.inner.create_session(session))
            .await
    }
    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.bounded("get_session", self.inner.get_session(session_id))
            .await
    }
    async fn advance_session(
        &self,
        id: &str,
        change: StepChange,
    ) -> Result<SessionRecord, StoreError> {
        self.bounded("advance_session", self.inner.advance_session(id, change))
            .await
    }
    async fn consume_session(
        &self,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, StoreError> {
        self.bounded(
            "consume_session",
            self.inner.consume_session(session_id, now),
        )
        .await
    }
    async fn purge_expired_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.purge_expired_sessions(before).await
    }
    async fn append_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        self.bounded("append_event", self.inner.append_event(event))
            .await
    }
    async fn record_release(&self, event: &EventRecord) -> Result<(), StoreError> {
        self.bounded("record_release", self.inner.record_release(event))
            .await
    }
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, StoreError> {
        self.bounded("list_events", self.inner.list_events(query))
            .await
    }
    async fn get_watch(&self, project: &str) -> Result<Option<WatchState>, StoreError> {
        self.bounded("get_watch", self.inner.get_watch(project))
            .await
    }
    async fn put_watch(
        &self,
        state: WatchState,
        expected_revision: Option<u64>,
    ) -> Result<WatchState, StoreError> {
        self.bounded("put_watch", self.inner.put_watch(state, expected_revision))
            .await
    }
}
