//! End-to-end: the real gcpsim, tokenserver, tokendist and tokenclient binaries, sequenced by their
//! ready protocols. A VM waits pending, Alice approves, the secrets arrive byte-identical within one
//! poll interval with a receipt; tampering and revocation take them away again; another VM replaying
//! the first one's identity with its own TPM is refused on `tpm.ek`; no log ever holds a secret. The
//! client's `/readyz` says it waits for approval, then `tokenclient status` finds it ready.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::{Client, DEADLINE, GOOD_VM, GOOD_VM_ID, POLL_INTERVAL, World, ZONE};
use tokendist_store::EventKind;
use tokendist_testkit::journal::{free_port, http_get};

/// Slack for one attempt (a full TPM session on a loaded 2-core machine) on top of the poll interval.
const ATTEMPT_SLACK: Duration = Duration::from_secs(10);

/// Starts the good VM's client (with its swtpm when there is one) and waits until it is pending.
async fn pending_client(world: &World) -> Client {
    pending_client_with(world, &[]).await
}

/// [`pending_client`] with `extra` flags.
async fn pending_client_with(world: &World, extra: &[&str]) -> Client {
    let client = world
        .client("tokenclient", GOOD_VM, world.vm_tpm.as_ref(), extra)
        .await;
    let status = client
        .daemon
        .wait_for("STATUS=pending approval", DEADLINE)
        .await;
    assert!(status.contains("approval.state"), "{status}");
    client
}

async fn get(address: SocketAddr, path: &'static str) -> (u16, String) {
    tokio::task::spawn_blocking(move || http_get(address, path))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("nothing answers {path} on {address}"))
}

