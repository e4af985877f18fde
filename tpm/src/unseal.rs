//! Import blobs: a sealed data object made in software for the EK (the server's `create_import_blob`)
//! is imported under the EK, loaded, and unsealed in a policy session that ran PolicyPCR over the
//! policy's PCRs. The policy session is salted to the EK and encrypts the response, so the unsealed
//! data never crosses the bus in clear.

use tss_esapi::{
    Context,
    attributes::SessionAttributesBuilder,
    interface_types::session_handles::AuthSession,
    structures::{Digest, EncryptedSecret, Private, SymmetricDefinitionObject},
};
use zeroize::Zeroizing;

use super::{
    ak::with_loaded,
    ek::{self, Ek},
    error::TpmError,
    pcr,
    sessions::{with_ek_policy, with_policy_session},
    types::PcrBank,
};

const OP: &str = "Import";

/// An import blob as it travels (marshalled TPM2B contents), with the PCR policy it was sealed to;
/// owned so it can move to the TPM worker thread (which may run the operation again on a busy TPM).
pub(crate) struct ImportBlob {
    pub(crate) public: Vec<u8>,
    pub(crate) duplicate: Vec<u8>,
    pub(crate) encrypted_seed: Vec<u8>,
    pub(crate) bank: PcrBank,
    pub(crate) pcrs: Vec<u32>,
}

/// Imports, loads and unseals an import blob sealed with PolicyPCR over its `pcrs` of its `bank`.
pub(crate) fn unseal_import_blob(
    ctx: &mut Context,
    ek: Ek,
    blob: &ImportBlob,
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let public = ek::public_from_wire(&blob.public, OP, "sealed object public")?;
    let duplicate =
        Private::try_from(blob.duplicate.clone()).map_err(|error| TpmError::InvalidInput {
            op: OP,
            what: "duplicate",
            reason: error.to_string(),
        })?;
    let encrypted_seed =
        EncryptedSecret::try_from(blob.encrypted_seed.clone()).map_err(|error| {
            TpmError::InvalidInput {
                op: OP,
                what: "encrypted seed",
                reason: error.to_string(),
            }
        })?;
    let indices = pcr::indices(&blob.pcrs, "PolicyPCR")?;
    let selection = pcr::selection(blob.bank, &indices, "PolicyPCR")?;

    let private = with_ek_policy(ctx, |ctx, session| {
        ctx.execute_with_session(Some(session), |ctx| {
            ctx.import(
                ek.handle.into(),
                None,
                public.clone(),
                duplicate,
                encrypted_seed,
                SymmetricDefinitionObject::Null,
            )
        })
        .map_err(TpmError::during(OP))
    })?;

    with_loaded(ctx, ek, &private, &public, |ctx, sealed| {
        with_policy_session(ctx, Some(ek.handle), |ctx, session| {
            let (attributes, mask) = SessionAttributesBuilder::new()
                .with_continue_session(true)
                .with_encrypt(true)
                .build();
            ctx.tr_sess_set_attributes(AuthSession::PolicySession(session), attributes, mask)
                .map_err(TpmError::during("TRSess_SetAttributes"))?;
            ctx.policy_pcr(session, Digest::default(), selection)
                .map_err(TpmError::during("PolicyPCR"))?;
            let data = ctx
                .execute_with_session(Some(AuthSession::PolicySession(session)), |ctx| {
                    ctx.unseal(sealed.into())
                })
                .map_err(TpmError::during("Unseal"))?;
            Ok(Zeroizing::new(data.value().to_vec()))
        })
    })
}
