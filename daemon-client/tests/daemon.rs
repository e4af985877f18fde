//! The real `tokenclient` binary as a child process: READY=1 once running, STOPPING=1 and exit 0 on
//! SIGTERM (secret files removed), exit 78 on a bad configuration and on a server certificate that
//! does not verify, exit 69 when the configured TPM is not there (a closed port that stays reserved).
//! Readiness is read from a NOTIFY_SOCKET datagram socket with a bounded wait
//! (`tokendist_testkit::process`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokendist_testkit::closed_port;
use tokendist_testkit::process::{Daemon, Notify};

const DEADLINE: Duration = Duration::from_secs(30);

/// Starts `tokenclient ARGS` in `dir` with a NOTIFY_SOCKET (and `env` on top).
fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Daemon {
    Daemon::spawn(
        "tokenclient",
        Path::new(env!("CARGO_BIN_EXE_tokenclient")),
        args,
        dir,
        Notify::Yes,
        env,
    )
}

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A config for `address` trusting `ca_pem`, without a TPM, secrets under `dir`.
fn config(dir: &Path, address: &str, ca_pem: &str) -> PathBuf {
    let ca = write(dir, "ca.pem", ca_pem);
    write(
        dir,
        "tokenclient.toml",
        &format!(
            r#"address = "{address}"
server_name = "localhost"
audience = "https://tokenserver.test.example"
metadata_host = "127.0.0.1:1"
poll_interval_ms = 200
initial_backoff_ms = 50
[tls]
ca = "{ca}"
[tpm]
enabled = false
[delivery]
dir = "{secrets}"
socket = "{socket}"
"#,
            ca = ca.display(),
            secrets = dir.join("secrets").display(),
            socket = dir.join("secrets.sock").display(),
        ),
    )
}

#[tokio::test]
async fn ready_once_running_then_stopping_and_exit_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    let mut daemon = start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
    let ready = daemon.wait_for("READY=1", DEADLINE).await;
    assert!(
        ready.contains("STATUS=waiting for the token server at 127.0.0.1:1"),
        "{ready}"
    );
    assert!(dir.path().join("secrets").is_dir());
    assert!(dir.path().join("secrets.sock").exists());
    // The server is unreachable: the loop keeps retrying and says so.
    let retrying = daemon.wait_for("STATUS=retrying", DEADLINE).await;
    assert!(retrying.contains("127.0.0.1:1"), "{retrying}");
    daemon.signal("TERM");
    daemon.wait_for("STOPPING=1", DEADLINE).await;
    let status = daemon.wait_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log_text());
    assert!(
        !dir.path().join("secrets.sock").exists(),
        "the socket is removed on exit"
    );
}

#[tokio::test]
async fn bad_configuration_exits_78_saying_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "bad.toml", "audience = \"https://x\"\n");
    let mut daemon = start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
    let status = daemon.wait_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(78));
    assert!(
        daemon.log_text().contains("TOKENCLIENT_ADDRESS"),
        "{}",
        daemon.log_text()
    );
}

#[tokio::test]
async fn unknown_key_in_the_file_exits_78_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("pollWaitSeconds = 3\n{text}")).unwrap();
    let mut daemon = start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
    assert_eq!(daemon.wait_exit(DEADLINE).await.code(), Some(78));
    assert!(
        daemon.log_text().contains("pollWaitSeconds"),
        "{}",
        daemon.log_text()
    );
}

#[tokio::test]
async fn missing_tpm_exits_69_and_suggests_no_tpm() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    let closed = closed_port();
    let tcti = format!("swtpm:host=127.0.0.1,port={}", closed.port());
    let mut daemon = start(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--useTPM",
            "--tcti",
            &tcti,
        ],
        &[],
    );
    assert_eq!(
        daemon.wait_exit(DEADLINE).await.code(),
        Some(69),
        "{}",
        daemon.log_text()
    );
    assert!(
        daemon.log_text().contains("--no-tpm"),
        "{}",
        daemon.log_text()
    );
}

/// A TLS server on 127.0.0.1 presenting a certificate for `localhost` issued by `issuer`.
async fn tls_server(issuer: &Ca) -> std::net::SocketAddr {
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer.issuer).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_certificate_from_another_ca_is_fatal_exit_78() {
    let dir = tempfile::tempdir().unwrap();
    let impostor_ca = ca("impostor CA");
    let addr = tls_server(&impostor_ca).await;
    let config = config(dir.path(), &addr.to_string(), &ca("the real CA").pem);
    let daemon = start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
    let status = daemon.exit_status(DEADLINE).await;
    assert_eq!(status.0.code(), Some(78), "{}", status.1);
    assert!(
        status.1.contains("does not verify") && status.1.contains("tls.ca"),
        "{}",
        status.1
    );
}

