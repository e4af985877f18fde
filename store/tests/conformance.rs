//! The store conformance suite: every case runs against SQLite (temp file) and the Firestore emulator,
//! as `CASE::sqlite` and `CASE::firestore`, so both backends decide every race the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

/// The cases (`conformance/cases.rs`): one async fn each, taking the backend under test.
mod conformance {
    pub mod cases;
}

/// Generates `mod CASE { fn sqlite(); fn firestore(); }` for each case in `cases`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let backend = crate::support::backends::Backend::sqlite().await;
                crate::conformance::cases::$case(&backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn firestore() {
                let backend = crate::support::backends::Backend::firestore().await;
                crate::conformance::cases::$case(&backend).await;
            }
        }
    )*};
}

conformance!(
    ping_answers,
    every_record_type_round_trips,
    every_typed_event_detail_round_trips,
    an_untyped_event_detail_lists_as_unrecognized,
    missing_records_read_as_none,
    approval_created_twice_conflicts,
    approval_update_with_stale_revision_conflicts,
    approval_update_of_missing_approval_is_not_found,
    concurrent_approve_and_revoke_exactly_one_wins,
    revoke_records_reason_and_cannot_repeat,
    pending_upsert_counts_attempts_and_keeps_first_seen,
    concurrent_pending_upserts_count_every_attempt,
    pending_record_removed_on_approval,
    session_step_can_be_taken_once,
    session_keeps_the_attested_keys_and_the_verified_quote,
    session_steps_only_move_forward,
    session_created_twice_conflicts,
    session_consumed_exactly_once_by_eight_concurrent_consumers,
    expired_session_is_refused,
    expired_sessions_are_purged_and_live_ones_kept,
    a_purge_of_many_expired_sessions_removes_them_all_while_writes_go_on,
    events_listed_newest_first_filtered_and_limited,
    a_release_appends_its_event_and_ends_pending_in_one_write,
    corrupt_approval_is_reported_not_panicked,
    corrupt_session_is_reported_not_panicked,
    watch_state_round_trips_and_stale_writes_conflict,
);
