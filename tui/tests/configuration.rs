//! Exit codes of the `tokendist` binary for bad configuration and usage, without a simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::Console;

#[tokio::test]
async fn an_unusable_store_url_is_a_configuration_error() {
    let console = Console::without_sim(None);
    let run = console
        .run(&["--store", "mysql://db/tokendist", "list"])
        .await;
    assert_eq!(run.code, 78, "{run:?}");
    assert!(
        run.stderr.contains("configuration error") && run.stderr.contains("sqlite:///"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_settings_file_with_an_unknown_field_is_a_configuration_error_naming_it() {
    let console = Console::without_sim(None);
    std::fs::write(
        console.path("settings.toml"),
        "trusted_container_digest = []\n",
    )
    .unwrap();
    let run = console
        .run(&[
            "show",
            "vm",
            "--project",
            "p",
            "--zone",
            "z",
            "--compute-endpoint",
            "http://127.0.0.1:9",
        ])
        .await;
    assert_eq!(run.code, 78, "{run:?}");
    assert!(
        run.stderr.contains("trusted_container_digest"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn unknown_flags_are_usage_errors_and_no_subcommand_prints_help() {
    let console = Console::without_sim(None);
    let run = console.run(&["list", "--bogus"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    let help = console.run(&[]).await;
    assert_eq!(help.code, 0, "{help:?}");
    for text in ["keygen", "approve", "revoke", "Exit codes:", "78"] {
        assert!(
            help.stdout.contains(text),
            "{text} missing from help: {}",
            help.stdout
        );
    }
}

/// A store URL naming a missing SQLite file is an error (a typo must not become an empty store);
/// `--create` creates it.
#[tokio::test]
async fn a_missing_sqlite_store_is_an_error_unless_create_is_given() {
    let console = Console::without_sim(None);
    let run = console.run(&["list"]).await;
    assert_eq!(run.code, 78, "{run:?}");
    assert!(
        run.stderr.contains("does not exist") && run.stderr.contains("--create"),
        "{}",
        run.stderr
    );
    assert!(!console.path("tokendist.db").exists(), "nothing created");

    let run = console.run(&["list", "--create"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(console.path("tokendist.db").exists());
    assert_eq!(console.run(&["list"]).await.code, 0);
}

/// `--json` is a flag of the subcommands that print data, not of those that only act.
#[tokio::test]
async fn json_is_accepted_only_where_it_does_something() {
    let console = Console::without_sim(None);
    for args in [
        &["approve", "vm", "--secrets", "s", "--key", "k", "--json"][..],
        &["revoke", "vm", "--reason", "r", "--key", "k", "--json"],
        &["--json", "list"],
    ] {
        let run = console.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("--json"), "{}", run.stderr);
    }
    let run = console.run(&["list", "--json", "--create"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["vms"], serde_json::json!([]));
}