#[tokio::test]
async fn sighup_reloads_the_configuration_and_a_bad_one_keeps_the_running_config() {
    let dir = tempfile::tempdir().unwrap();
    let ca_pem = ca("test CA").pem;
    let file = config(dir.path(), "127.0.0.1:1", &ca_pem);
    let mut daemon = start(dir.path(), &["--config", file.to_str().unwrap()], &[]);
    daemon.wait_for("READY=1", DEADLINE).await;
    daemon.wait_for("STATUS=retrying", DEADLINE).await;

    // A new server address takes effect without a restart.
    config(dir.path(), "127.0.0.1:2", &ca_pem);
    daemon.signal("HUP");
    daemon.wait_for("RELOADING=1", DEADLINE).await;
    let reloaded = daemon.wait_for("READY=1", DEADLINE).await;
    assert!(
        reloaded.contains("reloaded; token server 127.0.0.1:2"),
        "{reloaded}"
    );
    let retrying = daemon.wait_for("STATUS=retrying", DEADLINE).await;
    assert!(retrying.contains("127.0.0.1:2"), "{retrying}");

    // A broken file is refused and the daemon keeps running with what it had.
    std::fs::write(&file, "address = \n").unwrap();
    daemon.signal("HUP");
    daemon.wait_for("RELOADING=1", DEADLINE).await;
    let kept = daemon.wait_for("READY=1", DEADLINE).await;
    assert!(
        kept.contains("reload failed, running configuration kept"),
        "{kept}"
    );

    daemon.signal("TERM");
    daemon.wait_for("STOPPING=1", DEADLINE).await;
    assert_eq!(
        daemon.wait_exit(DEADLINE).await.code(),
        Some(0),
        "{}",
        daemon.log_text()
    );
}

#[tokio::test]
async fn watchdog_pings_arrive_while_the_loop_is_alive() {
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    // systemd's WatchdogSec=400ms: the daemon must ping at least every 200 ms while it retries.
    let mut daemon = start(
        dir.path(),
        &["--config", file.to_str().unwrap()],
        &[("WATCHDOG_USEC", "400000")],
    );
    daemon.wait_for("READY=1", DEADLINE).await;
    for _ in 0..3 {
        daemon.wait_for("WATCHDOG=1", DEADLINE).await;
    }
    daemon.signal("TERM");
    daemon.wait_for("STOPPING=1", DEADLINE).await;
    assert_eq!(
        daemon.wait_exit(DEADLINE).await.code(),
        Some(0),
        "{}",
        daemon.log_text()
    );
}

/// `tokenclient status ARGS`, run to completion.
fn status(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tokenclient"))
        .arg("status")
        .args(args)
        .env_remove("TOKENCLIENT_CONFIG")
        .output()
        .unwrap()
}

#[tokio::test]
async fn under_journald_lines_carry_priorities_and_readyz_says_why_it_is_not_ready() {
    use tokendist_testkit::journal::{assert_journal_lines, free_port, http_get, journal_stream};
    let dir = tempfile::tempdir().unwrap();
    let closed = closed_port();
    let config = config(dir.path(), &closed.addr().to_string(), &ca("test CA").pem);
    let metrics = free_port();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("metrics_listen = \"{metrics}\"\n{text}")).unwrap();
    let stream = journal_stream(&dir.path().join("tokenclient.log"));
    let mut daemon = start(
        dir.path(),
        &["--config", config.to_str().unwrap()],
        &[("JOURNAL_STREAM", stream.as_str())],
    );
    daemon.wait_for("READY=1", DEADLINE).await;
    daemon.wait_for("STATUS=retrying", DEADLINE).await;

    // The binary restarted itself with the TSS library quiet and one malloc arena, keeping its PID
    // (READY came from it).
    let environ = std::fs::read(format!("/proc/{}/environ", daemon.pid())).unwrap();
    for wanted in [&b"TSS2_LOG=all+none"[..], b"MALLOC_ARENA_MAX=1"] {
        assert!(
            environ.split(|b| *b == 0).any(|var| var == wanted),
            "{} not set by the re-exec",
            String::from_utf8_lossy(wanted)
        );
    }

    let (health, metrics_text, ready) = tokio::task::spawn_blocking(move || {
        (
            http_get(metrics, "/healthz"),
            http_get(metrics, "/metrics"),
            http_get(metrics, "/readyz"),
        )
    })
    .await
    .unwrap();
    assert_eq!(health, Some((200, "ok\n".to_string())));
    let (_, metrics_text) = metrics_text.unwrap();
    assert!(
        metrics_text.contains("tokenclient_attempts_total{outcome=\"released\"} 0")
            && metrics_text.contains("tokenclient_secrets_delivered 0"),
        "{metrics_text}"
    );
    let (code, body) = ready.unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("failing since "), "{body}");

    let config_arg = config.to_str().unwrap().to_string();
    let answer = tokio::task::spawn_blocking(move || status(&["--config", &config_arg]))
        .await
        .unwrap();
    assert_eq!(answer.status.code(), Some(1), "{answer:?}");
    assert!(
        String::from_utf8_lossy(&answer.stdout).starts_with("failing since "),
        "{answer:?}"
    );

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(DEADLINE).await.code(), Some(0));
    let log = daemon.log_text();
    let priorities = assert_journal_lines(&log);
    assert!(priorities.contains(&6) && priorities.contains(&4), "{log}");
}

