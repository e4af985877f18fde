//! The shipped sysusers.d and tmpfiles.d files agree with the units and configs: every `User=` /
//! `Group=` / `SupplementaryGroups=` of `dist/systemd/*.service` is created by
//! `dist/sysusers.d/tokendist.conf`, every directory the shipped configs (and tokenclient's defaults)
//! put files in is created by `dist/tmpfiles.d/tokendist.conf` or a unit's `StateDirectory=` /
//! `RuntimeDirectory=` / `ConfigurationDirectory=`; and where systemd's own tools exist, they apply
//! both files to a scratch root without complaint, with the owners and modes the units need.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tokendist_client::config::ClientConfig;

fn dist(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dist")
        .join(path)
}

const UNITS: [&str; 2] = ["tokenserver.service", "tokenclient.service"];

/// `(key, value)` of a unit's `[Service]` section.
fn service_entries(unit: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dist(&format!("systemd/{unit}"))).unwrap();
    let mut in_service = false;
    let mut entries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            in_service = line == "[Service]";
            continue;
        }
        let (key, value) = line.split_once('=').unwrap();
        if in_service {
            entries.push((key.to_string(), value.to_string()));
        }
    }
    entries
}

fn values(unit: &str, key: &str) -> Vec<String> {
    service_entries(unit)
        .into_iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// The non-comment lines of a dist file, split into fields.
fn config_lines(path: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dist(path))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn every_user_and_group_of_the_units_is_created_by_sysusers() {
    let lines = config_lines("sysusers.d/tokendist.conf");
    let users: Vec<&str> = lines
        .iter()
        .filter(|f| f[0] == "u")
        .map(|f| f[1].as_str())
        .collect();
    // A `u` line also creates the user's own group.
    let groups: Vec<&str> = lines
        .iter()
        .filter(|f| f[0] == "u" || f[0] == "g")
        .map(|f| f[1].as_str())
        .collect();
    let mut checked = 0;
    for unit in UNITS {
        for user in values(unit, "User") {
            assert!(users.contains(&user.as_str()), "{unit}: User={user}");
            checked += 1;
        }
        for group in [values(unit, "Group"), values(unit, "SupplementaryGroups")].concat() {
            assert!(groups.contains(&group.as_str()), "{unit}: group {group}");
            checked += 1;
        }
        if values(unit, "User").is_empty() {
            assert_eq!(values(unit, "DynamicUser"), ["yes"], "{unit} names no user");
        }
    }
    assert!(
        checked >= 3,
        "the server's user and group, the client's tss"
    );
}

/// The directories the units have systemd create, and those tmpfiles.d creates.
fn managed_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = config_lines("tmpfiles.d/tokendist.conf")
        .iter()
        .filter(|f| f[0] == "d")
        .map(|f| PathBuf::from(&f[1]))
        .collect();
    for unit in UNITS {
        for (key, root) in [
            ("StateDirectory", "/var/lib"),
            ("RuntimeDirectory", "/run"),
            ("ConfigurationDirectory", "/etc"),
        ] {
            dirs.extend(values(unit, key).iter().map(|d| Path::new(root).join(d)));
        }
    }
    dirs
}

/// Every absolute path in a TOML value (a `sqlite:///…` store URL included).
fn paths_in(value: &toml::Value, out: &mut Vec<PathBuf>) {
    match value {
        toml::Value::String(s) => {
            let s = s.strip_prefix("sqlite://").unwrap_or(s);
            if s.starts_with('/') {
                out.push(PathBuf::from(s));
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|v| paths_in(v, out)),
        toml::Value::Table(table) => table.values().for_each(|v| paths_in(v, out)),
        _ => {}
    }
}

#[test]
fn every_directory_the_configs_use_is_created() {
    let mut files = Vec::new();
    for config in ["tokenserver.toml", "tokenclient.toml"] {
        let text = std::fs::read_to_string(dist(config)).unwrap();
        let table: toml::Table = text.parse().unwrap();
        paths_in(&toml::Value::Table(table), &mut files);
    }
    let defaults = ClientConfig::default();
    files.push(defaults.delivery.dir.join("NAME"));
    files.push(defaults.delivery.socket.clone());
    // Device paths are the kernel's, not ours.
    files.retain(|f| !f.starts_with("/dev"));
    assert!(files.len() >= 8, "{files:?}");
    let managed = managed_dirs();
    for file in &files {
        let dir = file.parent().unwrap();
        assert!(
            managed.iter().any(|m| dir.starts_with(m)),
            "{} is in {}, which neither tmpfiles.d nor a unit creates ({managed:?})",
            file.display(),
            dir.display()
        );
    }
}

fn tool_exists(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn systemd_applies_both_files_to_a_scratch_root() {
    // Never a pass by skipping: scripts/install-deps installs them (package systemd).
    assert!(
        tool_exists("systemd-sysusers") && tool_exists("systemd-tmpfiles"),
        "systemd-sysusers/systemd-tmpfiles not installed: run scripts/install-deps"
    );
    let root = tempfile::tempdir().unwrap();
    for (kind, file) in [
        ("sysusers.d", "sysusers.d/tokendist.conf"),
        ("tmpfiles.d", "tmpfiles.d/tokendist.conf"),
    ] {
        let dir = root.path().join("usr/lib").join(kind);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(dist(file), dir.join("tokendist.conf")).unwrap();
    }
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let run = |tool: &str, extra: &[&str]| {
        let output = Command::new(tool)
            .arg(format!("--root={}", root.path().display()))
            .args(extra)
            .arg("tokendist.conf")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{tool}: {stderr}");
        assert!(!stderr.contains("ignoring"), "{tool}: {stderr}");
    };
    run("systemd-sysusers", &[]);
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    assert!(
        passwd.lines().any(|l| l.starts_with("tokendist:")),
        "{passwd}"
    );
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    assert!(group.lines().any(|l| l.starts_with("tss:")), "{group}");

    run("systemd-tmpfiles", &["--create"]);
    let mode = |dir: &str| {
        std::fs::metadata(root.path().join(dir))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("etc/tokendist"), 0o750);
    assert_eq!(mode("var/lib/tokendist"), 0o700);
}
