//! `tpm.ek`, `tpm.ak`, `tpm.quote` as far as this function knows them: skipped when the approval does
//! not require a TPM, failed (closed) when it does, until attestation results are part of `Evidence`.

use crate::approval::Approval;
use crate::checks::{TPM_AK, TPM_EK, TPM_QUOTE};
use crate::verdict::CheckResult;

const NAMES: [&str; 3] = [TPM_EK, TPM_AK, TPM_QUOTE];

pub(super) fn run(approval: &Approval) -> Vec<CheckResult> {
    NAMES
        .iter()
        .map(|name| {
            if approval.require_tpm {
                CheckResult::fail(name, "TPM attestation not yet available on this server")
            } else {
                CheckResult::skipped(name, "the approval does not require a TPM")
            }
        })
        .collect()
}

pub(super) fn skipped_for_proposal() -> Vec<CheckResult> {
    NAMES
        .iter()
        .map(|name| CheckResult::skipped(name, "no approval yet: see the VM's attestation record"))
        .collect()
}
