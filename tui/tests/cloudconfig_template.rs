//! `cloudconfig.template` and the fail-closed analysis as Alice sees them in `tokendist show`, and
//! approving without a template: the real binary against gcpsim, with Bob's changes made through the
//! real `gcloud` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{Console, GOOD_DIGEST, GOOD_VM, GOOD_VM_ID, PROJECT, TAMPERED_VM, ZONE};
use tokendist_core::approval::verify;
use tokendist_core::checks::REVIEW_CHECKS;

fn check<'a>(show: &'a Value, name: &str) -> &'a Value {
    show["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("check {name} missing"))
}

fn failed_review_checks(show: &Value) -> Vec<String> {
    show["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["name"].as_str().unwrap().starts_with("cloudconfig.") && c["outcome"] == "fail"
        })
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `gcloud compute instances add-metadata VM --metadata-from-file user-data=FILE` against gcpsim.
fn gcloud_set_user_data(console: &Console, vm: &str, user_data: &str) {
    let file = console.path("user-data.yaml");
    std::fs::write(&file, user_data).unwrap();
    let api = console.sim.as_ref().unwrap().api;
    tokendist_testkit::gcpsim::gcloud(
        api,
        &console.path("gcloud"),
        &[
            "compute",
            "instances",
            "add-metadata",
            vm,
            "--zone",
            ZONE,
            "--metadata-from-file",
            &format!("user-data={}", file.display()),
        ],
    );
}

fn good_user_data() -> String {
    std::fs::read_to_string(
        tokendist_testkit::demo::scenarios_dir().join("tokenclient-good.cloud-config.yaml"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_good_demo_vm_matches_its_template_and_the_tampered_one_fails_naming_the_line() {
    let console = Console::start().await;
    let good = console.show_json(GOOD_VM).await;
    for name in REVIEW_CHECKS {
        assert_eq!(check(&good, name)["outcome"], "pass", "{name}: {good:#}");
    }
    let tampered = console.show_json(TAMPERED_VM).await;
    let template = check(&tampered, "cloudconfig.template");
    assert_eq!(template["outcome"], "fail");
    let reason = template["reason"].as_str().unwrap();
    assert!(
        reason.contains("line 34: the value \"us-docker.pkg.dev/bob-project/tokendist/tokenclient:latest\" of hole `{{image_repository}}`"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_inside_bootcmd_set_with_gcloud_is_uninspectable_not_hardened() {
    let console = Console::start().await;
    let line = "- iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n";
    let bypass = good_user_data().replace(
        line,
        "- \"true # ; iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\"\n",
    );
    gcloud_set_user_data(&console, GOOD_VM, &bypass);
    let show = console.show_json(GOOD_VM).await;
    assert_eq!(failed_review_checks(&show), REVIEW_CHECKS, "{show:#}");
    let template = check(&show, "cloudconfig.template")["reason"]
        .as_str()
        .unwrap();
    assert!(
        template.contains("line 40, column 3: expected \"iptables -D INPUT"),
        "{template}"
    );
    let ssh = check(&show, "cloudconfig.ssh_disabled")["reason"]
        .as_str()
        .unwrap();
    assert!(
        ssh.contains("uninspectable") && ssh.contains("a comment"),
        "{ssh}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_key_set_with_gcloud_is_uninspectable() {
    let console = Console::start().await;
    let bypass = format!(
        "{}<<: {{bootcmd: [iptables -P INPUT ACCEPT]}}\n",
        good_user_data()
    );
    gcloud_set_user_data(&console, GOOD_VM, &bypass);
    let show = console.show_json(GOOD_VM).await;
    assert_eq!(failed_review_checks(&show), REVIEW_CHECKS, "{show:#}");
    let ssh = check(&show, "cloudconfig.ssh_disabled")["reason"]
        .as_str()
        .unwrap();
    assert!(ssh.contains("merge key"), "{ssh}");
}

/// Settings without a template: only the trusted digest.
fn remove_template(console: &Console) {
    std::fs::write(
        console.path("settings.toml"),
        format!("trusted_container_digests = [\"{GOOD_DIGEST}\"]\n"),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_without_a_template_is_refused_naming_the_check() {
    let console = Console::start().await;
    remove_template(&console);
    let show = console.show_json(GOOD_VM).await;
    assert_eq!(failed_review_checks(&show), ["cloudconfig.template"]);
    let reason = check(&show, "cloudconfig.template")["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("[cloud_config_template]"), "{reason}");

    let run = console.approve(GOOD_VM, &["--yes", "--no-tpm"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("cloudconfig.template"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force --reason"), "{}", run.stderr);
    let store = console.store().await;
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forcing_an_approval_without_a_template_signs_the_reason_into_the_approval() {
    let console = Console::start().await;
    remove_template(&console);
    let reason = "template not written yet; diff read by hand";
    let run = console
        .approve(
            GOOD_VM,
            &["--yes", "--no-tpm", "--force", "--reason", reason],
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let store = console.store().await;
    let mut approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert_eq!(approval.forced_reason.as_deref(), Some(reason));
    verify(&approval, &[console.alice_public()]).unwrap();
    approval.forced_reason = None;
    assert!(
        verify(&approval, &[console.alice_public()]).is_err(),
        "the reason is covered by the signature"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_file_with_a_bad_hole_pattern_is_a_configuration_error() {
    let console = Console::start().await;
    let settings = std::fs::read_to_string(console.path("settings.toml"))
        .unwrap()
        .replace("'sha256:[0-9a-f]{64}'", "'sha256:[0-9a-f'");
    std::fs::write(console.path("settings.toml"), settings).unwrap();
    let run = console
        .run(&["show", GOOD_VM, "--project", PROJECT, "--zone", ZONE])
        .await;
    assert_eq!(run.code, 78, "{run:?}");
    assert!(run.stderr.contains("image_digest"), "{}", run.stderr);
}
