//! The Cloud-config tab on the demo's VMs (sim/scenarios), the original's cloud-configs
//! (../shared/fixtures/gce, read in place) and adversarial texts: diffs, hole values and flagged lines.

use std::collections::BTreeMap;

use tokendist_core::checks::{
    CLOUDCONFIG_IMAGE_PINNED, CLOUDCONFIG_IMAGE_TRUSTED, CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_SSH_DISABLED, CLOUDCONFIG_TEMPLATE,
};
use tokendist_core::cloudconfig::TemplateSettings;
use tokendist_core::settings::Settings;

use super::*;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fixture(name: &str) -> String {
    repo_file(&format!("../shared/fixtures/gce/{name}"))
}

/// The demo's settings with the template text read, as the console loads them.
fn demo_settings() -> Settings {
    let mut settings: Settings =
        toml::from_str(&repo_file("sim/scenarios/demo-settings.toml")).unwrap();
    let template = settings.cloud_config_template.as_mut().unwrap();
    template.text = Some(repo_file("dist/cloud-config/tokenclient.template.yaml"));
    settings
}

fn good() -> String {
    repo_file("sim/scenarios/tokenclient-good.cloud-config.yaml")
}

fn tampered() -> String {
    repo_file("sim/scenarios/tokenclient-tampered.cloud-config.yaml")
}

fn changed(diff: &TextDiff) -> Vec<(DiffTag, Option<usize>, Option<usize>, &str)> {
    diff.lines
        .iter()
        .filter(|l| l.tag != DiffTag::Same)
        .map(|l| (l.tag, l.old_line, l.new_line, l.text.as_str()))
        .collect()
}

fn flags_at(view: &CloudConfigView, line: usize) -> Vec<&str> {
    view.flagged
        .iter()
        .filter(|f| f.line == line)
        .map(|f| f.check.as_str())
        .collect()
}

#[test]
fn the_good_demo_vm_equals_its_filled_template_and_breaks_nothing() {
    let live = good();
    let view = build(Some(&live), &demo_settings(), Some(&live));
    let against_template = view.against_template.as_ref().unwrap();
    assert_eq!(against_template.against, AGAINST_TEMPLATE);
    assert_eq!(changed(against_template), []);
    assert_eq!(
        against_template.lines.len(),
        live.lines().count(),
        "every line is kept"
    );
    assert_eq!(changed(view.against_approved.as_ref().unwrap()), []);
    assert_eq!(view.flagged, []);
    let names: Vec<&str> = view.holes.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "server_address",
            "audience",
            "image_repository",
            "image_digest"
        ]
    );
    assert!(
        view.holes
            .iter()
            .all(|h| h.value.is_some() && h.problem.is_none()),
        "{:?}",
        view.holes
    );
    assert_eq!(
        view.holes[3].value.as_deref(),
        Some("sha256:7a82d1280debe6609a7558cd90a33182849b4001616a6742bd1ed07e69cdb6a7")
    );
}

#[test]
fn the_tampered_demo_vm_shows_its_changed_line_and_the_checks_it_breaks() {
    let live = tampered();
    let view = build(Some(&live), &demo_settings(), Some(&good()));
    let against_template = changed(view.against_template.as_ref().unwrap());
    assert_eq!(against_template.len(), 2, "{against_template:?}");
    assert_eq!(against_template[0].0, DiffTag::Removed);
    assert_eq!(against_template[0].1, Some(34));
    assert!(against_template[0].3.ends_with(
        "{{image_repository}}@{{image_digest}} --config /etc/tokendist/tokenclient.toml"
    ));
    assert_eq!(against_template[1].0, DiffTag::Added);
    assert_eq!(against_template[1].2, Some(34));
    assert!(
        against_template[1]
            .3
            .contains("tokenclient:latest --config")
    );
    let against_approved = changed(view.against_approved.as_ref().unwrap());
    assert_eq!(
        against_approved
            .iter()
            .map(|c| (c.0, c.1, c.2))
            .collect::<Vec<_>>(),
        [
            (DiffTag::Removed, Some(34), None),
            (DiffTag::Added, None, Some(34))
        ]
    );
    assert_eq!(
        flags_at(&view, 34),
        [
            CLOUDCONFIG_TEMPLATE,
            CLOUDCONFIG_IMAGE_PINNED,
            CLOUDCONFIG_IMAGE_TRUSTED
        ]
    );
    assert_eq!(view.flagged.len(), 3, "{:#?}", view.flagged);
    let repository = &view.holes[2];
    assert_eq!(repository.name, "image_repository");
    assert_eq!(
        repository.value.as_deref(),
        Some("us-docker.pkg.dev/bob-project/tokendist/tokenclient:latest")
    );
    assert!(
        repository
            .problem
            .as_deref()
            .unwrap()
            .contains("does not match the pattern")
    );
    assert_eq!(view.holes[3].value, None);
    assert!(view.holes[3].problem.is_some());
    assert_eq!(view.holes[0].problem, None);
}

