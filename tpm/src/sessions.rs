//! Sessions and transient objects that are flushed on every path: swtpm has only 3 object slots and
//! ESYS starts sessions with continueSession set, so nothing may be left loaded after an operation.

use tss_esapi::{
    Context,
    constants::SessionType,
    handles::{AuthHandle, KeyHandle, ObjectHandle, SessionHandle},
    interface_types::{
        algorithm::HashingAlgorithm,
        session_handles::{AuthSession, PolicySession},
    },
    structures::{Digest, Nonce, SymmetricDefinition},
};

use super::error::TpmError;

/// Returns `result`, or the cleanup's error if only the cleanup failed. A cleanup failure after a
/// failed operation is logged and the operation's (more telling) error is returned.
pub(crate) fn keep_first_error<T>(
    result: Result<T, TpmError>,
    cleanup: Result<(), TpmError>,
) -> Result<T, TpmError> {
    match (result, cleanup) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(cleanup_error)) => Err(cleanup_error),
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(cleanup_error)) => {
            tracing::warn!(%cleanup_error, "TPM cleanup failed after an error");
            Err(error)
        }
    }
}

/// Flushes a transient object or session from the TPM.
pub(crate) fn flush(ctx: &mut Context, handle: ObjectHandle) -> Result<(), TpmError> {
    ctx.flush_context(handle)
        .map_err(TpmError::during("FlushContext"))
}

/// Runs `f` with the transient object `handle` (already loaded), then flushes it, whatever `f` returned.
pub(crate) fn with_transient<T>(
    ctx: &mut Context,
    handle: KeyHandle,
    f: impl FnOnce(&mut Context, KeyHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let result = f(ctx, handle);
    let flushed = flush(ctx, handle.into());
    keep_first_error(result, flushed)
}

/// Starts a policy session (SHA-256, AES-128-CFB parameter encryption), runs `f` with it, and flushes
/// it whatever `f` returned. With `salt_key` the session is salted to that key (e.g. the EK), so that
/// parameters it encrypts cannot be read on the bus.
pub(crate) fn with_policy_session<T>(
    ctx: &mut Context,
    salt_key: Option<KeyHandle>,
    f: impl FnOnce(&mut Context, PolicySession) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let session = ctx
        .start_auth_session(
            salt_key,
            None,
            None,
            SessionType::Policy,
            SymmetricDefinition::AES_128_CFB,
            HashingAlgorithm::Sha256,
        )
        .map_err(TpmError::during("StartAuthSession"))?
        .ok_or_else(|| TpmError::Library {
            op: "StartAuthSession",
            detail: "the TPM returned no session handle".into(),
        })?;
    let result = PolicySession::try_from(session)
        .map_err(TpmError::during("StartAuthSession"))
        .and_then(|policy_session| f(ctx, policy_session));
    let flushed = flush(ctx, SessionHandle::from(session).into());
    keep_first_error(result, flushed)
}

/// Runs `f` with a fresh policy session that satisfies the default EK policy,
/// PolicySecret(TPM_RH_ENDORSEMENT), as needed for every command the EK authorizes (Load, Import,
/// ActivateCredential). The session is flushed afterwards; a new one is needed for each command.
pub(crate) fn with_ek_policy<T>(
    ctx: &mut Context,
    f: impl FnOnce(&mut Context, AuthSession) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    with_policy_session(ctx, None, |ctx, session| {
        ctx.execute_with_session(Some(AuthSession::Password), |ctx| {
            ctx.policy_secret(
                session,
                AuthHandle::Endorsement,
                Nonce::default(),
                Digest::default(),
                Nonce::default(),
                None,
            )
        })
        .map_err(TpmError::during("PolicySecret(TPM_RH_ENDORSEMENT)"))?;
        f(ctx, AuthSession::PolicySession(session))
    })
}
