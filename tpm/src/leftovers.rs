//! Flushing transient objects and loaded sessions left in the TPM by earlier, killed processes.
//! Only for a TPM this process owns (a private swtpm): see `TpmConfig::flush_leftovers_on_connect`.

use tss_esapi::{
    Context, constants::CapabilityType, handles::TpmHandle, structures::CapabilityData,
};

use super::error::TpmError;

/// First handle of the transient-object range (TPM_HT_TRANSIENT).
const TRANSIENT_FIRST: u32 = 0x8000_0000;
/// First handle of the loaded-session range (TPM_HT_LOADED_SESSION: HMAC and policy sessions).
const LOADED_SESSION_FIRST: u32 = 0x0200_0000;
/// More handles than any TPM has slots for.
const MAX_HANDLES: u32 = 64;

/// The handles the TPM lists from `first` on, within the same handle type.
fn list(ctx: &mut Context, first: u32) -> Result<Vec<TpmHandle>, TpmError> {
    let (data, _more) = ctx
        .get_capability(CapabilityType::Handles, first, MAX_HANDLES)
        .map_err(TpmError::during("GetCapability(handles)"))?;
    let CapabilityData::Handles(handles) = data else {
        return Err(TpmError::Library {
            op: "GetCapability(handles)",
            detail: "the TPM answered with another capability than handles".into(),
        });
    };
    Ok(handles
        .into_inner()
        .into_iter()
        .filter(|handle| {
            matches!(
                handle,
                TpmHandle::Transient(_) | TpmHandle::LoadedSession(_) | TpmHandle::HmacSession(_)
            )
        })
        .collect())
}

/// How many transient objects and loaded sessions the TPM holds.
pub(crate) fn count_loaded(ctx: &mut Context) -> Result<(usize, usize), TpmError> {
    Ok((
        list(ctx, TRANSIENT_FIRST)?.len(),
        list(ctx, LOADED_SESSION_FIRST)?.len(),
    ))
}

/// Flushes every transient object and loaded session; returns how many handles were flushed.
pub(crate) fn flush_leftovers(ctx: &mut Context) -> Result<usize, TpmError> {
    let mut flushed = 0;
    for first in [TRANSIENT_FIRST, LOADED_SESSION_FIRST] {
        for handle in list(ctx, first)? {
            let object = ctx
                .execute_without_session(|ctx| ctx.tr_from_tpm_public(handle))
                .map_err(TpmError::during("TR_FromTPMPublic(leftover)"))?;
            ctx.flush_context(object)
                .map_err(TpmError::during("FlushContext(leftover)"))?;
            flushed += 1;
        }
    }
    if flushed > 0 {
        tracing::info!(flushed, "flushed TPM handles left by an earlier process");
    }
    Ok(flushed)
}
