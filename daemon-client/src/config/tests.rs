//! Tests of configuration layering, the original's flag aliases, and validation.

use std::collections::BTreeMap;

use super::*;
use crate::cli::{Cli, parse_interval};
use clap::Parser;

const MINIMAL: &str = r#"
address = "tokenserver.alice.example:50051"
audience = "https://tokenserver.alice.example"
[tls]
ca = "/etc/tokendist/tls-ca.crt"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_with_flags(file: &Path, args: &[&str], env: BTreeMap<String, String>) -> ClientConfig {
    let mut argv = vec!["tokenclient", "--config", file.to_str().unwrap()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut sources = cli.sources(env);
    sources.use_default_path = false;
    ClientConfig::load(&sources).unwrap()
}

#[test]
fn file_then_env_then_flags_win_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.toml",
        &format!("poll_interval_ms = 1000\nmax_attempts = 3\n{MINIMAL}"),
    );
    let config = load_with_flags(
        &file,
        &["--poll-interval-ms", "3000"],
        env(&[
            ("TOKENCLIENT_POLL_INTERVAL_MS", "2000"),
            ("TOKENCLIENT_MAX_ATTEMPTS", "7"),
            ("TOKENCLIENT_TPM__TCTI", "swtpm:host=127.0.0.1,port=2321"),
        ]),
    );
    assert_eq!(config.poll_interval_ms, 3000, "flag beats env and file");
    assert_eq!(config.max_attempts, 7, "env beats file");
    assert_eq!(config.tpm.tcti, "swtpm:host=127.0.0.1,port=2321");
    assert_eq!(config.audience, "https://tokenserver.alice.example");
    assert!(config.tpm.enabled, "the TPM is on by default");
}

#[test]
fn original_flag_names_are_accepted_as_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", "");
    let config = load_with_flags(
        &file,
        &[
            "--address",
            "10.0.0.5:50051",
            "--servername",
            "tokenservice.esodemoapp2.com",
            "--tsAudience",
            "https://tokenserver",
            "--useMTLS",
            "--tlsClientCert",
            "/certs/tokenclient.crt",
            "--tlsClientKey",
            "/certs/tokenclient.key",
            "--tlsCertChain",
            "/certs/tls-ca.crt",
            "--useTPM=false",
            "--maxLoop",
            "360",
            "--pollWaitSeconds",
            "10",
        ],
        BTreeMap::new(),
    );
    assert_eq!(config.address, "10.0.0.5:50051");
    assert_eq!(
        config.effective_server_name(),
        "tokenservice.esodemoapp2.com"
    );
    assert_eq!(config.audience, "https://tokenserver");
    assert!(config.tls.mtls);
    assert_eq!(
        config.tls.client_cert.as_deref(),
        Some(Path::new("/certs/tokenclient.crt"))
    );
    assert_eq!(
        config.tls.client_key.as_deref(),
        Some(Path::new("/certs/tokenclient.key"))
    );
    assert_eq!(config.tls.ca, Path::new("/certs/tls-ca.crt"));
    assert!(!config.tpm.enabled);
    assert_eq!(config.max_attempts, 360);
    assert_eq!(config.poll_interval_ms, 10_000);
}

#[test]
fn gce_metadata_host_overrides_the_file_but_not_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.toml",
        &format!("metadata_host = \"169.254.169.254\"\n{MINIMAL}"),
    );
    let from_env = load_with_flags(&file, &[], env(&[("GCE_METADATA_HOST", "127.0.0.1:8080")]));
    assert_eq!(from_env.metadata_host, "127.0.0.1:8080");
    let from_flag = load_with_flags(
        &file,
        &["--metadata-host", "127.0.0.1:9"],
        env(&[("GCE_METADATA_HOST", "127.0.0.1:8080")]),
    );
    assert_eq!(from_flag.metadata_host, "127.0.0.1:9");
}

#[test]
fn server_name_defaults_to_the_host_of_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", MINIMAL);
    let config = load_with_flags(&file, &[], BTreeMap::new());
    assert_eq!(config.effective_server_name(), "tokenserver.alice.example");
    // The settings refuse a key they do not know, named as the kit reports it.
    let unknown = ConfigSources {
        file: Some(write(
            dir.path(),
            "u.toml",
            &format!("pollwait = 5\n{MINIMAL}"),
        )),
        ..Default::default()
    };
    let refused = ClientConfig::load(&unknown);
    assert!(matches!(refused, Err(ConfigError::Invalid { ref key, .. }) if key == "pollwait"));
}

#[test]
fn missing_address_says_how_to_set_it() {
    let err = ClientConfig::load(&ConfigSources::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Missing(_)));
    assert!(err.to_string().contains("TOKENCLIENT_ADDRESS"), "{err}");
}

#[test]
fn mtls_without_a_client_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.toml",
        &format!("{MINIMAL}mtls = true\nclient_cert = \"/c.pem\"\n"),
    );
    let err = ClientConfig::load(&ConfigSources {
        file: Some(file),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::Missing(_)), "{err}");
    assert!(err.to_string().contains("client_key"), "{err}");
}

#[test]
fn address_without_a_port_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", &MINIMAL.replace(":50051", ""));
    let err = ClientConfig::load(&ConfigSources {
        file: Some(file),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { key, .. } if key == "address"),
        "{err}"
    );
}

#[test]
fn reattest_interval_takes_units_and_bare_minutes() {
    assert_eq!(parse_interval("30s"), Ok(30));
    assert_eq!(parse_interval("15m"), Ok(900));
    assert_eq!(parse_interval("2h"), Ok(7200));
    assert_eq!(parse_interval("5"), Ok(300));
    assert!(parse_interval("5 days").is_err());
    assert!(parse_interval("soon").is_err());
}

#[test]
fn no_tpm_and_use_tpm_conflict() {
    let parsed = Cli::try_parse_from(["tokenclient", "--no-tpm", "--useTPM"]);
    assert!(parsed.is_err());
}

#[test]
fn an_empty_socket_flag_disables_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", MINIMAL);
    let config = load_with_flags(&file, &["--socket", ""], BTreeMap::new());
    assert!(config.delivery.socket.as_os_str().is_empty());
    let config = load_with_flags(&file, &["--socket", "/run/x.sock"], BTreeMap::new());
    assert_eq!(config.delivery.socket, PathBuf::from("/run/x.sock"));
}
