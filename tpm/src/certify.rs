//! Certify: the AK vouches that another key (made under the same EK) lives in this TPM.

use tss_esapi::{
    Context, interface_types::session_handles::AuthSession, structures::SignatureScheme,
};

use super::{
    ak::with_ak,
    ek::Ek,
    error::TpmError,
    quote,
    types::{AkInfo, Certification},
};

const OP: &str = "Certify";

/// Certifies `subject` with `signer` over `nonce` (at most 64 bytes). Both are loaded from their blobs
/// and flushed afterwards (two of swtpm's three object slots, briefly).
pub(crate) fn certify(
    ctx: &mut Context,
    ek: Ek,
    signer: &AkInfo,
    subject: &AkInfo,
    nonce: &[u8],
) -> Result<Certification, TpmError> {
    let qualifying_data = quote::qualifying_data(OP, nonce)?;
    with_ak(ctx, ek, signer, OP, |ctx, signer_handle| {
        with_ak(ctx, ek, subject, OP, |ctx, subject_handle| {
            let (attest, signature) = ctx
                .execute_with_sessions(
                    (
                        Some(AuthSession::Password),
                        Some(AuthSession::Password),
                        None,
                    ),
                    |ctx| {
                        ctx.certify(
                            subject_handle.into(),
                            signer_handle,
                            qualifying_data,
                            SignatureScheme::Null,
                        )
                    },
                )
                .map_err(TpmError::during(OP))?;
            let (attest, signature) = quote::marshal_rsassa_attestation(OP, &attest, &signature)?;
            Ok(Certification { attest, signature })
        })
    })
}
