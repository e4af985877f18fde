//! The demo scenario end to end through the real clients and the real policy: evidence fetched from
//! gcpsim for both demo VMs, an approval proposed from that evidence and signed, then `evaluate` and
//! the cloud-config `review`. The good VM passes every check; the tampered VM fails exactly the checks
//! its tampering breaks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use chrono::Utc;
use tokendist_core::approval::{Approval, sign};
use tokendist_core::checks;
use tokendist_core::cloudconfig::TemplateSettings;
use tokendist_core::evidence::PeerEvidence;
use tokendist_core::policy::{evaluate, review_user_data};
use tokendist_core::settings::{Settings, encode_verifying_key};
use tokendist_core::verdict::{Outcome, Verdict};
use tokendist_gcp::JwksCache;
use tokendist_sim::MintTokenRequest;
use tokendist_testkit::demo::{GOOD_VM, PROJECT, TAMPERED_VM, ZONE};

const AUDIENCE: &str = "https://tokenserver.alice.example";

/// The good VM's container digest, which Alice trusts.
fn good_digest() -> String {
    let text = std::fs::read_to_string(
        support::scenarios_dir().join("tokenclient-good.cloud-config.yaml"),
    )
    .unwrap();
    let start = text.find("sha256:").unwrap();
    text[start..start + 71].to_string()
}

/// The demo's trusted cloud-config template (dist/) with the holes sim/scenarios/demo-settings.toml
/// gives it.
fn demo_template() -> TemplateSettings {
    let repo = support::scenarios_dir().join("../..");
    let settings =
        std::fs::read_to_string(support::scenarios_dir().join("demo-settings.toml")).unwrap();
    let holes = settings
        .lines()
        .filter_map(|line| line.strip_prefix("cloud_config_template.holes."))
        .map(|line| {
            let (name, pattern) = line.split_once(" = ").unwrap();
            (name.to_owned(), pattern.trim_matches('\'').to_owned())
        })
        .collect();
    TemplateSettings {
        path: None,
        text: Some(
            std::fs::read_to_string(repo.join("dist/cloud-config/tokenclient.template.yaml"))
                .unwrap(),
        ),
        holes,
    }
}

/// Evidence of one demo VM, its signed proposal and the verdict plus review.
async fn decide(vm: &str) -> (Verdict, Vec<tokendist_core::verdict::CheckResult>) {
    let sim = support::start(support::demo_scenario()).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let mut settings = Settings {
        audience: AUDIENCE.to_owned(),
        ..Settings::default()
    };
    settings.trusted_approver_keys = vec![encode_verifying_key(&key.verifying_key())];
    settings.trusted_container_digests.insert(good_digest());
    settings.cloud_config_template = Some(demo_template());

    let collected = support::collector(&sim)
        .await
        .collect(PROJECT, ZONE, vm)
        .await;
    let token = sim
        .handle()
        .mint_identity_token(&MintTokenRequest {
            vm: vm.to_owned(),
            audience: AUDIENCE.to_owned(),
            format: None,
            licenses: false,
            iat: None,
            exp: None,
        })
        .unwrap();
    let now = Utc::now();
    let jwks = JwksCache::new(&support::config(&sim, None)).unwrap();
    let claims = jwks
        .verify_identity_token(&token, &settings.identity_expectations(None), now)
        .await;
    let instance = collected.instance.clone().unwrap();
    let user_data = instance.metadata["user-data"].clone();
    let mut approval = Approval::proposed_from(
        &instance,
        &settings.always_allowed_metadata_keys,
        "alice",
        now,
    );
    approval.require_tpm = false;
    sign(&mut approval, &key);
    let (evidence, _) = collected.into_evidence(
        claims.map_err(|e| panic!("token did not verify: {e}")),
        PeerEvidence::default(),
        now,
    );
    (
        evaluate(&approval, &evidence, &settings),
        review_user_data(&user_data, &settings),
    )
}

fn failed(checks: &[tokendist_core::verdict::CheckResult]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| c.is_fail())
        .map(|c| c.name.as_str())
        .collect()
}

#[tokio::test]
async fn good_demo_vm_passes_every_release_and_review_check() {
    let (verdict, review) = decide(GOOD_VM).await;
    assert!(verdict.allowed(), "failed: {:?}", verdict.failed_names());
    assert!(failed(&review).is_empty(), "review failed: {review:?}");
    // Everything that applies passed; only the TPM checks (not required), unpinned network checks and
    // the Data Access log (the demo project does not write one) skip.
    for check in &verdict.checks {
        if let Outcome::Skipped(why) = &check.outcome {
            assert!(
                check.name.starts_with("tpm.")
                    || check.name.starts_with("network.")
                    || check.name == "auditlog.data_access",
                "{} skipped: {why}",
                check.name
            );
        }
    }
}

#[tokio::test]
async fn tampered_demo_vm_fails_exactly_the_checks_its_tampering_breaks() {
    let (verdict, review) = decide(TAMPERED_VM).await;
    assert_eq!(
        verdict.failed_names(),
        vec![checks::INSTANCE_METADATA, checks::AUDITLOG_CLEAN]
    );
    assert_eq!(
        failed(&review),
        vec![
            checks::CLOUDCONFIG_TEMPLATE,
            checks::CLOUDCONFIG_IMAGE_PINNED,
            checks::CLOUDCONFIG_IMAGE_TRUSTED
        ]
    );
}