/// Once its secrets are delivered the client is ready (`tokenclient status` exits 0) and its
/// metrics count the release.
async fn assert_ready_with_its_secrets(metrics: SocketAddr, secrets: usize) {
    let address = metrics.to_string();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(support::bin("tokenclient"))
            .args(["status", "--address", &address])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(status.status.code(), Some(0), "{status:?}");
    assert_eq!(String::from_utf8_lossy(&status.stdout), "ready\n");
    let (_, text) = get(metrics, "/metrics").await;
    for line in [
        "tokenclient_attempts_total{outcome=\"released\"} 1".to_string(),
        format!("tokenclient_secrets_delivered {secrets}"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
}

/// Approves and waits for delivery; returns the time from approval to secrets on disk.
async fn approve_and_receive(world: &World, client: &Client) -> Duration {
    let run = world.approve().await;
    assert_eq!(run.code, 0, "approve failed: {run:?}");
    let approved = Instant::now();
    client
        .assert_receives(&world.secrets, POLL_INTERVAL + ATTEMPT_SLACK)
        .await;
    approved.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_vm_is_listed_with_its_failed_checks_then_receives_every_secret_after_approval() {
    let mut world = World::start().await;
    let metrics = free_port();
    let address = metrics.to_string();
    let client = pending_client_with(&world, &["--metrics-listen", &address]).await;
    // The pending record is in the store a moment before the client has read its answer: ask
    // until it says where it stands (never ready: it has no approval).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (code, body) = loop {
        let (code, body) = get(metrics, "/readyz").await;
        if !body.starts_with("starting:") || Instant::now() >= deadline {
            break (code, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("waiting for approval since "), "{body}");
    let sealing = world.vm_tpm.is_some();
    if sealing {
        // The pending attempts put a verified quote on record; seal a TPM secret to it.
        world.add_sealed_secret().await;
    }

    let listed = world.listed(GOOD_VM).await;
    assert_eq!(listed["state"], "pending", "{listed}");
    assert_eq!(listed["instance_id"], GOOD_VM_ID);
    let failed: Vec<&str> = listed["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(failed.contains(&"approval.state"), "{listed}");
    assert!(listed["attempts"].as_u64().unwrap() >= 1);

    let elapsed = approve_and_receive(&world, &client).await;
    println!("approval to secrets on disk: {elapsed:?}");
    if sealing {
        assert!(client.secrets_dir.join("sealed-token").exists());
        // Sealed to the vTPM: the release needed the full attestation and the TPM opened it.
        assert!(
            client.daemon.log_text().contains("attested=true"),
            "{}",
            client.daemon.log_text()
        );
    }
    assert!(elapsed <= POLL_INTERVAL + ATTEMPT_SLACK);
    assert_ready_with_its_secrets(metrics, world.secrets.by_name().len()).await;

    let events = world.events().await;
    let releases: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Released)
        .collect();
    assert_eq!(releases.len(), 1, "{events:?}");
    let receipt = releases[0].receipt.as_ref().expect("release has a receipt");
    assert_eq!(receipt["instance_id"], GOOD_VM_ID, "{receipt}");
    assert!(receipt["signature"].as_str().is_some_and(|s| !s.is_empty()));
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_the_vm_denies_the_next_attempt_and_removes_the_secrets() {
    let world = World::start().await;
    let client = world.pending_good_vm().await;
    approve_and_receive(&world, &client).await;

    world.gcloud(&[
        "compute",
        "instances",
        "add-metadata",
        GOOD_VM,
        "--zone",
        ZONE,
        "--metadata",
        "user-data=#cloud-config\nruncmd: [\"bash -c 'sleep infinity'\"]",
    ]);

    // One attempt's evidence can straddle gcloud's change (the instance read just before it, the
    // audit log just after): that denial names only auditlog.clean. The attempts after it see the new
    // user-data as well, so wait (boundedly) for a denial that names both.
    let mut denied = client.daemon.wait_for("STATUS=denied", DEADLINE).await;
    for _ in 0..5 {
        if denied.contains("instance.user_data") {
            break;
        }
        denied = client.daemon.wait_for("STATUS=denied", DEADLINE).await;
    }
    assert!(denied.contains("instance.user_data"), "{denied}");
    assert!(denied.contains("auditlog.clean"), "{denied}");
    // The first denial already withdrew the secrets; its status may have gone by while we waited.
    let removed = |seen: &Vec<String>| seen.iter().any(|m| m.contains("STATUS=secrets removed"));
    if !removed(&client.daemon.seen()) {
        client
            .daemon
            .wait_for("STATUS=secrets removed", DEADLINE)
            .await;
    }
    for name in world.secrets.by_name().keys() {
        assert!(
            !client.secrets_dir.join(name).exists(),
            "{name} still on disk"
        );
    }
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_seen_by_re_attestation_which_removes_the_secrets() {
    let world = World::start().await;
    let client = world.pending_good_vm().await;
    approve_and_receive(&world, &client).await;

    let key = world.path("alice.key").display().to_string();
    let run = world
        .tokendist(&[
            "revoke",
            GOOD_VM,
            "--reason",
            "e2e revocation",
            "--key",
            &key,
            "--yes",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");

    client
        .assert_revoked(&world.secrets, "approval.state")
        .await;
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_vm_replaying_the_first_vms_identity_with_its_own_tpm_is_denied_on_tpm_ek() {
    let world = World::start().await;
    if world.vm_tpm.is_none() {
        return;
    }
    let impostor_tpm = tokendist_testkit::Swtpm::start_with_new_identity()
        .await
        .unwrap();
    // Same metadata server (the good VM's identity tokens), different vTPM.
    let impostor = world
        .client("impostor", GOOD_VM, Some(&impostor_tpm), &[])
        .await;
    let status = impostor.daemon.wait_for("tpm.ek", DEADLINE).await;
    assert!(
        status.contains("STATUS=denied") || status.contains("STATUS=pending"),
        "{status}"
    );
    assert!(!impostor.secrets_dir.join("db-password").exists());
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_of_any_component_contains_a_secret_after_release_and_shutdown() {
    let world = World::start().await;
    let mut client = pending_client(&world).await;
    approve_and_receive(&world, &client).await;
    // The workload's other door: the local socket serves the same bytes.
    let mut stream = std::os::unix::net::UnixStream::connect(&client.socket).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /v1/secrets/db-password HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut response).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200 OK"));
    assert!(response.ends_with(&world.secrets.password));
    client.daemon.signal("TERM");
    client.daemon.wait_for("STOPPING=1", DEADLINE).await;
    assert_eq!(client.daemon.wait_exit(DEADLINE).await.code(), Some(0));
    for name in world.secrets.by_name().keys() {
        assert!(
            !client.secrets_dir.join(name).exists(),
            "{name} left behind on exit"
        );
    }
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extending_a_bound_pcr_on_the_vms_tpm_stops_the_next_release_and_removes_the_secrets() {
    let world = World::start().await;
    let Some(vm_tpm) = world.vm_tpm.as_ref() else {
        return;
    };
    let client = world
        .client(
            "tokenclient",
            GOOD_VM,
            Some(vm_tpm),
            &["--reattest-interval", "1s"],
        )
        .await;
    client
        .daemon
        .wait_for("STATUS=pending approval", DEADLINE)
        .await;
    approve_and_receive(&world, &client).await;

    // The client holds the TPM only during attempts; this waits for its turn on the swtpm.
    let tpm = tokendist_tpm::TpmHandle::connect(tokendist_tpm::TpmConfig::new(vm_tpm.tcti()))
        .await
        .unwrap();
    // PCR 14 is in the default selection the approval pinned (0, 4, 7, 8, 9, 14).
    tpm.extend_pcr(14, b"tokendist e2e: something else booted")
        .await
        .unwrap();
    drop(tpm);

    let removed = client
        .daemon
        .wait_for("STATUS=secrets removed", DEADLINE)
        .await;
    assert!(removed.contains("secrets removed: 2"), "{removed}");
    let seen = client.daemon.seen().join("\n");
    println!("client statuses after the PCR extend:\n{seen}");
    assert!(
        seen.contains("tpm.quote") || seen.contains("does not unseal"),
        "expected a tpm.quote denial or an unseal failure: {seen}"
    );
    for name in world.secrets.by_name().keys() {
        assert!(
            !client.secrets_dir.join(name).exists(),
            "{name} still on disk"
        );
    }
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_starts_the_workload_after_delivery_with_the_secrets_directory_in_its_environment() {
    let world = World::start().await;
    let listing = world.path("workload-listing");
    // The workload lists the directory it was given (written to a temporary file, then renamed, so the
    // test never reads a half-written listing).
    let command = format!(
        "ls \"$TOKENCLIENT_SECRETS_DIR\" > {listing}.tmp && mv {listing}.tmp {listing}",
        listing = listing.display()
    );
    let client = world
        .client(
            "tokenclient",
            GOOD_VM,
            world.vm_tpm.as_ref(),
            &["--exec", &command],
        )
        .await;
    client
        .daemon
        .wait_for("STATUS=pending approval", DEADLINE)
        .await;
    assert!(
        !listing.exists(),
        "the workload must not start before the secrets arrive"
    );
    approve_and_receive(&world, &client).await;
    let text = client.daemon.wait_for_file(&listing, DEADLINE).await;
    let seen: Vec<&str> = text.lines().collect();
    for name in world.secrets.by_name().keys() {
        assert!(
            seen.contains(name),
            "the workload did not see {name}: {seen:?}"
        );
    }
}

/// What a secrets directory holds against what was delivered: every secret's file is absent or
/// whole (never a prefix, never another secret's bytes).
fn assert_whole_or_absent(client: &Client, secrets: &support::Secrets, moment: &str) {
    for (name, value) in secrets.by_name() {
        match std::fs::read(client.secrets_dir.join(name)) {
            Ok(bytes) => assert_eq!(bytes, value, "{name} is partial {moment}"),
            Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_while_delivering_leaves_no_partial_secret_and_its_restart_no_temporary_file()
 {
    let world = World::start().await;
    let client = world.pending_good_vm().await;
    approve_and_receive(&world, &client).await;
    drop(client);

    // Each restart attests and writes every secret again; SIGKILL lands at moments spread over that.
    for delay in [0, 150, 400, 700, 1000, 1400] {
        let client = world
            .client("tokenclient", GOOD_VM, world.vm_tpm.as_ref(), &[])
            .await;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        client.daemon.signal("KILL");
        let mut daemon = client.daemon;
        daemon.wait_exit(DEADLINE).await;
        let client = Client {
            daemon,
            secrets_dir: client.secrets_dir,
            socket: client.socket,
        };
        assert_whole_or_absent(
            &client,
            &world.secrets,
            &format!("after SIGKILL at {delay} ms"),
        );
    }

    let client = world
        .client("tokenclient", GOOD_VM, world.vm_tpm.as_ref(), &[])
        .await;
    client
        .assert_receives(&world.secrets, POLL_INTERVAL + ATTEMPT_SLACK)
        .await;
    let hidden: Vec<String> = std::fs::read_dir(&client.secrets_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "left in the secrets directory: {hidden:?}"
    );
}

/// Reads the client's systemd notifications until one starts with `prefix` (within `within`) and
/// returns it; a denial or a removal of secrets on the way fails the test: an outage is not a refusal.
async fn next_status(
    daemon: &tokendist_testkit::process::Daemon,
    prefix: &str,
    within: Duration,
) -> String {
    let deadline = Instant::now() + within;
    loop {
        let notification = daemon
            .next_notification(deadline.saturating_duration_since(Instant::now()))
            .await
            .unwrap_or_else(|| panic!("no {prefix} within {within:?}\n{}", daemon.log_text()));
        if notification.starts_with(prefix) {
            return notification;
        }
        assert!(
            !notification.starts_with("STATUS=denied") && !notification.contains("removed"),
            "an outage was taken for a refusal: {notification}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vms_tpm_killed_during_re_attestation_fails_attempts_and_the_same_client_recovers_when_it_returns()
 {
    let mut world = World::start().await;
    assert!(
        world.vm_tpm.is_some(),
        "this test needs swtpm (scripts/install-deps installs it)"
    );
    let client = world.pending_good_vm().await; // re-attests every second
    approve_and_receive(&world, &client).await;

    world.vm_tpm.as_mut().unwrap().kill();
    // The next attempts fail on the TPM and are retried; the client keeps running.
    let retrying = next_status(&client.daemon, "STATUS=retrying", DEADLINE).await;
    assert!(retrying.to_lowercase().contains("tpm"), "{retrying}");
    let mut client = client;
    assert!(
        client.daemon.try_exit_status().is_none(),
        "tokenclient exited"
    );

    world.vm_tpm.as_mut().unwrap().restart().unwrap();
    let within = POLL_INTERVAL + ATTEMPT_SLACK * 2;
    next_status(&client.daemon, "STATUS=secrets delivered", within).await;
    assert_whole_or_absent(&client, &world.secrets, "after the TPM returned");
    world.assert_logs_free_of_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vms_metadata_server_failing_makes_the_client_retry_keeping_its_secrets_until_it_answers()
 {
    let world = World::start().await;
    let client = world.pending_good_vm().await; // re-attests every second
    approve_and_receive(&world, &client).await;

    let failing = serde_json::json!({ "api": "metadata", "status": 503 });
    support::sim_admin(world.gcpsim.api, "faults", failing).await;
    let retrying = next_status(&client.daemon, "STATUS=retrying", DEADLINE).await;
    assert!(retrying.contains("metadata"), "{retrying}");
    // An outage is not a refusal: the secrets stay, whole.
    for (name, value) in world.secrets.by_name() {
        assert_eq!(
            std::fs::read(client.secrets_dir.join(name)).unwrap(),
            value,
            "{name}"
        );
    }

    let clear = serde_json::json!({ "api": "metadata" });
    support::sim_admin(world.gcpsim.api, "faults:clear", clear).await;
    let within = POLL_INTERVAL + ATTEMPT_SLACK;
    next_status(&client.daemon, "STATUS=secrets delivered", within).await;
}
