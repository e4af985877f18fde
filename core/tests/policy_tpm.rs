//! `policy::evaluate`'s `tpm.ek`, `tpm.ak` and `tpm.quote` on a verified TPM session: a good session
//! passes all three, and a table of tampered sessions or approvals, each failing exactly its check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tpm::*;
use common::*;
use tokendist_core::approval::{Approval, sign};
use tokendist_core::checks::{TPM_AK, TPM_EK, TPM_QUOTE};
use tokendist_core::evidence::{Evidence, TpmEvidence};
use tokendist_core::policy::evaluate;
use tokendist_core::tpm::ObjectAttributes;
use tokendist_core::verdict::Outcome;

fn tpm_world() -> (Approval, Evidence) {
    let mut evidence = good_evidence();
    evidence.tpm = Some(good_tpm_evidence());
    (tpm_approval(), evidence)
}

fn reason(evidence: &Evidence, approval: &Approval, name: &str) -> String {
    match &evaluate(approval, evidence, &settings())
        .get(name)
        .unwrap()
        .outcome
    {
        Outcome::Fail(r) | Outcome::Skipped(r) => r.clone(),
        Outcome::Pass => String::new(),
    }
}

#[test]
fn verified_session_matching_the_approval_passes_every_tpm_check() {
    let (approval, evidence) = tpm_world();
    let verdict = evaluate(&approval, &evidence, &settings());
    assert!(verdict.allowed(), "{:#?}", verdict.checks);
    for name in [TPM_EK, TPM_AK, TPM_QUOTE] {
        assert_eq!(verdict.get(name).unwrap().outcome, Outcome::Pass, "{name}");
    }
}

#[test]
fn tpm_checks_are_skipped_when_the_approval_does_not_require_a_tpm_even_with_a_bad_session() {
    let (mut approval, mut evidence) = tpm_world();
    approval.require_tpm = false;
    sign(&mut approval, &approver_key());
    evidence.tpm.as_mut().unwrap().credential_activated = false;
    let verdict = evaluate(&approval, &evidence, &settings());
    assert!(verdict.allowed());
    for name in [TPM_EK, TPM_AK, TPM_QUOTE] {
        assert!(
            matches!(verdict.get(name).unwrap().outcome, Outcome::Skipped(_)),
            "{name}"
        );
    }
}

type Tamper = fn(&mut Approval, &mut TpmEvidence);

#[test]
fn each_tpm_failure_fails_exactly_its_check() {
    let table: Vec<(&str, Tamper, &str)> = vec![
        (
            "session EK differs from the approved EK",
            |_, t| t.ek_public_pem = other_ek_pem(),
            TPM_EK,
        ),
        ("approval pins no EK", |a, _| a.ek_public_pem = None, TPM_EK),
        (
            "session EK is not a PEM key",
            |_, t| t.ek_public_pem = "not a key".to_owned(),
            TPM_EK,
        ),
        (
            "AK is also a decryption key",
            |_, t| {
                let mut ak = ak_public();
                ak.attributes = ObjectAttributes(ak.attributes.0 | ObjectAttributes::DECRYPT);
                t.ak_public = encode_public(&ak);
            },
            TPM_AK,
        ),
        (
            "AK is not restricted",
            |_, t| {
                let mut ak = ak_public();
                ak.attributes = ObjectAttributes(ak.attributes.0 & !ObjectAttributes::RESTRICTED);
                t.ak_public = encode_public(&ak);
            },
            TPM_AK,
        ),
        (
            "AK public is not a TPM2B_PUBLIC",
            |_, t| t.ak_public = "AAEC".to_owned(),
            TPM_AK,
        ),
        (
            "credential not activated",
            |_, t| t.credential_activated = false,
            TPM_AK,
        ),
        ("no verified quote", |_, t| t.quote = None, TPM_QUOTE),
        (
            "quote over another nonce",
            |_, t| t.quote.as_mut().unwrap().nonce = "00".repeat(32),
            TPM_QUOTE,
        ),
        (
            "PCR 7 one bit off",
            |_, t| {
                t.quote
                    .as_mut()
                    .unwrap()
                    .pcr_values
                    .insert(7, format!("aa{}", "ab".repeat(31)));
            },
            TPM_QUOTE,
        ),
        (
            "a PCR of the policy missing from the quote",
            |_, t| {
                t.quote.as_mut().unwrap().pcr_values.remove(&0);
            },
            TPM_QUOTE,
        ),
        (
            "quote in another bank",
            |_, t| t.quote.as_mut().unwrap().pcr_hash_alg = 0x0004,
            TPM_QUOTE,
        ),
        (
            "approval pins no PCR policy",
            |a, _| a.pcr_policy = None,
            TPM_QUOTE,
        ),
    ];
    for (case, tamper, expected) in table {
        let (mut approval, mut evidence) = tpm_world();
        tamper(&mut approval, evidence.tpm.as_mut().unwrap());
        sign(&mut approval, &approver_key());
        let verdict = evaluate(&approval, &evidence, &settings());
        assert_eq!(
            verdict.failed_names(),
            vec![expected],
            "{case}: {:#?}",
            verdict.checks
        );
    }
}

#[test]
fn required_tpm_without_a_session_fails_all_three_checks_closed() {
    let (approval, mut evidence) = tpm_world();
    evidence.tpm = None;
    let verdict = evaluate(&approval, &evidence, &settings());
    assert_eq!(verdict.failed_names(), vec![TPM_EK, TPM_AK, TPM_QUOTE]);
    assert!(reason(&evidence, &approval, TPM_EK).contains("ProveAttestation"));
}

#[test]
fn differing_pcrs_are_named_in_the_reason() {
    let (approval, mut evidence) = tpm_world();
    let quote = evidence.tpm.as_mut().unwrap().quote.as_mut().unwrap();
    quote.pcr_values.insert(7, "cd".repeat(32));
    assert_eq!(
        reason(&evidence, &approval, TPM_QUOTE),
        "PCR 7 differs from the approved PCR policy"
    );
}

#[test]
fn evidence_with_a_tpm_session_round_trips_through_json() {
    let (_, evidence) = tpm_world();
    let back: Evidence = serde_json::from_str(&serde_json::to_string(&evidence).unwrap()).unwrap();
    assert_eq!(back, evidence);
}
