//! Tests of configuration layering and validation.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Table;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const MINIMAL: &str = r#"
audience = "https://tokenserver.example.com"
[tls]
cert = "/etc/tokendist/server.crt"
key = "/etc/tokendist/server.key"
client_ca = "/etc/tokendist/client-ca.crt"
[keys]
trusted_approvers = ["/etc/tokendist/alice.pub"]
"#;

#[test]
fn file_then_env_then_flags_win_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &format!("listen = \"127.0.0.1:1\"\ntoken_max_age_secs = 30\n{MINIMAL}"),
    );
    let env: BTreeMap<String, String> = [
        ("TOKENSERVER_LISTEN".to_string(), "127.0.0.1:2".to_string()),
        (
            "TOKENSERVER_TOKEN_MAX_AGE_SECS".to_string(),
            "45".to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let mut flags = Table::new();
    flags.insert("listen".into(), toml::Value::String("127.0.0.1:3".into()));
    let sources = ConfigSources {
        file: Some(file),
        env,
        flags,
        flag_keys: vec![("--listen".into(), "listen".into())],
        use_default_path: false,
    };
    let config = ServerConfig::load(&sources).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:3");
    assert_eq!(config.token_max_age_secs, 45);
    assert_eq!(config.audience, "https://tokenserver.example.com");
    // Its settings refuse a key they do not know (the kit names it and where it came from).
    let unknown = write(dir.path(), "u.toml", &format!("listen_port = 5\n{MINIMAL}"));
    let sources = ConfigSources {
        file: Some(unknown),
        ..Default::default()
    };
    assert!(ServerConfig::load(&sources).is_err_and(|e| e.to_string().contains("listen_port")));
}

#[test]
fn missing_audience_says_how_to_set_it() {
    let err = ServerConfig::load(&ConfigSources::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Missing(_)));
    assert!(err.to_string().contains("TOKENSERVER_AUDIENCE"), "{err}");
}

#[test]
fn mtls_without_client_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &MINIMAL.replace("client_ca = \"/etc/tokendist/client-ca.crt\"\n", ""),
    );
    let err = ServerConfig::load(&ConfigSources {
        file: Some(file),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("client_ca"), "{err}");
}

#[test]
fn a_plain_http_pubsub_endpoint_with_google_credentials_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let load = |extra: &str| {
        let file = write(dir.path(), "s.toml", &format!("{MINIMAL}{extra}"));
        ServerConfig::load(&ConfigSources {
            file: Some(file),
            ..Default::default()
        })
    };
    // ADC (the default) over http:// would send the OAuth token in clear.
    let err = load("[watch]\npubsub_endpoint = \"http://pubsub.internal:8085\"\n").unwrap_err();
    assert!(err.to_string().contains("in clear"), "{err}");
    assert!(err.to_string().contains("watch.pubsub_endpoint"), "{err}");
    // Anonymous (an emulator) over http://, and ADC over https://, are fine.
    load("[watch]\npubsub_endpoint = \"http://127.0.0.1:8085\"\n[gcp]\ncredentials = \"anonymous\"\n")
        .unwrap();
    load("[watch]\npubsub_endpoint = \"https://pubsub.googleapis.com\"\n").unwrap();
}

#[test]
fn shipped_example_config_parses_and_matches_the_defaults_it_documents() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/tokenserver.toml");
    let config = ServerConfig::load(&ConfigSources {
        file: Some(path),
        ..Default::default()
    })
    .unwrap();
    let defaults = ServerConfig::default();
    assert_eq!(config.listen, defaults.listen);
    assert_eq!(config.token_max_age_secs, defaults.token_max_age_secs);
    assert_eq!(config.session_ttl_secs, defaults.session_ttl_secs);
    assert_eq!(config.default_pcrs, defaults.default_pcrs);
    assert_eq!(config.tls.mode, TlsMode::Mtls);
    assert_eq!(
        config.gcp, defaults.gcp,
        "the [gcp] section documents the defaults"
    );
    assert_eq!(
        config.policy, defaults.policy,
        "the [policy] section documents the defaults"
    );
    assert_eq!(config.keys.trusted_approvers.len(), 1);
}

#[test]
fn shipped_unit_file_restarts_on_failure_but_not_on_bad_configuration() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/systemd/tokenserver.service"),
    )
    .unwrap();
    for line in [
        "Type=notify",
        "RestartPreventExitStatus=78",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "WatchdogSec=",
    ] {
        assert!(
            unit.lines().any(|l| l.starts_with(line)),
            "unit file lacks {line}"
        );
    }
}
