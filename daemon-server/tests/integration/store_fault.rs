//! Store faults are UNAVAILABLE and heal (DESIGN §4, §6): the real `tokenserver` on a SQLite store
//! whose files become unwritable while it runs answers UNAVAILABLE (never INTERNAL, never the store's
//! own text) — including on connections SQLite could only open read-only — and once the files are
//! writable again the next request succeeds in the same process, without a restart. A session record
//! the server did not write (planted by a store writer) is a named refusal, never INTERNAL.
//!
//! Tests run as root, where `chmod` does not stop writes; the files are made immutable with
//! `chattr +i` instead (needs CAP_LINUX_IMMUTABLE and an ext4/xfs/btrfs/tmpfs file system).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::client::{Client, try_begin_session};
use crate::support::world::World;
use tokendist_proto::v1 as pb;
use tonic::Code;

/// Files made immutable for the guard's lifetime (and writable again when it drops, even on panic,
/// so the temporary directory can be removed).
struct Immutable {
    paths: Vec<PathBuf>,
}

impl Immutable {
    /// Makes `paths` immutable. A machine that cannot (no CAP_LINUX_IMMUTABLE, or a file system
    /// without the attribute) fails the test: it never passes by skipping.
    fn set(paths: &[PathBuf]) -> Immutable {
        let guard = Immutable {
            paths: paths.to_vec(),
        };
        for path in paths {
            let status = Command::new("chattr").arg("+i").arg(path).status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "chattr +i {} failed: the store-fault test needs root with CAP_LINUX_IMMUTABLE on \
                 ext4/xfs/btrfs (chattr is in e2fsprogs)",
                path.display()
            );
        }
        guard
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.paths {
            let _ = Command::new("chattr").arg("-i").arg(path).status();
        }
    }
}

/// The database file and its WAL (the -shm stays writable: it is shared memory, not data).
fn store_files(dir: &Path) -> Vec<PathBuf> {
    ["tokendist.db", "tokendist.db-wal"]
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.exists())
        .collect()
}

