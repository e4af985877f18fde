//! The shipped files: `dist/tokenclient.toml` loads as a valid configuration with the documented
//! defaults, and `dist/systemd/tokenclient.service` is a hardened Type=notify unit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use tokendist_client::config::{ClientConfig, ConfigSources};

fn dist(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dist")
        .join(path)
}

#[test]
fn example_config_loads_and_matches_the_defaults_it_documents() {
    let config = ClientConfig::load(&ConfigSources {
        file: Some(dist("tokenclient.toml")),
        ..Default::default()
    })
    .unwrap();
    let defaults = ClientConfig::default();
    assert_eq!(config.poll_interval_ms, defaults.poll_interval_ms);
    assert_eq!(config.tpm, defaults.tpm);
    assert_eq!(config.delivery.dir, defaults.delivery.dir);
    assert_eq!(config.delivery.socket, defaults.delivery.socket);
    assert_eq!(config.metadata_host, defaults.metadata_host);
    assert!(config.tls.mtls);
    assert_eq!(config.reattest_interval_secs, 900);
}

#[test]
fn every_key_in_the_example_is_a_real_setting() {
    // Loading with deny_unknown_fields already proves it; also check the commented exec line parses.
    let text = std::fs::read_to_string(dist("tokenclient.toml")).unwrap();
    let uncommented = text.replace("# exec = ", "exec = ");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, uncommented).unwrap();
    let config = ClientConfig::load(&ConfigSources {
        file: Some(file),
        ..Default::default()
    })
    .unwrap();
    assert!(
        config
            .delivery
            .exec
            .unwrap()
            .contains("TOKENCLIENT_SECRETS_DIR")
    );
}

fn unit() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dist("systemd/tokenclient.service")).unwrap();
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_string();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not key=value: {line}"));
        entries.push((section.clone(), key.to_string(), value.to_string()));
    }
    entries
}

fn values(key: &str) -> Vec<String> {
    unit()
        .into_iter()
        .filter(|(section, k, _)| section == "Service" && k == key)
        .map(|(_, _, v)| v)
        .collect()
}

#[test]
fn unit_is_type_notify_hardened_with_tpm_access_and_no_restart_on_78() {
    assert_eq!(values("Type"), ["notify"]);
    assert_eq!(values("ProtectSystem"), ["strict"]);
    assert_eq!(values("DeviceAllow"), ["/dev/tpmrm0 rw"]);
    assert_eq!(values("RuntimeDirectory"), ["tokenclient"]);
    assert_eq!(values("RestartPreventExitStatus"), ["78"]);
    assert!(values("Environment").contains(&"TSS2_LOG=all+none".to_string()));
    assert_eq!(values("NoNewPrivileges"), ["yes"]);
    assert!(values("WatchdogSec").len() == 1);
    assert_eq!(values("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    let exec = values("ExecStart");
    assert!(
        exec[0].starts_with("/usr/local/bin/tokenclient --config /etc/tokendist/tokenclient.toml")
    );
}

#[test]
fn unit_paths_agree_with_the_config_defaults() {
    let defaults = ClientConfig::default();
    let runtime = format!("/run/{}", values("RuntimeDirectory")[0]);
    assert!(defaults.delivery.dir.starts_with(&runtime));
    assert!(defaults.delivery.socket.starts_with(&runtime));
    let allowed: Vec<String> = values("DeviceAllow");
    assert!(allowed[0].starts_with(defaults.tpm.tcti.trim_start_matches("device:")));
}

/// The demo VM's user-data (sim/scenarios) runs tokenclient the way a real COS VM would: the config
/// file it writes loads with the real loader, and the container's arguments parse with the real CLI.
#[test]
fn demo_vm_cloud_config_runs_tokenclient_with_a_valid_configuration() {
    use clap::Parser;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sim/scenarios/tokenclient-good.cloud-config.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let files = yaml["write_files"].as_sequence().unwrap();
    let content = |wanted: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str() == Some(wanted))
            .and_then(|f| f["content"].as_str())
            .unwrap_or_else(|| panic!("the cloud-config writes no {wanted}"))
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenclient.toml");
    std::fs::write(&file, content("/etc/tokendist/tokenclient.toml")).unwrap();
    let config = ClientConfig::load(&ConfigSources {
        file: Some(file),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(config.address, "tokenserver.alice.example:50051");
    assert!(config.tpm.enabled && config.tls.mtls);
    assert_eq!(config.tpm.tcti, "device:/dev/tpmrm0");

    let unit = content("/etc/systemd/system/tokenclient.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let (_, client_args) = exec.split_once("tokenclient@sha256:").unwrap();
    let args: Vec<&str> = client_args.split_whitespace().skip(1).collect();
    let cli =
        tokendist_client::cli::Cli::try_parse_from(std::iter::once("tokenclient").chain(args))
            .unwrap();
    assert_eq!(
        cli.config.as_deref(),
        Some(Path::new("/etc/tokendist/tokenclient.toml"))
    );
    for needed in [
        "--device /dev/tpmrm0",
        "-v /run/tokenclient:/run/tokenclient",
        "-e TSS2_LOG=all+none",
    ] {
        assert!(
            exec.contains(needed),
            "the container needs {needed}: {exec}"
        );
    }
}
