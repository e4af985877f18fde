//! Bob's Terraform renders exactly the cloud-config Alice trusts: the `user_data` local of
//! terraform/bob/modules/deploy/user_data.tf is evaluated (with `hcl-rs`, and with the real `terraform
//! console` where terraform is installed), the text passes core's cloud-config analysis, and a gcpsim
//! VM created with it passes every `cloudconfig.*` check in `tokendist show`, which reports the same
//! user-data hash as Terraform's `user_data_sha256` output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use support::{Console, GOOD_DIGEST, GOOD_VM};
use tokendist_core::checks::REVIEW_CHECKS;
use tokendist_core::cloudconfig::{analyse, user_data_sha256_b64};

/// Sample values for the template's holes, within the demo settings' hole patterns.
const SAMPLE_VARS: [(&str, &str); 4] = [
    ("tokenserver_address", "tokenserver.alice.example:50051"),
    ("audience", "https://tokenserver.alice.example"),
    (
        "image_repository",
        "us-docker.pkg.dev/bob-project/tokendist/tokenclient",
    ),
    ("image_digest", GOOD_DIGEST),
];

fn deploy_module() -> PathBuf {
    tokendist_testkit::demo::repo_dir()
        .join("terraform/bob/modules/deploy")
        .canonicalize()
        .unwrap()
}

/// Terraform's `file(path)`.
fn file(args: FuncArgs) -> Result<hcl::Value, String> {
    let path = args[0].as_str().ok_or("file: not a string")?;
    std::fs::read_to_string(path)
        .map(hcl::Value::from)
        .map_err(|e| format!("file({path}): {e}"))
}

/// Terraform's `replace(string, substring, replacement)` for a literal substring (a `/regex/` one
/// is refused: Bob's module must not depend on regex semantics).
fn replace(args: FuncArgs) -> Result<hcl::Value, String> {
    let [text, from, to] = [0, 1, 2].map(|i| args[i].as_str().unwrap_or_default().to_owned());
    if from.starts_with('/') && from.ends_with('/') {
        return Err(format!("replace: {from} would be a regular expression"));
    }
    Ok(text.replace(&from, &to).into())
}

/// The `user_data` local of Bob's deploy module, evaluated with `hcl-rs`.
fn render_with_hcl(module: &Path) -> String {
    let text = std::fs::read_to_string(module.join("user_data.tf")).unwrap();
    let body = hcl::parse(&text).unwrap();
    let locals = body
        .blocks()
        .find(|b| b.identifier.as_str() == "locals")
        .unwrap();
    let expr = &locals
        .body
        .attributes()
        .find(|a| a.key.as_str() == "user_data")
        .unwrap()
        .expr;
    let mut ctx = Context::new();
    ctx.declare_var(
        "var",
        SAMPLE_VARS
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect::<hcl::Value>(),
    );
    ctx.declare_var(
        "path",
        [("module", module.to_str().unwrap())]
            .into_iter()
            .collect::<hcl::Value>(),
    );
    ctx.declare_func(
        "file",
        FuncDef::builder().param(ParamType::String).build(file),
    );
    ctx.declare_func(
        "replace",
        FuncDef::builder()
            .params([ParamType::String, ParamType::String, ParamType::String])
            .build(replace),
    );
    let value = expr.evaluate(&ctx).unwrap();
    value.as_str().unwrap().to_owned()
}

/// `terraform console` on the same local (its file copied beside declarations of the variables, with
/// `path.module` spelled out): the text and Terraform's `base64sha256`, or None without terraform.
fn render_with_terraform(module: &Path) -> Option<(String, String)> {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not installed: only the hcl-rs rendering is checked");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let local = std::fs::read_to_string(module.join("user_data.tf"))
        .unwrap()
        .replace("${path.module}", module.to_str().unwrap());
    std::fs::write(dir.path().join("user_data.tf"), local).unwrap();
    let variables: String = SAMPLE_VARS
        .iter()
        .map(|(name, _)| format!("variable \"{name}\" {{\n  type = string\n}}\n"))
        .collect();
    std::fs::write(dir.path().join("variables.tf"), variables).unwrap();
    let evaluate = |expression: &str| {
        let mut command = Command::new("terraform");
        command.current_dir(dir.path()).arg("console");
        for (name, value) in SAMPLE_VARS {
            command.arg("-var").arg(format!("{name}={value}"));
        }
        let output = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{expression}\n").as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(output.status.success(), "terraform console: {output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .trim()
            .trim_matches('"')
            .to_owned()
    };
    let text = base64::engine::general_purpose::STANDARD
        .decode(evaluate("base64encode(local.user_data)"))
        .unwrap();
    Some((
        String::from_utf8(text).unwrap(),
        evaluate("base64sha256(local.user_data)"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bobs_terraform_renders_the_trusted_template_and_show_reports_its_hash() {
    let module = deploy_module();
    let rendered = render_with_hcl(&module);
    for (name, value) in SAMPLE_VARS {
        assert!(
            rendered.contains(value),
            "{name} not filled in:\n{rendered}"
        );
    }
    assert!(!rendered.contains("{{"), "a hole is left:\n{rendered}");
    if let Some((text, sha256)) = render_with_terraform(&module) {
        assert_eq!(text, rendered, "terraform renders another text");
        assert_eq!(sha256, user_data_sha256_b64(&rendered));
    }

    let analysis = analyse(&rendered).unwrap();
    assert!(analysis.ssh_rule_removed, "{analysis:#?}");
    assert!(analysis.serial_getty_masked, "{analysis:#?}");
    assert_eq!(analysis.containers.len(), 1, "{analysis:#?}");
    assert!(analysis.containers[0].pinned(), "{analysis:#?}");
    assert!(analysis.uninspectable.is_empty(), "{analysis:#?}");

    // A gcpsim VM created with the rendered text as its user-data.
    let dir = tempfile::tempdir().unwrap();
    let user_data = dir.path().join("terraform.cloud-config.yaml");
    std::fs::write(&user_data, &rendered).unwrap();
    let scenario =
        tokendist_testkit::demo::scenario_from(&tokendist_testkit::demo::demo_toml().replacen(
            "user_data = \"tokenclient-good.cloud-config.yaml\"",
            &format!("user_data = {:?}", user_data.to_str().unwrap()),
            1,
        ));
    let console = Console::start_with(scenario).await;
    let show = console.show_json(GOOD_VM).await;
    assert_eq!(show["instance"]["metadata"]["user-data"], rendered.as_str());
    let review: Vec<(&str, &str)> = show["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("cloudconfig."))
        .map(|c| (c["name"].as_str().unwrap(), c["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        review,
        REVIEW_CHECKS.map(|name| (name, "pass")),
        "{:#}",
        show["checks"]
    );
    assert_eq!(
        show["user_data_sha256"],
        user_data_sha256_b64(&rendered).as_str()
    );
}