#[test]
fn the_originals_port_change_shows_against_the_approved_text_and_its_template() {
    let approved = fixture("cos-cloud-config-seed-tokenclient.yaml");
    let live = fixture("cos-cloud-config-seed-tokenclient-tampered-port50052.yaml");
    let mut settings = Settings::default();
    settings.trusted_container_digests.insert(
        "sha256:eea4812c723e6d39d4261504508c0903c1c0958fc6ec25a9cad906c57ea610a9".to_owned(),
    );
    settings.cloud_config_template = Some(TemplateSettings {
        path: None,
        text: Some(approved.replace("34.136.142.112:50051", "{{address}}")),
        holes: BTreeMap::from([("address".to_owned(), r"34\.136\.142\.112:50051".to_owned())]),
    });
    let view = build(Some(&live), &settings, Some(&approved));
    let lines: Vec<(DiffTag, Option<usize>, Option<usize>)> =
        changed(view.against_approved.as_ref().unwrap())
            .iter()
            .map(|c| (c.0, c.1, c.2))
            .collect();
    assert_eq!(
        lines,
        [
            (DiffTag::Removed, Some(16), None),
            (DiffTag::Added, None, Some(16)),
            (DiffTag::Removed, Some(26), None),
            (DiffTag::Added, None, Some(26)),
        ],
        "the port line, and the last line that lost its newline"
    );
    assert_eq!(view.holes[0].value.as_deref(), Some("34.136.142.112:50052"));
    assert!(view.holes[0].problem.is_some());
    assert!(flags_at(&view, 16).contains(&CLOUDCONFIG_TEMPLATE));
    // The original's VM is hardened and runs one trusted, pinned image: only the template fails.
    assert!(
        view.flagged.iter().all(|f| f.check == CLOUDCONFIG_TEMPLATE),
        "{:#?}",
        view.flagged
    );
}

#[test]
fn googles_example_is_flagged_for_its_unpinned_image_and_missing_hardening() {
    let live = fixture("cos-cloud-config-google-docs-run-container.yaml");
    let view = build(Some(&live), &Settings::default(), None);
    assert_eq!(view.against_template, None, "no template configured");
    assert_eq!(view.against_approved, None);
    assert_eq!(
        flags_at(&view, 16),
        [CLOUDCONFIG_IMAGE_PINNED, CLOUDCONFIG_IMAGE_TRUSTED]
    );
    assert_eq!(
        flags_at(&view, 0),
        [
            CLOUDCONFIG_TEMPLATE,
            CLOUDCONFIG_SSH_DISABLED,
            CLOUDCONFIG_SERIAL_DISABLED
        ],
        "what no line does is flagged for the whole document"
    );
}

