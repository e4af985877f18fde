//! The store's operation deadline: a Firestore endpoint that accepts connections and never answers
//! (a frozen emulator, a black-holed proxy) fails each operation as a retryable `Unavailable`
//! within the deadline, instead of holding the caller for as long as the backend hangs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tokendist_store::{Outage, StoreError, StoreOptions};

#[tokio::test]
async fn a_firestore_that_accepts_and_never_answers_is_unavailable_within_the_deadline() {
    // The kernel completes the handshakes into the listen backlog; nobody ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let options = StoreOptions {
        firestore_emulator_host: Some(silent.local_addr().unwrap().to_string()),
        operation_deadline: Duration::from_millis(300),
        ..StoreOptions::default()
    };
    let store = tokio::time::timeout(
        Duration::from_secs(20),
        tokendist_store::open("firestore://silent/(default)", &options),
    )
    .await
    .expect("opening the store waited on the silent endpoint")
    .unwrap();

    for attempt in 0..2 {
        let started = Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(20), store.get_approval("vm-1"))
            .await
            .expect("the operation had no deadline")
            .unwrap_err();
        assert!(
            matches!(
                &error,
                StoreError::Unavailable {
                    outage: Outage::Unreachable,
                    detail
                } if detail.contains("get_approval")
            ),
            "attempt {attempt}: {error:?}"
        );
        assert!(error.is_retryable());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
    drop(silent);
}
