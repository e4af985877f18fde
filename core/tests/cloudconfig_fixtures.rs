//! Cloud-config analysis and the four `cloudconfig.*` analysis checks on the original's real user-data
//! (`cloudconfig.template` is left out of `failed`: these settings configure no template).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::checks;
use tokendist_core::cloudconfig::{CloudConfigError, analyse};
use tokendist_core::policy::{review, review_user_data};
use tokendist_core::verdict::{CheckResult, Outcome};

fn failed(results: &[CheckResult]) -> Vec<&str> {
    results
        .iter()
        .filter(|c| c.is_fail() && c.name != checks::CLOUDCONFIG_TEMPLATE)
        .map(|c| c.name.as_str())
        .collect()
}

#[test]
fn the_seed_file_passes_all_four() {
    let text = fixture("cos-cloud-config-seed-tokenclient.yaml");
    let analysis = analyse(&text).unwrap();
    assert_eq!(
        analysis.user_data_sha256_b64,
        "v7SftwlRj75WRXCq0Q/buov8D7t+Sg08fRqaylohfiI="
    );
    assert_eq!(analysis.user_data_sha256_hex.len(), 64);
    assert!(analysis.ssh_rule_removed && analysis.serial_getty_masked);
    assert_eq!(analysis.containers.len(), 1);
    let container = &analysis.containers[0];
    assert_eq!(container.repository, "gcr.io/tc-4f4f5a70/tokenclient");
    assert_eq!(container.digest.as_deref(), Some(SEED_DIGEST));
    assert_eq!(container.devices, ["/dev/tpm0:/dev/tpm0"]);
    assert!(container.published_ports.is_empty());
    assert!(container.docker_args.contains(&"--rm".to_owned()));
    assert_eq!(
        container.container_args[..2],
        ["--address", "34.136.142.112:50051"]
    );
    assert_eq!(
        analysis.top_level_keys,
        ["write_files", "bootcmd", "runcmd"]
    );

    let results = review(&analysis, &settings());
    let names: Vec<&str> = results.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, checks::REVIEW_CHECKS[1..]);
    assert!(results.iter().all(CheckResult::is_pass), "{results:#?}");
}

#[test]
fn tampered_file_has_its_own_hash() {
    let analysis = analyse(&fixture(
        "cos-cloud-config-seed-tokenclient-tampered-port50052.yaml",
    ))
    .unwrap();
    assert_eq!(
        analysis.user_data_sha256_b64,
        "700Dma/2uMOpNNcHAF7vjZUrrk7ZBCSdTiaUrPM0GJA="
    );
    assert_eq!(
        analysis.containers[0].container_args[1],
        "34.136.142.112:50052"
    );
}

#[test]
fn the_compute_metadata_user_data_hashes_like_the_file() {
    let instance = good_instance();
    let text = &instance.metadata["user-data"];
    assert_eq!(
        tokendist_core::cloudconfig::user_data_sha256_b64(text),
        "v7SftwlRj75WRXCq0Q/buov8D7t+Sg08fRqaylohfiI="
    );
}

#[test]
fn ssh_left_open() {
    // Google's COS example neither deletes the port-22 rule nor masks the getty, and runs by tag.
    let results = review_user_data(
        &fixture("cos-cloud-config-google-docs-run-container.yaml"),
        &settings(),
    );
    assert_eq!(results[1].name, checks::CLOUDCONFIG_SSH_DISABLED);
    assert!(results[1].is_fail());
    let text = fixture("cos-cloud-config-seed-tokenclient.yaml").replace(
        "- iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n",
        "",
    );
    assert_eq!(
        failed(&review_user_data(&text, &settings())),
        [checks::CLOUDCONFIG_SSH_DISABLED]
    );
}

#[test]
fn serial_getty_enabled() {
    let text = fixture("cos-cloud-config-seed-tokenclient.yaml")
        .replace("- systemctl mask --now serial-getty@ttyS0.service\n", "");
    assert_eq!(
        failed(&review_user_data(&text, &settings())),
        [checks::CLOUDCONFIG_SERIAL_DISABLED]
    );
}