#[test]
fn status_without_a_metrics_listener_exits_78_and_one_nobody_answers_69() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    let unconfigured = status(&["--config", config.to_str().unwrap()]);
    assert_eq!(unconfigured.status.code(), Some(78), "{unconfigured:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let nobody = status(&["--address", &address]);
    assert_eq!(nobody.status.code(), Some(69), "{nobody:?}");
}

/// `tokenclient --config CONFIG ARGS` run to its end with `env`: exit code, stdout, stderr.
async fn run_to_end(
    dir: &Path,
    config: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenclient"))
        .arg("--config")
        .arg(config)
        .args(args)
        .current_dir(dir)
        .env_remove("TOKENCLIENT_CONFIG")
        .env_remove("GCE_METADATA_HOST")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[tokio::test]
async fn check_config_ignores_the_consoles_variables_and_refuses_unknown_own_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    let console = [
        ("TOKENDIST_ADDRESS", "elsewhere:1"),
        ("TOKENDIST_STORE", "sqlite:///elsewhere.db"),
    ];
    let (code, stdout, stderr) =
        run_to_end(dir.path(), &config, &["--check-config"], &console).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("configuration OK: server 127.0.0.1:1 (name localhost)"),
        "{stdout}"
    );
    let typo = [("TOKENCLIENT_ADRESS", "elsewhere:1")];
    let (code, _, stderr) = run_to_end(dir.path(), &config, &["--check-config"], &typo).await;
    assert_eq!(code, Some(78), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "tokenclient: bad configuration: environment variable TOKENCLIENT_ADRESS names no setting \
         (did you mean TOKENCLIENT_ADDRESS, setting `address`?)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_config_names_the_setting_of_each_failure_and_full_reaches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:1", &ca("test CA").pem);
    let missing = ["--check-config", "--tls-ca", "/nonexistent/ca.pem"];
    let (code, _, stderr) = run_to_end(dir.path(), &config, &missing, &[]).await;
    assert_eq!(code, Some(78), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "tokenclient: bad configuration: tls.ca (from flag --tls-ca): cannot read /nonexistent/ca.pem: \
         No such file or directory (os error 2)"
    );

    let closed = closed_port();
    let closed_addr = closed.addr().to_string();
    let env = [("TOKENCLIENT_ADDRESS", closed_addr.as_str())];
    let (code, _, stderr) = run_to_end(dir.path(), &config, &["--check-config"], &env).await;
    assert_eq!(code, Some(0), "basic does not connect: {stderr}");
    let (code, _, stderr) = run_to_end(dir.path(), &config, &["--check-config=full"], &env).await;
    assert_eq!(code, Some(78), "{stderr}");
    assert!(
        stderr.starts_with(
            "tokenclient: bad configuration: address (from environment variable TOKENCLIENT_ADDRESS): \
             cannot reach the token server"
        ),
        "{stderr}"
    );

    let impostor = tls_server(&ca("impostor CA")).await.to_string();
    let env = [("TOKENCLIENT_ADDRESS", impostor.as_str())];
    let (code, _, stderr) = run_to_end(dir.path(), &config, &["--check-config=full"], &env).await;
    assert_eq!(code, Some(78), "{stderr}");
    let expected = format!(
        "tokenclient: bad configuration: tls.ca (from config file {}): the token server's certificate does not verify",
        config.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
}
