//! `tokenserver --check-config[=full]`, run as the real binary: it loads what the start loads and
//! reports every failure with its setting, origin and file (the start prints the same lines); the
//! console's `TOKENDIST_*` environment does not change what the server loads; a `TOKENSERVER_*`
//! variable that names no setting is an error naming it; `=full` reaches the store and Google.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::support::world::World;

/// What one run of `tokenserver ARGS` printed, and its exit status.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn tokenserver(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenserver"))
        .args(args)
        .current_dir(dir)
        .env_remove("TOKENSERVER_CONFIG")
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

/// Every variable `scripts/demo` exports for the console, pointing somewhere else than the server's
/// configuration does.
fn consoles_environment(world: &World) -> Vec<(&'static str, String)> {
    let elsewhere = world.path("elsewhere");
    vec![
        (
            "TOKENDIST_STORE",
            format!("sqlite://{}", elsewhere.join("other.db").display()),
        ),
        ("TOKENDIST_COMPUTE_ENDPOINT", "http://127.0.0.1:9".into()),
        ("TOKENDIST_LOGGING_ENDPOINT", "http://127.0.0.1:9".into()),
        ("TOKENDIST_GCP_ANONYMOUS", "true".into()),
        (
            "TOKENDIST_SETTINGS",
            elsewhere.join("settings.toml").display().to_string(),
        ),
        (
            "TOKENDIST_SERVER_RECEIPT_KEY",
            elsewhere.join("receipt.pub").display().to_string(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_environment_does_not_change_what_the_server_loads() {
    let world = World::start().await;
    let config = world.write_config("server");
    let config = config.to_str().unwrap();
    let args = ["--config", config, "--check-config=full"];
    let plain = tokenserver(world.dir.path(), &args, &[]).await;
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);
    assert!(
        plain.stdout.contains(&world.store_url)
            && plain.stdout.contains("store opens and answers")
            && plain
                .stdout
                .contains(&format!("http://{} answers", world.sim.api)),
        "{}",
        plain.stdout
    );
    let with_console_env =
        tokenserver(world.dir.path(), &args, &consoles_environment(&world)).await;
    assert_eq!(
        with_console_env.code,
        Some(0),
        "{}",
        with_console_env.stderr
    );
    assert_eq!(with_console_env.stdout, plain.stdout);
    assert!(!world.path("elsewhere").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_variable_that_names_no_setting_is_refused_with_the_closest_one() {
    let world = World::start().await;
    let config = world.write_config("server");
    let env = [("TOKENSERVER_STORE_URL", "sqlite:///tmp/x.db".to_string())];
    let run = tokenserver(
        world.dir.path(),
        &["--config", config.to_str().unwrap(), "--check-config"],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(78), "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "tokenserver: bad configuration: environment variable TOKENSERVER_STORE_URL names no setting \
         (did you mean TOKENSERVER_STORE, setting `store`?)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unusable_file_is_named_with_its_setting_and_origin_and_the_start_agrees() {
    let world = World::start().await;
    let missing_approver = world.path("bob.pub");
    let config = world.path("broken.toml");
    std::fs::write(
        &config,
        world.config_text(&[&world.keys.alice.public_path, &missing_approver], ""),
    )
    .unwrap();
    // A key that does not belong to the server certificate, given through the environment.
    let wrong_key = world.path("client.key");
    std::fs::write(&wrong_key, &world.client_identity.key_pem).unwrap();
    let env = [("TOKENSERVER_TLS__KEY", wrong_key.display().to_string())];
    let config_arg = config.to_str().unwrap();
    let flags = ["--secrets-key", "/nonexistent/secrets.key"];
    let check = tokenserver(
        world.dir.path(),
        &[&["--config", config_arg, "--check-config"], &flags[..]].concat(),
        &env,
    )
    .await;
    assert_eq!(check.code, Some(78), "{}", check.stderr);
    let expected = [
        format!(
            "tokenserver: bad configuration: keys.trusted_approvers[1] (from config file {config_arg}): \
             cannot read {}: No such file or directory (os error 2)",
            missing_approver.display()
        ),
        "tokenserver: bad configuration: keys.secrets_key (from flag --secrets-key): cannot read \
         /nonexistent/secrets.key: No such file or directory (os error 2)"
            .to_string(),
        format!(
            "tokenserver: bad configuration: tls.key (from environment variable TOKENSERVER_TLS__KEY): {} \
             does not belong to the certificate in {}",
            wrong_key.display(),
            world.pki.server_cert_path.display()
        ),
    ];
    for line in &expected {
        assert!(
            check.stderr.contains(line.as_str()),
            "{line}\nnot in:\n{}",
            check.stderr
        );
    }
    assert_eq!(check.stderr.lines().count(), 3, "{}", check.stderr);

    let start = tokenserver(
        world.dir.path(),
        &[&["--config", config_arg], &flags[..]].concat(),
        &env,
    )
    .await;
    assert_eq!(start.code, Some(78), "{}", start.stderr);
    for line in &expected {
        assert!(
            start.stderr.contains(line.as_str()),
            "{line}\nnot in:\n{}",
            start.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_reaches_google_and_the_store_where_basic_does_not() {
    let world = World::start().await;
    let config = world.write_config("server");
    let config = config.to_str().unwrap();
    let unreachable = [
        "--compute-endpoint",
        "http://127.0.0.1:9",
        "--store",
        // Not even root creates files in /proc.
        "sqlite:///proc/tokendist/tokendist.db",
    ];
    let basic = tokenserver(
        world.dir.path(),
        &[&["--config", config, "--check-config"], &unreachable[..]].concat(),
        &[],
    )
    .await;
    assert_eq!(basic.code, Some(0), "{}", basic.stderr);
    assert!(
        basic.stdout.starts_with("configuration OK"),
        "{}",
        basic.stdout
    );

    let full = tokenserver(
        world.dir.path(),
        &[
            &["--config", config, "--check-config=full"],
            &unreachable[..],
        ]
        .concat(),
        &[],
    )
    .await;
    assert_eq!(full.code, Some(78), "{}", full.stderr);
    assert!(
        full.stderr.contains(
            "gcp.compute_endpoint (from flag --compute-endpoint): http://127.0.0.1:9 is not reachable"
        ),
        "{}",
        full.stderr
    );
    assert!(
        full.stderr
            .contains("store (from flag --store): cannot create files in /proc"),
        "{}",
        full.stderr
    );
    assert!(
        !full.stderr.contains("gcp.logging_endpoint"),
        "{}",
        full.stderr
    );
}
