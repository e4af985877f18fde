//! `tpm.ek`, `tpm.ak`, `tpm.quote` (DESIGN §3) on what the server verified in the caller's TPM
//! session ([`TpmEvidence`]): skipped when the approval does not require a TPM, failed (closed) when
//! it does and the caller brought no verified session, otherwise compared with the approval's pins.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::approval::{Approval, PcrPolicy};
use crate::checks::{TPM_AK, TPM_EK, TPM_QUOTE};
use crate::evidence::{TpmEvidence, VerifiedQuoteEvidence};
use crate::tpm::{TpmtPublic, check_ak_template, ek_public_from_pem};
use crate::verdict::CheckResult;

const NAMES: [&str; 3] = [TPM_EK, TPM_AK, TPM_QUOTE];

/// TPM_ALG_SHA256, the only bank quotes are verified in.
const SHA256_BANK: u16 = 0x000B;

pub(super) fn run(approval: &Approval, tpm: Option<&TpmEvidence>) -> Vec<CheckResult> {
    if !approval.require_tpm {
        return NAMES
            .iter()
            .map(|name| CheckResult::skipped(name, "the approval does not require a TPM"))
            .collect();
    }
    let Some(tpm) = tpm else {
        return NAMES
            .iter()
            .map(|name| {
                CheckResult::fail(
                    name,
                    "no verified TPM session: call BeginSession, Attest and ProveAttestation, \
                     then GetToken with that session",
                )
            })
            .collect();
    };
    vec![ek(approval, tpm), ak(tpm), quote(approval, tpm)]
}

pub(super) fn skipped_for_proposal() -> Vec<CheckResult> {
    NAMES
        .iter()
        .map(|name| CheckResult::skipped(name, "no approval yet: see the VM's attestation record"))
        .collect()
}

/// The session's EK equals the EK Alice approved (as keys: PEM formatting does not matter).
fn ek(approval: &Approval, tpm: &TpmEvidence) -> CheckResult {
    let Some(approved) = &approval.ek_public_pem else {
        return CheckResult::fail(
            TPM_EK,
            "the approval pins no EK public key; approve again with the VM's EK",
        );
    };
    let approved = match ek_public_from_pem(approved) {
        Ok(key) => key,
        Err(error) => return CheckResult::fail(TPM_EK, format!("approved EK: {error}")),
    };
    let presented = match ek_public_from_pem(&tpm.ek_public_pem) {
        Ok(key) => key,
        Err(error) => return CheckResult::fail(TPM_EK, format!("session EK: {error}")),
    };
    if approved == presented {
        CheckResult::pass(TPM_EK)
    } else {
        CheckResult::fail(
            TPM_EK,
            format!(
                "the session's EK (checked against the {}) is not the approved EK",
                tpm.ek_source
            ),
        )
    }
}

/// The AK is a restricted signing key of the right template, and it activated the credential.
fn ak(tpm: &TpmEvidence) -> CheckResult {
    let public = match STANDARD
        .decode(&tpm.ak_public)
        .map_err(|e| e.to_string())
        .and_then(|bytes| TpmtPublic::from_tpm2b(&bytes).map_err(|e| e.to_string()))
    {
        Ok(public) => public,
        Err(error) => {
            return CheckResult::fail(TPM_AK, format!("AK public is not a TPM2B_PUBLIC: {error}"));
        }
    };
    if let Err(error) = check_ak_template(&public) {
        return CheckResult::fail(TPM_AK, error.to_string());
    }
    if !tpm.credential_activated {
        return CheckResult::fail(
            TPM_AK,
            "credential not activated by the TPM holding this EK",
        );
    }
    CheckResult::pass(TPM_AK)
}

/// The verified quote covers this session's nonce and shows exactly the approved PCR values.
fn quote(approval: &Approval, tpm: &TpmEvidence) -> CheckResult {
    let Some(quote) = &tpm.quote else {
        return CheckResult::fail(TPM_QUOTE, "the session has no verified quote");
    };
    if !quote.nonce.eq_ignore_ascii_case(&tpm.session_nonce) {
        return CheckResult::fail(TPM_QUOTE, "the quote is not over this session's nonce");
    }
    let Some(policy) = &approval.pcr_policy else {
        return CheckResult::fail(
            TPM_QUOTE,
            "the approval pins no PCR policy; approve again with the VM's PCR values",
        );
    };
    match differing_pcrs(policy, quote) {
        Ok(()) => CheckResult::pass(TPM_QUOTE),
        Err(reason) => CheckResult::fail(TPM_QUOTE, reason),
    }
}

/// `Ok` when the quote's bank and values equal the policy's; else which PCRs differ.
fn differing_pcrs(policy: &PcrPolicy, quote: &VerifiedQuoteEvidence) -> Result<(), String> {
    let bank = if policy.hash_alg == 0 {
        SHA256_BANK
    } else {
        policy.hash_alg
    };
    if quote.pcr_hash_alg != bank {
        return Err(format!(
            "quoted PCR bank 0x{:04x}, approved bank 0x{bank:04x}",
            quote.pcr_hash_alg
        ));
    }
    let differing = pcrs_that_differ(&policy.pcrs, &quote.pcr_values);
    if differing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} from the approved PCR policy",
            describe_pcrs(&differing)
        ))
    }
}

/// "PCR 7 differs" / "PCRs 7, 9 differ": for denial reasons.
pub fn describe_pcrs(indices: &[u32]) -> String {
    let list: Vec<String> = indices.iter().map(u32::to_string).collect();
    match indices {
        [_] => format!("PCR {} differs", list.join(", ")),
        _ => format!("PCRs {} differ", list.join(", ")),
    }
}

/// PCR indices present in either map whose values are not equal (hex compared case-insensitively).
pub fn pcrs_that_differ(
    expected: &BTreeMap<u32, String>,
    actual: &BTreeMap<u32, String>,
) -> Vec<u32> {
    let mut indices: Vec<u32> = expected.keys().chain(actual.keys()).copied().collect();
    indices.sort_unstable();
    indices.dedup();
    indices
        .into_iter()
        .filter(|index| match (expected.get(index), actual.get(index)) {
            (Some(a), Some(b)) => !a.trim().eq_ignore_ascii_case(b.trim()),
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcrs_missing_on_either_side_or_with_other_values_differ() {
        let expected: BTreeMap<u32, String> =
            [(0, "AA".into()), (7, "bb".into()), (9, "cc".into())].into();
        let actual: BTreeMap<u32, String> =
            [(0, "aa".into()), (7, "bc".into()), (14, "dd".into())].into();
        assert_eq!(pcrs_that_differ(&expected, &actual), vec![7, 9, 14]);
        assert!(pcrs_that_differ(&expected, &expected).is_empty());
    }
}