/// BeginSession on a clone of `client` (one channel, many concurrent requests).
async fn begin(client: &Client, token: &str) -> Result<pb::BeginSessionResponse, tonic::Status> {
    try_begin_session(&mut client.clone(), token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_sqlite_file_is_unavailable_and_the_same_server_heals_when_it_is_writable() {
    let world = World::start().await;
    let config = world.path("server.toml");
    std::fs::write(&config, world.config_without_rate_limits()).unwrap();
    let server = world.server_with_config("server", &config).await;
    let client = world.client(server.addr).await;
    let token = world.good_token();
    begin(&client, &token).await.unwrap();

    let files = store_files(world.dir.path());
    assert!(
        files.len() == 2,
        "expected the database and its WAL: {files:?}"
    );
    let guard = Immutable::set(&files);
    // Many requests at once, so the server opens new connections while the files are unwritable
    // (SQLite then opens them read-only), and one after another on whatever it kept.
    let concurrent = futures::future::join_all((0..8).map(|_| begin(&client, &token))).await;
    let mut sequential = Vec::new();
    for _ in 0..4 {
        sequential.push(begin(&client, &token).await);
    }
    for result in concurrent.into_iter().chain(sequential) {
        let status = result.expect_err("a session was written to an unwritable store");
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        for leak in ["SQLite", "sqlite", "tokendist.db", "readonly", "read-only"] {
            assert!(!status.message().contains(leak), "{status:?}");
        }
    }

    drop(guard);
    // The very next request succeeds, and so do the ones after it: no connection was kept stuck.
    for attempt in 0..8 {
        let result = begin(&client, &token).await;
        assert!(
            result.is_ok(),
            "request {attempt} after the fault: {result:?}"
        );
    }
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_record_the_server_did_not_write_is_a_named_refusal_never_internal() {
    let world = World::start().await;
    let server = world.server("server").await;
    let client = world.client(server.addr).await;
    // Someone with write access to the store plants a session whose nonce is not hex.
    let now = chrono::Utc::now();
    let planted = tokendist_store::SessionRecord {
        session_id: "0123456789abcdef0123456789abcdef".into(),
        instance_id: support::GOOD_VM_ID.into(),
        nonce: "not a nonce".into(),
        created_at: now,
        expires_at: now + chrono::Duration::minutes(2),
        step: tokendist_store::SessionStep::Begun,
        credential_digest: None,
        pcr_hash_alg: 0x000B,
        pcr_selection: vec![0],
        attestation: None,
        quote: None,
    };
    world.store.create_session(&planted).await.unwrap();

    let status = client
        .clone()
        .get_token(support::client::with_token(
            pb::TokenRequest {
                session_id: planted.session_id.clone(),
            },
            &world.good_token(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("BeginSession"), "{status:?}");
    assert!(!status.message().contains("hex"), "{status:?}");
    assert!(
        server
            .log_text()
            .contains("session record in the store is unreadable"),
        "{}",
        server.log_text()
    );
}

/// `kill -SIGNAL pid`.
fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// Releases of the good VM recorded as `released` events.
async fn released_events(store: &dyn tokendist_store::Store) -> usize {
    let mut query = tokendist_store::EventQuery::latest(10_000);
    query.instance_id = Some(support::GOOD_VM_ID.to_string());
    store
        .list_events(&query)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.kind == tokendist_store::EventKind::Released)
        .count()
}

/// The Firestore emulator frozen (SIGSTOP: a store that accepts connections and never answers) and
/// then SIGKILLed and restarted empty: the server answers UNAVAILABLE within its store deadline
/// while the store is away, never a release or INTERNAL; once it is back the same server serves again
/// without a restart — and with the emulator's memory gone it fails closed (no approval: denied)
/// until the approval is written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firestore_emulator_frozen_then_killed_is_unavailable_and_the_same_server_heals() {
    use support::approvals::{approve, sample_secrets};
    use support::world::{demo_toml, scenario_from};

    let mut emulator = tokio::task::spawn_blocking(tokendist_testkit::FirestoreEmulator::start)
        .await
        .unwrap();
    let project = format!("fault-{}", hex::encode(rand::random::<[u8; 6]>()));
    let url = format!("firestore://{project}/(default)?collection_prefix=td_");
    let options = tokendist_store::StoreOptions {
        firestore_emulator_host: Some(emulator.host().to_string()),
        ..tokendist_store::StoreOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::start_with_store(scenario_from(&demo_toml()), dir, url, options).await;
    world.server_env.push((
        "FIRESTORE_EMULATOR_HOST".into(),
        emulator.host().to_string(),
    ));
    approve(&world, support::GOOD_VM, &sample_secrets("firestore")).await;
    let config = world.path("server.toml");
    std::fs::write(&config, world.config_without_rate_limits()).unwrap();
    let server = world.server_with_config("server", &config).await;
    let mut client = world.client(server.addr).await;
    for _ in 0..3 {
        world.release(&mut client, support::GOOD_VM).await.unwrap();
    }
    let pid = emulator.pid().unwrap();

    // Frozen, with eight releases in flight: every answer is UNAVAILABLE, within a bounded time.
    signal(pid, "STOP");
    let started = std::time::Instant::now();
    let in_flight = (0..8).map(|_| {
        let mut caller = client.clone();
        let world = &world;
        async move { world.release(&mut caller, support::GOOD_VM).await }
    });
    let frozen = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        futures::future::join_all(in_flight),
    )
    .await;
    signal(pid, "CONT");
    let frozen = frozen.unwrap_or_else(|_| {
        panic!(
            "releases waited more than 60 s on a frozen store\n{}",
            server.log_text()
        )
    });
    for result in frozen {
        let status = result.expect_err("a release while the store was frozen");
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    eprintln!(
        "frozen store: 8 x UNAVAILABLE after {:?}",
        started.elapsed()
    );

    // Thawed: the same server serves, and every acknowledged release has its event.
    world
        .release(&mut client, support::GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("after the thaw: {status:?}\n{}", server.log_text()));
    assert_eq!(released_events(world.store.as_ref()).await, 4);

    // Killed and restarted empty on the same port.
    emulator.restart();
    let after = world.release(&mut client, support::GOOD_VM).await;
    let status = after.expect_err("a release from a store that lost its approval");
    assert!(
        matches!(status.code(), Code::PermissionDenied | Code::Unavailable),
        "{status:?}"
    );
    world.store = tokendist_store::open(&world.store_url, &world.store_options)
        .await
        .unwrap();
    approve(&world, support::GOOD_VM, &sample_secrets("firestore-again")).await;
    world
        .release(&mut client, support::GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("after the restart: {status:?}\n{}", server.log_text()));
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}