#[test]
fn image_by_tag() {
    let text = fixture("cos-cloud-config-google-docs-run-container.yaml");
    let analysis = analyse(&text).unwrap();
    assert_eq!(analysis.containers.len(), 1);
    assert_eq!(
        analysis.containers[0].repository,
        "gcr.io/google-containers/busybox"
    );
    assert_eq!(analysis.containers[0].tag.as_deref(), Some("latest"));
    assert!(!analysis.containers[0].pinned());
    assert_eq!(
        failed(&review(&analysis, &settings())),
        checks::REVIEW_CHECKS[1..].to_vec(),
        "ssh, serial, pinned and trusted all fail for Google's example"
    );
}

#[test]
fn untrusted_digest_fails_only_image_trusted() {
    let mut settings = settings();
    settings.trusted_container_digests.clear();
    settings
        .trusted_container_digests
        .insert(format!("sha256:{}", "0".repeat(64)));
    let results = review_user_data(
        &fixture("cos-cloud-config-seed-tokenclient.yaml"),
        &settings,
    );
    assert_eq!(failed(&results), [checks::CLOUDCONFIG_IMAGE_TRUSTED]);
}

#[test]
fn two_containers() {
    let text = fixture("cos-cloud-config-seed-tokenclient.yaml").replace(
        "runcmd:\n- systemctl daemon-reload\n",
        "runcmd:\n- docker run -d -p 8080:80 --net=host nginx:1.25\n- systemctl daemon-reload\n",
    );
    let analysis = analyse(&text).unwrap();
    let images: Vec<&str> = analysis
        .containers
        .iter()
        .map(|c| c.repository.as_str())
        .collect();
    assert_eq!(images, ["gcr.io/tc-4f4f5a70/tokenclient", "nginx"]);
    assert_eq!(analysis.containers[1].source, "runcmd[0]");
    assert_eq!(analysis.containers[1].published_ports, ["8080:80"]);
    assert_eq!(analysis.containers[1].network.as_deref(), Some("host"));
    let results = review(&analysis, &settings());
    assert_eq!(
        failed(&results),
        [
            checks::CLOUDCONFIG_IMAGE_PINNED,
            checks::CLOUDCONFIG_IMAGE_TRUSTED
        ]
    );
    let Outcome::Fail(reason) = &results[2].outcome else {
        panic!()
    };
    assert!(
        reason.contains("nginx:1.25") && reason.contains("runcmd[0]"),
        "{reason}"
    );
}

#[test]
fn template_with_shell_placeholders_is_uninspectable() {
    let analysis = analyse(&fixture("cos-cloud-config-seed-tokenclient-template.yaml")).unwrap();
    assert!(analysis.containers.is_empty());
    assert_eq!(analysis.uninspectable.len(), 1, "{analysis:#?}");
    assert!(
        analysis.uninspectable[0].contains("`$` (an expansion)"),
        "{analysis:#?}"
    );
    assert_eq!(
        failed(&review(&analysis, &settings())),
        checks::REVIEW_CHECKS[1..].to_vec()
    );
}

#[test]
fn malformed_yaml_errors() {
    let text = "#cloud-config\nruncmd:\n- ok\n  bad: [unclosed\n";
    let err = analyse(text).unwrap_err();
    let CloudConfigError::Yaml { line, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(*line >= 3, "line {line}: {err}");
    assert!(err.to_string().contains(&format!("line {line}")));
    let results = review_user_data(text, &settings());
    assert_eq!(failed(&results), checks::REVIEW_CHECKS[1..].to_vec());
}

#[test]
fn duplicate_keys_are_rejected() {
    let text = "#cloud-config\nruncmd:\n- a\nruncmd:\n- b\n";
    assert!(matches!(
        analyse(text).unwrap_err(),
        CloudConfigError::Yaml { .. }
    ));
}

#[test]
fn malformed_sections_are_errors() {
    let err = analyse("#cloud-config\nruncmd: 42\n").unwrap_err();
    assert!(
        matches!(err, CloudConfigError::BadSection { ref section, .. } if section == "runcmd"),
        "{err:?}"
    );
    let err = analyse("#cloud-config\n- just\n- a list\n").unwrap_err();
    assert_eq!(err, CloudConfigError::NotAMapping);
}
