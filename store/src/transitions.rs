//! The compare-and-swap rules both backends apply between reading a record and writing it back, so
//! that SQLite and Firestore decide every race the same way.

use tokendist_core::approval::Approval;

use crate::error::{Record, RecordKind, StoreError};
use crate::records::{Revocation, SessionRecord, StepChange};

/// The revision an approval write stores, given the stored revision (`None`: no approval stored).
pub(crate) fn next_approval_revision(
    instance_id: &str,
    stored: Option<u64>,
    expected: Option<u64>,
) -> Result<u64, StoreError> {
    next_revision(
        Record::new(RecordKind::Approval, instance_id),
        stored,
        expected,
    )
}

/// The revision a compare-and-set write of `what` stores: 1 on creation (`expected: None`, nothing
/// stored), `expected + 1` when the stored revision is `expected`; otherwise why not.
pub(crate) fn next_revision(
    what: Record,
    stored: Option<u64>,
    expected: Option<u64>,
) -> Result<u64, StoreError> {
    let what = || what.clone();
    match (stored, expected) {
        (None, None) => Ok(1),
        (Some(current), None) => Err(StoreError::conflict(
            what(),
            format!("it already exists at revision {current}; pass that revision to update it"),
        )),
        (None, Some(_)) => Err(StoreError::not_found(what())),
        (Some(current), Some(expected)) if current == expected => Ok(current.saturating_add(1)),
        (Some(current), Some(expected)) => Err(StoreError::conflict(
            what(),
            format!("expected revision {expected}, stored revision is {current}"),
        )),
    }
}

/// The approval after revocation, or why it cannot be revoked.
pub(crate) fn revoked_approval(
    instance_id: &str,
    stored: Option<Approval>,
    revocation: Revocation,
) -> Result<Approval, StoreError> {
    let Revocation {
        reason,
        at,
        expected_revision,
    } = revocation;
    let mut approval = stored
        .ok_or_else(|| StoreError::not_found(Record::new(RecordKind::Approval, instance_id)))?;
    let revision = next_approval_revision(
        instance_id,
        Some(approval.revision),
        Some(expected_revision),
    )?;
    if let Some(revoked_at) = approval.revoked_at {
        return Err(StoreError::conflict(
            Record::new(RecordKind::Approval, instance_id),
            format!("already revoked at {}", revoked_at.to_rfc3339()),
        ));
    }
    approval.revision = revision;
    approval.revoked_at = Some(at);
    approval.revoke_reason = Some(reason);
    Ok(approval)
}

/// The session after `change`, or why it cannot move.
pub(crate) fn advanced_session(
    session_id: &str,
    stored: Option<SessionRecord>,
    change: StepChange,
) -> Result<SessionRecord, StoreError> {
    let StepChange {
        from,
        to,
        update,
        now,
    } = change;
    if to <= from {
        return Err(StoreError::InvalidTransition { from, to });
    }
    let what = || Record::new(RecordKind::Session, session_id);
    let mut session = stored.ok_or_else(|| StoreError::not_found(what()))?;
    if session.step != from {
        return Err(StoreError::conflict(
            what(),
            format!(
                "it is at step {:?}, not {from:?}: that step was already taken",
                session.step
            ),
        ));
    }
    if session.is_expired(now) {
        return Err(StoreError::SessionExpired {
            session_id: session_id.to_string(),
        });
    }
    session.step = to;
    if let Some(digest) = update.credential_digest {
        session.credential_digest = Some(digest);
    }
    if let Some(attestation) = update.attestation {
        session.attestation = Some(attestation);
    }
    if let Some(quote) = update.quote {
        session.quote = Some(quote);
    }
    Ok(session)
}
