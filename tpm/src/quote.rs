//! Quote: read the PCRs, quote them with the AK over the server's nonce, and check that the quoted PCR
//! digest is the digest of the values read; PCRs that changed in between are read and quoted again
//! (like keylime's `perform_quote_and_pcr_read`), a bounded number of times.

use tss_esapi::{
    Context,
    interface_types::session_handles::AuthSession,
    structures::{Attest, AttestInfo, Data, Signature, SignatureScheme},
    traits::Marshall,
};

use super::{
    ak::with_ak,
    ek::Ek,
    error::TpmError,
    pcr,
    types::{AkInfo, PcrBank, Quote},
};

const OP: &str = "Quote";

/// How many read-then-quote rounds are tried before giving up on PCRs that keep changing.
pub const QUOTE_ATTEMPTS: u32 = 5;

/// Reads and quotes the PCRs `pcrs` of `bank` with the AK over `nonce` (at most 64 bytes).
pub(crate) fn quote(
    ctx: &mut Context,
    ek: Ek,
    ak: &AkInfo,
    nonce: &[u8],
    bank: PcrBank,
    pcrs: &[u32],
) -> Result<Quote, TpmError> {
    let indices = pcr::indices(pcrs, OP)?;
    let selection = pcr::selection(bank, &indices, OP)?;
    let qualifying_data = qualifying_data(OP, nonce)?;
    with_ak(ctx, ek, ak, OP, |ctx, ak_handle| {
        for attempt in 1..=QUOTE_ATTEMPTS {
            let pcr_values = pcr::read(ctx, bank, &indices)?;
            let (attest, signature) = ctx
                .execute_with_session(Some(AuthSession::Password), |ctx| {
                    ctx.quote(
                        ak_handle,
                        qualifying_data.clone(),
                        SignatureScheme::Null,
                        selection.clone(),
                    )
                })
                .map_err(TpmError::during(OP))?;
            let AttestInfo::Quote { info } = attest.attested() else {
                return Err(TpmError::Inconsistent {
                    op: OP,
                    detail: "the TPM returned a non-quote attestation".into(),
                });
            };
            if info.pcr_digest().value() != pcr::composite_digest(bank, &pcr_values).as_slice() {
                tracing::debug!(
                    attempt,
                    "PCRs changed between PCR_Read and Quote; quoting again"
                );
                continue;
            }
            let (attest, signature) = marshal_rsassa_attestation(OP, &attest, &signature)?;
            return Ok(Quote {
                attest,
                signature,
                pcr_values,
            });
        }
        Err(TpmError::Inconsistent {
            op: OP,
            detail: format!(
                "the PCRs changed between PCR_Read and Quote in all {QUOTE_ATTEMPTS} attempts; retry later"
            ),
        })
    })
}

/// The server's nonce as the `qualifyingData` an AK signs over (at most 64 bytes).
pub(crate) fn qualifying_data(op: &'static str, nonce: &[u8]) -> Result<Data, TpmError> {
    Data::try_from(nonce.to_vec()).map_err(|error| TpmError::InvalidInput {
        op,
        what: "nonce",
        reason: error.to_string(),
    })
}

/// Marshals what the AK signed and its signature (a quote or a certification), refusing any scheme
/// but RSASSA (the only one the server verifies).
pub(crate) fn marshal_rsassa_attestation(
    op: &'static str,
    attest: &Attest,
    signature: &Signature,
) -> Result<(Vec<u8>, Vec<u8>), TpmError> {
    if !matches!(signature, Signature::RsaSsa(_)) {
        return Err(TpmError::Inconsistent {
            op,
            detail: format!("the AK signed with {:?}, not RSASSA", signature.algorithm()),
        });
    }
    let attest = attest.marshall().map_err(TpmError::during(op))?;
    let signature = signature.marshall().map_err(TpmError::during(op))?;
    Ok((attest, signature))
}
