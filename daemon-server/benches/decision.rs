//! Criterion benchmark of the release decision's pure core on realistic evidence: the VM's evidence
//! as gcpsim serves it in Google's JSON shapes (decoded by our Google clients), a real RS256 identity
//! token with the JWK set, and an Alice-signed approval. Measures `core::identity::verify`,
//! `core::policy::evaluate`, and both, for a short audit log and for one of 2,000 entries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::JwkSet;
use tokendist_core::approval::{self, Approval};
use tokendist_core::evidence::{Evidence, PeerEvidence};
use tokendist_core::identity::verify::{IdentityExpectations, verify};
use tokendist_core::settings::{Settings, encode_verifying_key};
use tokendist_gcp::{ComputeClient, EvidenceCollector, GcpConfig, LoggingClient};
use tokendist_sim::MintTokenRequest;
use tokendist_testkit::demo::{GOOD_VM as VM, PROJECT, ZONE, scenario_with_padded_history};
use tokendist_testkit::gcpsim;

const AUDIENCE: &str = "https://tokenserver.bench.example";

/// Everything one decision needs, gathered once from gcpsim.
struct Inputs {
    token: String,
    jwks: JwkSet,
    expectations: IdentityExpectations,
    approval: Approval,
    evidence: Evidence,
    settings: Settings,
}

async fn gather(pad_history: usize) -> Inputs {
    // gcpsim's fingerprints are sometimes not decodable by the Google client (see the tests'
    // support/world.rs); start again until the evidence is complete.
    for _ in 0..30 {
        let sim = gcpsim::start(scenario_with_padded_history(pad_history)).await;
        let config = GcpConfig::for_simulator(sim.api, None);
        let collector = EvidenceCollector::new(
            ComputeClient::new(&config).await.unwrap(),
            LoggingClient::new(&config).await.unwrap(),
        );
        let vm = collector.collect(PROJECT, ZONE, VM).await;
        let (Ok(instance), true, true) = (
            vm.instance.clone(),
            vm.boot_disk.is_ok(),
            vm.audit_log.is_ok(),
        ) else {
            sim.shutdown().await;
            continue;
        };
        let token = sim
            .handle()
            .mint_identity_token(&MintTokenRequest {
                vm: VM.into(),
                audience: AUDIENCE.into(),
                format: Some("full".into()),
                licenses: true,
                iat: None,
                exp: None,
            })
            .unwrap();
        let jwks: JwkSet = serde_json::from_value(sim.handle().jwks()).unwrap();
        let alice = SigningKey::from_bytes(&[7u8; 32]);
        let mut settings = Settings {
            audience: AUDIENCE.into(),
            ..Settings::default()
        };
        settings.trusted_approver_keys = vec![encode_verifying_key(&alice.verifying_key())];
        let now = chrono::Utc::now();
        let mut approval = Approval::proposed_from(
            &instance,
            &settings.always_allowed_metadata_keys,
            "alice@example.com",
            now,
        );
        approval.require_tpm = false;
        approval.revision = 1;
        approval::sign(&mut approval, &alice);
        let expectations = settings.identity_expectations(None);
        let claims = verify(&token, &jwks, &expectations, now).unwrap();
        let (evidence, _) = vm.into_evidence(
            Ok(claims),
            PeerEvidence {
                address: Some("127.0.0.1".into()),
                client_cert_serial: None,
            },
            now,
        );
        let inputs = Inputs {
            token,
            jwks,
            expectations,
            approval,
            evidence,
            settings,
        };
        let verdict =
            tokendist_core::policy::evaluate(&inputs.approval, &inputs.evidence, &inputs.settings);
        assert!(verdict.allowed(), "{:?}", verdict.failed_names());
        sim.shutdown().await;
        return inputs;
    }
    panic!("gcpsim evidence never decoded");
}

fn decision(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (label, pad) in [("audit_log_1", 0), ("audit_log_2001", 2000)] {
        let inputs = runtime.block_on(gather(pad));
        let now = inputs.evidence.gathered_at;
        let mut group = c.benchmark_group(label);
        group.bench_function("identity_verify", |b| {
            b.iter(|| {
                verify(
                    black_box(&inputs.token),
                    &inputs.jwks,
                    &inputs.expectations,
                    now,
                )
                .unwrap()
            })
        });
        group.bench_function("policy_evaluate", |b| {
            b.iter(|| {
                tokendist_core::policy::evaluate(
                    black_box(&inputs.approval),
                    black_box(&inputs.evidence),
                    &inputs.settings,
                )
            })
        });
        group.bench_function("verify_then_evaluate", |b| {
            b.iter(|| {
                let claims = verify(
                    black_box(&inputs.token),
                    &inputs.jwks,
                    &inputs.expectations,
                    now,
                )
                .unwrap();
                black_box(claims);
                tokendist_core::policy::evaluate(
                    black_box(&inputs.approval),
                    black_box(&inputs.evidence),
                    &inputs.settings,
                )
                .allowed()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, decision);
criterion_main!(benches);
