//! Alice's server VM cloud-config (terraform/alice/modules/deploy/cloud-config.yaml.tftpl), rendered
//! with sample values the way `templatefile()` does (with `hcl-rs`): it is YAML, installs the systemd
//! unit from dist/ unchanged, fetches each secret, and the configuration it writes is accepted by
//! `tokenserver --check-config` (so a renamed or removed server setting breaks this test).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use tokendist_testkit::process::binary;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Terraform's `indent(spaces, string)`: every line but the first prefixed.
fn indent(args: FuncArgs) -> Result<hcl::Value, String> {
    let spaces = args[0].as_u64().ok_or("indent: not a number")?;
    let text = args[1].as_str().ok_or("indent: not a string")?;
    let prefix = " ".repeat(usize::try_from(spaces).map_err(|e| e.to_string())?);
    Ok(text.replace('\n', &format!("\n{prefix}")).into())
}

fn render(unit: &str) -> String {
    let template_text = std::fs::read_to_string(
        repo().join("terraform/alice/modules/deploy/cloud-config.yaml.tftpl"),
    )
    .unwrap();
    let template: hcl::Template = template_text.parse().unwrap();
    let mut ctx = Context::new();
    for (name, value) in [
        ("unit", unit),
        ("project_id", "alice-project"),
        ("audience", "https://tokenserver.alice.example"),
        (
            "store_url",
            "firestore://alice-project/(default)?collection_prefix=tokendist-",
        ),
        (
            "trusted_container_digests",
            "[\"sha256:7a82d1280debe6609a7558cd90a33182849b4001616a6742bd1ed07e69cdb6a7\"]",
        ),
        ("release_url", "https://releases.alice.example/tokenserver"),
        (
            "release_sha256",
            "4f0c8b1f0b3a1f6f2a7c4c3f5b0e2d1c9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
        ),
    ] {
        ctx.declare_var(name, value);
    }
    ctx.declare_var("grpc_port", 50051);
    ctx.declare_var(
        "secret_ids",
        [
            ("server.crt", "tokendist-server-crt"),
            ("server.key", "tokendist-server-key"),
        ]
        .into_iter()
        .collect::<hcl::Value>(),
    );
    ctx.declare_func(
        "indent",
        FuncDef::builder()
            .params([ParamType::Number, ParamType::String])
            .build(indent),
    );
    template.evaluate(&ctx).unwrap()
}

#[test]
fn alices_cloud_config_installs_the_dist_unit_fetches_the_secrets_and_a_valid_configuration() {
    let unit = std::fs::read_to_string(repo().join("dist/systemd/tokenserver.service")).unwrap();
    let rendered = render(&unit);
    assert!(rendered.starts_with("#cloud-config\n"), "{rendered}");
    let document: serde_yaml::Value = serde_yaml::from_str(&rendered).unwrap();
    let files = document["write_files"].as_sequence().unwrap();
    let file = |path: &str| {
        files
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} not written:\n{rendered}"))["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        file("/etc/systemd/system/tokenserver.service").trim_end(),
        unit.trim_end()
    );
    let runcmd: Vec<&str> = document["runcmd"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for (file, secret) in [
        ("server.crt", "tokendist-server-crt"),
        ("server.key", "tokendist-server-key"),
    ] {
        let fetch = format!(
            "gcloud secrets versions access latest --project='alice-project' --secret='{secret}' --out-file=/etc/tokendist/{file}"
        );
        assert!(runcmd.contains(&fetch.as_str()), "{runcmd:#?}");
    }
    let verify = runcmd
        .iter()
        .position(|c| c.contains("sha256sum --check"))
        .unwrap();
    let install = runcmd
        .iter()
        .position(|c| c.starts_with("install -m 0755"))
        .unwrap();
    assert!(
        verify < install,
        "the binary is installed before its hash is checked"
    );

    // The files the configuration names, made as the runcmd and README make them, in a scratch
    // root: `--check-config` reads and checks every one.
    let dir = tempfile::tempdir().unwrap();
    let (etc, var) = (dir.path().join("etc"), dir.path().join("var"));
    let console = binary("tokendist").unwrap_or_else(|e| panic!("{e}"));
    let console_run = |args: &[&str]| {
        let out = Command::new(&console).args(args).output().unwrap();
        assert!(out.status.success(), "tokendist {args:?}: {out:?}");
    };
    let (etc_text, var_text) = (etc.to_str().unwrap(), var.to_str().unwrap());
    console_run(&["keygen", "--out", &format!("{etc_text}/alice")]);
    console_run(&["keygen", "--server", "--out", var_text]);
    console_run(&[
        "certs",
        "--out",
        etc_text,
        "--server-name",
        "tokenserver.alice.example",
    ]);
    for (from, to) in [
        (var.join("secrets.key"), etc.join("secrets.key")),
        (etc.join("server.pem"), etc.join("server.crt")),
        (etc.join("ca.pem"), etc.join("client-ca.crt")),
    ] {
        std::fs::rename(&from, &to).unwrap_or_else(|e| panic!("{from:?}: {e}"));
    }
    let config = dir.path().join("tokenserver.toml");
    let text = file("/etc/tokendist/tokenserver.toml")
        .replace("/etc/tokendist/", &format!("{etc_text}/"))
        .replace("/var/lib/tokendist/", &format!("{var_text}/"));
    std::fs::write(&config, text).unwrap();
    let check = Command::new(binary("tokenserver").unwrap_or_else(|e| panic!("{e}")))
        .arg("--config")
        .arg(&config)
        .arg("--check-config")
        .env_clear()
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(summary.contains("listening on 0.0.0.0:50051"), "{summary}");
}
