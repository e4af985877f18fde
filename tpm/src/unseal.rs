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

/// Imports, loads and unseals an import blob sealed with PolicyPCR over `pcrs` of `bank`.
pub(crate) fn unseal_import_blob(
    ctx: &mut Context,
    ek: Ek,
    public: &[u8],
    duplicate: &[u8],
    encrypted_seed: &[u8],
    bank: PcrBank,
    pcrs: &[u32],
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let public = ek::public_from_wire(public, OP, "sealed object public")?;
    let duplicate =
        Private::try_from(duplicate.to_vec()).map_err(|error| TpmError::InvalidInput {
            op: OP,
            what: "duplicate",
            reason: error.to_string(),
        })?;
    let encrypted_seed = EncryptedSecret::try_from(encrypted_seed.to_vec()).map_err(|error| {
        TpmError::InvalidInput {
            op: OP,
            what: "encrypted seed",
            reason: error.to_string(),
        }
    })?;
    let indices = pcr::indices(pcrs, "PolicyPCR")?;
    let selection = pcr::selection(bank, &indices, "PolicyPCR")?;

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