#[test]
fn anchors_and_other_yaml_features_are_flagged_where_they_are() {
    let live = good().replace(
        "runcmd:\n- systemctl daemon-reload\n",
        "runcmd: &cmds\n- systemctl daemon-reload\n",
    );
    let view = build(Some(&live), &demo_settings(), None);
    let line = live.lines().position(|l| l.contains("&cmds")).unwrap() + 1;
    let mut at_anchor = flags_at(&view, line);
    at_anchor.retain(|c| *c != CLOUDCONFIG_TEMPLATE);
    assert_eq!(at_anchor, ANALYSIS_CHECKS);
    assert!(view.flagged.iter().any(|f| f.why.contains("YAML anchor")));
}

#[test]
fn re_opening_ssh_is_flagged_on_its_entry_even_in_a_folded_block_or_a_flow_list() {
    let folded = good().replace(
        "- systemctl start tokenclient.service\n",
        "- systemctl start tokenclient.service\n- >\n  iptables -P INPUT\n  ACCEPT\n",
    );
    let view = build(Some(&folded), &demo_settings(), None);
    let entry = folded.lines().position(|l| l == "- >").unwrap() + 1;
    assert_eq!(
        flags_at(&view, entry),
        [CLOUDCONFIG_TEMPLATE, CLOUDCONFIG_SSH_DISABLED],
        "{:#?}",
        view.flagged
    );

    let flow = good().replace(
        "runcmd:\n- systemctl daemon-reload\n- systemctl start tokenclient.service\n",
        "runcmd: [systemctl daemon-reload, \"systemctl unmask serial-getty@ttyS0\"]\n",
    );
    let view = build(Some(&flow), &demo_settings(), None);
    let key = flow.lines().position(|l| l.starts_with("runcmd:")).unwrap() + 1;
    assert!(
        flags_at(&view, key).contains(&CLOUDCONFIG_SERIAL_DISABLED),
        "{:#?}",
        view.flagged
    );
}

#[test]
fn another_module_and_a_second_container_are_flagged() {
    let digest = "sha256:7a82d1280debe6609a7558cd90a33182849b4001616a6742bd1ed07e69cdb6a7";
    let live = format!(
        "{}- docker run --privileged us-docker.pkg.dev/bob-project/tokendist/tokenclient@{digest}\nusers:\n- name: mallory\n",
        good()
    );
    let view = build(Some(&live), &demo_settings(), None);
    let second = live
        .lines()
        .position(|l| l.contains("--privileged"))
        .unwrap()
        + 1;
    assert!(
        view.flagged
            .iter()
            .any(|f| f.line == second && f.why.contains("starts another container")),
        "{:#?}",
        view.flagged
    );
    let users = live.lines().position(|l| l == "users:").unwrap() + 1;
    let mut at_users = flags_at(&view, users);
    at_users.retain(|c| *c != CLOUDCONFIG_TEMPLATE);
    assert_eq!(at_users, ANALYSIS_CHECKS);
}

#[test]
fn a_shell_script_is_flagged_on_its_first_line_and_no_user_data_gives_an_empty_tab() {
    let view = build(Some("#!/bin/sh\necho hi\n"), &demo_settings(), None);
    let mut at_first = flags_at(&view, 1);
    at_first.retain(|c| *c != CLOUDCONFIG_TEMPLATE);
    assert_eq!(at_first, ANALYSIS_CHECKS);
    assert_eq!(
        build(None, &demo_settings(), None),
        CloudConfigView::default()
    );
}

#[test]
fn each_of_five_thousand_unpinned_containers_is_flagged_on_its_own_line() {
    let mut live = good();
    let first = live.lines().count() + 1;
    for i in 0..5000 {
        live.push_str(&format!("- docker run image{i}:latest\n"));
    }
    let view = build(Some(&live), &demo_settings(), Some(&good()));
    assert_eq!(changed(view.against_approved.as_ref().unwrap()).len(), 5000);
    for (line, i) in [(first, 0), (first + 4999, 4999)] {
        let mut checks = flags_at(&view, line);
        checks.dedup();
        assert_eq!(
            checks,
            [
                CLOUDCONFIG_TEMPLATE,
                CLOUDCONFIG_IMAGE_PINNED,
                CLOUDCONFIG_IMAGE_TRUSTED
            ],
            "image{i}"
        );
    }
}
