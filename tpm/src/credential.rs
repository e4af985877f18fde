//! ActivateCredential: proves to the server that the AK lives in the same TPM as the EK, by recovering
//! the secret it wrapped to the EK for the AK's Name (software MakeCredential on the server side).

use tss_esapi::{
    Context,
    interface_types::session_handles::AuthSession,
    structures::{EncryptedSecret, IdObject},
};
use zeroize::Zeroizing;

use super::{ak::with_ak, ek::Ek, error::TpmError, sessions::with_ek_policy, types::AkInfo};

const OP: &str = "ActivateCredential";

/// Runs ActivateCredential(AK, EK) on a credential blob (the content of TPM2B_ID_OBJECT) and an
/// encrypted seed (the content of TPM2B_ENCRYPTED_SECRET). Session 1 (the AK, ADMIN role) is a password
/// session; session 2 (the EK, USER role) a policy session with PolicySecret(TPM_RH_ENDORSEMENT).
pub(crate) fn activate(
    ctx: &mut Context,
    ek: Ek,
    ak: &AkInfo,
    id_object: &[u8],
    encrypted_secret: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let id_object =
        IdObject::try_from(id_object.to_vec()).map_err(|error| TpmError::InvalidInput {
            op: OP,
            what: "credential blob",
            reason: error.to_string(),
        })?;
    let encrypted_secret =
        EncryptedSecret::try_from(encrypted_secret.to_vec()).map_err(|error| {
            TpmError::InvalidInput {
                op: OP,
                what: "encrypted secret",
                reason: error.to_string(),
            }
        })?;
    with_ak(ctx, ek, ak, OP, |ctx, ak_handle| {
        with_ek_policy(ctx, |ctx, ek_session| {
            let credential = ctx
                .execute_with_sessions(
                    (Some(AuthSession::Password), Some(ek_session), None),
                    |ctx| {
                        ctx.activate_credential(ak_handle, ek.handle, id_object, encrypted_secret)
                    },
                )
                .map_err(TpmError::during(OP))?;
            Ok(Zeroizing::new(credential.value().to_vec()))
        })
    })
}
