//! Faults injected under the real `tokenserver` (issue 14): each Google API answering 429/500/503 or
//! slower than the server's timeout, a fraction of Compute calls failing, the SQLite store locked by
//! another process or on a full disk, and the server SIGKILLed in the middle of sessions. For each:
//! a refusal is UNAVAILABLE (never a release, never INTERNAL), the same server heals without a
//! restart once the fault clears, and every release the server acknowledged has its `released`
//! event in the store.
//!
//! (The unwritable-file fault is in `store_fault.rs`; Firestore faults in `store_and_replicas.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::Client;
use crate::support::world::{World, demo_toml, scenario_from};
use crate::support::{GOOD_VM, GOOD_VM_ID};
use tokendist_sim::{Api, FaultSpec};
use tokendist_store::{EventKind, EventQuery, StoreOptions};
use tonic::Code;

/// The server's wait for one Google call in these tests (the default is longer).
const GOOGLE_TIMEOUT_MS: u64 = 800;

/// The world's configuration with per-instance rate limits out of the way and a short Google timeout.
fn write_config(world: &World) -> PathBuf {
    let text = world.config_without_rate_limits().replacen(
        "retry = \"none\"\n",
        &format!("retry = \"none\"\nrequest_timeout_ms = {GOOGLE_TIMEOUT_MS}\n"),
        1,
    );
    assert!(text.contains("request_timeout_ms"), "{text}");
    let path = world.path("faults.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A refusal during a fault: UNAVAILABLE, and nothing of the store or Google's text in it.
fn assert_unavailable(
    result: &Result<tokendist_proto::v1::TokenResponse, tonic::Status>,
    what: &str,
) {
    match result {
        Ok(_) => panic!("{what}: a release during the fault"),
        Err(status) => {
            assert_eq!(status.code(), Code::Unavailable, "{what}: {status:?}");
            for leak in [
                "SQLite",
                "sqlite",
                "tokendist.db",
                "No space",
                "locked",
                "database",
            ] {
                assert!(!status.message().contains(leak), "{what}: {status:?}");
            }
        }
    }
}

/// Releases of the good VM the store holds a `released` event for.
async fn released_events(world: &World) -> usize {
    let mut query = EventQuery::latest(100_000);
    query.instance_id = Some(GOOD_VM_ID.to_string());
    world
        .store
        .list_events(&query)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.kind == EventKind::Released)
        .count()
}

fn fault(api: Api, status: Option<u16>, rate: Option<f64>, latency_ms: Option<u64>) -> FaultSpec {
    FaultSpec {
        api,
        status,
        count: None,
        rate,
        latency_ms,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_google_api_failing_or_too_slow_is_unavailable_and_the_same_server_heals() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("faults")).await;
    let config = write_config(&world);
    let server = world.server_with_config("server", &config).await;
    let mut client = world.client(server.addr).await;
    let mut acknowledged = 0;

    // JWKS first, while the server has no keys cached (later its cache rightly covers an outage).
    let jwks_faults = [
        fault(Api::Jwks, Some(503), None, None),
        fault(Api::Jwks, None, None, Some(GOOGLE_TIMEOUT_MS * 3)),
    ];
    for spec in jwks_faults {
        world.sim.handle().inject_fault(spec.clone()).unwrap();
        assert_unavailable(
            &world.release(&mut client, GOOD_VM).await,
            &format!("{spec:?}"),
        );
        world.sim.handle().clear_faults(Some(Api::Jwks));
    }
    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| {
            panic!("after the JWKS faults: {status:?}\n{}", server.log_text())
        });
    acknowledged += 1;

    for api in [Api::Compute, Api::Logging] {
        let specs = [
            fault(api, Some(429), None, None),
            fault(api, Some(500), None, None),
            fault(api, Some(503), None, None),
            fault(api, None, None, Some(GOOGLE_TIMEOUT_MS * 3)),
        ];
        for spec in specs {
            world.sim.handle().inject_fault(spec.clone()).unwrap();
            let started = Instant::now();
            let result = world.release(&mut client, GOOD_VM).await;
            assert_unavailable(&result, &format!("{spec:?}"));
            // A slow Google is cut at the server's timeout, not waited out.
            assert!(
                started.elapsed() < Duration::from_millis(GOOGLE_TIMEOUT_MS * 3),
                "{spec:?} took {:?}",
                started.elapsed()
            );
            world.sim.handle().clear_faults(Some(api));
            // The very next release succeeds: nothing was left broken by the fault.
            world
                .release(&mut client, GOOD_VM)
                .await
                .unwrap_or_else(|status| {
                    panic!("after {spec:?}: {status:?}\n{}", server.log_text())
                });
            acknowledged += 1;
        }
    }

    // A fifth of Compute calls fail: each release either passes or is UNAVAILABLE, never otherwise.
    world
        .sim
        .handle()
        .inject_fault(fault(Api::Compute, Some(503), Some(0.2), None))
        .unwrap();
    let (mut passed, mut unavailable) = (0, 0);
    for _ in 0..24 {
        match world.release(&mut client, GOOD_VM).await {
            Ok(_) => passed += 1,
            result @ Err(_) => {
                assert_unavailable(&result, "Compute failing at rate 0.2");
                unavailable += 1;
            }
        }
    }
    world.sim.handle().clear_faults(Some(Api::Compute));
    assert!(
        passed > 0 && unavailable > 0,
        "passed {passed}, unavailable {unavailable}"
    );
    acknowledged += passed;

    assert_eq!(released_events(&world).await, acknowledged);
    assert!(world.store.list_pending().await.unwrap().is_empty());
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

/// A process that holds SQLite's write lock on `db` (python3's sqlite3 module: another program on
/// the same file, as an operator's `sqlite3` shell would be) until it is killed.
struct LockHolder {
    child: Child,
}

impl LockHolder {
    fn hold(db: &Path) -> LockHolder {
        let script = "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             time.sleep(600)\n";
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(db)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed to hold the SQLite lock (apt install python3)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(
            line.trim(),
            "locked",
            "the lock holder did not take the lock"
        );
        LockHolder { child }
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_locked_by_another_process_is_unavailable_and_heals() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("locked")).await;
    let config = write_config(&world);
    let server = world.server_with_config("server", &config).await;
    let mut client = world.client(server.addr).await;
    world.release(&mut client, GOOD_VM).await.unwrap();

    let holder = LockHolder::hold(&world.path("tokendist.db"));
    let started = Instant::now();
    let result = world.release(&mut client, GOOD_VM).await;
    assert_unavailable(&result, "store locked");
    // The server waited its busy timeout (5 s by default) and no longer.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    drop(holder);

    world
        .release(&mut client, GOOD_VM)
        .await
        .unwrap_or_else(|status| panic!("after the lock: {status:?}\n{}", server.log_text()));
    assert_eq!(released_events(&world).await, 2);
}

/// A small tmpfs mounted for the guard's lifetime (lazily unmounted when it drops, even on panic).
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` at `path`. A machine that cannot mount (not root, no CAP_SYS_ADMIN)
    /// fails the test: it never passes by skipping.
    fn mount(path: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(path).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tokendist-full-disk",
            ])
            .arg(path)
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "mounting a tmpfs at {} failed: the full-disk test needs root (CAP_SYS_ADMIN)",
            path.display()
        );
        SmallDisk {
            path: path.to_path_buf(),
        }
    }

    /// Writes zeros to `name` until the file system is full; returns the file.
    fn fill(&self, name: &str) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join(name);
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 16 * 1024];
        loop {
            match file.write_all(&block) {
                Ok(()) => continue,
                Err(error) if error.raw_os_error() == Some(28) => break, // ENOSPC
                Err(error) => panic!("filling {}: {error}", filler.display()),
            }
        }
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_the_sqlite_store_is_unavailable_and_heals_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("disk"), "8m");
    let url = format!("sqlite://{}", disk.path.join("tokendist.db").display());
    let world = World::start_with_store(
        scenario_from(&demo_toml()),
        dir,
        url,
        StoreOptions::default(),
    )
    .await;
    approve(&world, GOOD_VM, &sample_secrets("full")).await;
    let config = write_config(&world);
    let server = world.server_with_config("server", &config).await;
    let mut client = world.client(server.addr).await;
    world.release(&mut client, GOOD_VM).await.unwrap();
    let mut acknowledged = 1;

    let filler = disk.fill("filler");
    // SQLite may still fit a few writes in pages its WAL already holds; the disk being full shows
    // within a few dozen releases. Every answer meanwhile is a release or UNAVAILABLE.
    let mut refused = 0;
    for _ in 0..60 {
        match world.release(&mut client, GOOD_VM).await {
            Ok(_) => acknowledged += 1,
            result @ Err(_) => {
                assert_unavailable(&result, "disk full");
                refused += 1;
                if refused == 3 {
                    break;
                }
            }
        }
    }
    assert_eq!(
        refused, 3,
        "60 releases on a full disk and fewer than 3 refusals"
    );
    eprintln!(
        "{} releases fit on the full disk before 3 refusals",
        acknowledged - 1
    );

    std::fs::remove_file(&filler).unwrap();
    for attempt in 0..4 {
        world
            .release(&mut client, GOOD_VM)
            .await
            .unwrap_or_else(|status| {
                panic!(
                    "release {attempt} after space returned: {status:?}\n{}",
                    server.log_text()
                )
            });
        acknowledged += 1;
    }
    assert_eq!(released_events(&world).await, acknowledged);
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
    drop(server);
    drop(disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_session_loses_no_acknowledged_release_and_its_sessions_complete_once()
{
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("killed")).await;
    let config = write_config(&world);
    let mut server = world.server_with_config("first", &config).await;
    let client = world.client(server.addr).await;

    // A session begun on the first server, to be completed on the second.
    let mut opener = client.clone();
    let open = support::client::try_begin_session(&mut opener, &world.token(GOOD_VM))
        .await
        .unwrap();

    // Eight callers releasing one after another when the server is SIGKILLed.
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let finished = &finished;
        let mut caller: Client = client.clone();
        let first = world.token(GOOD_VM);
        let world_ref = &world;
        tasks.push(async move {
            let mut outcomes = Vec::new();
            let mut token = first;
            for _ in 0..500 {
                let result = async {
                    let session = support::client::try_begin_session(&mut caller, &token).await?;
                    support::client::get_token(
                        &mut caller,
                        &world_ref.session_token(GOOD_VM, &session),
                        &session.session_id,
                    )
                    .await
                }
                .await;
                let stop = result.is_err();
                if !stop {
                    finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                outcomes.push(result);
                if stop {
                    break;
                }
                token = world_ref.token(GOOD_VM);
            }
            outcomes
        });
    }
    // The kill lands once a few releases are through, whatever the machine's speed.
    let killer = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while finished.load(std::sync::atomic::Ordering::SeqCst) < 8 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.signal("KILL");
    };
    let (outcomes, ()) = tokio::join!(futures::future::join_all(tasks), killer);
    let _ = server.wait_exit(Duration::from_secs(10)).await;
    let acknowledged = outcomes.iter().flatten().filter(|r| r.is_ok()).count();
    for result in outcomes.iter().flatten() {
        if let Err(status) = result {
            // The connection died with the server: an transport error, never a denial.
            assert!(
                matches!(
                    status.code(),
                    Code::Unavailable | Code::Unknown | Code::Cancelled
                ),
                "{status:?}"
            );
            assert_ne!(status.code(), Code::PermissionDenied, "{status:?}");
        }
    }
    assert!(acknowledged >= 8, "{acknowledged} releases before the kill");
    let cut = outcomes
        .iter()
        .filter(|o| o.last().is_some_and(Result::is_err))
        .count();
    assert_eq!(cut, 8, "every caller's last request died with the server");
    eprintln!("{acknowledged} releases acknowledged before the SIGKILL");
    // Every release a caller saw has its event (the event is written before the answer).
    let recorded = released_events(&world).await;
    assert!(
        recorded >= acknowledged,
        "{acknowledged} releases acknowledged, {recorded} recorded"
    );

    // A second server on the same store finishes the session the first one began, exactly once.
    let second = world.server_with_config("second", &config).await;
    let mut client = world.client(second.addr).await;
    let token = world.session_token(GOOD_VM, &open);
    support::client::get_token(&mut client, &token, &open.session_id)
        .await
        .unwrap_or_else(|status| panic!("{status:?}\n{}", second.log_text()));
    let again = support::client::get_token(
        &mut client,
        &world.session_token(GOOD_VM, &open),
        &open.session_id,
    )
    .await;
    assert!(again.is_err(), "a session completed twice");
    assert_eq!(released_events(&world).await, recorded + 1);
    world.release(&mut client, GOOD_VM).await.unwrap();
}
