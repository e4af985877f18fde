//! The endorsement key: the persistent EK at 0x81010001 when it is the default RSA EK, otherwise one
//! created from the default TCG RSA-2048 template (kept loaded for the worker's lifetime); and its
//! certificate from NV 0x01c00002.

use tss_esapi::{
    Context,
    abstraction::{AsymmetricAlgorithmSelection, DefaultKey, ek},
    handles::{KeyHandle, PersistentTpmHandle, TpmHandle},
    interface_types::{algorithm::HashingAlgorithm, key_bits::RsaKeyBits},
    structures::Public,
    traits::Marshall,
};

use super::{error::TpmError, rc::ResponseCode, types::EkInfo};

/// Where the default RSA EK is made persistent (TCG EK credential profile).
pub const PERSISTENT_EK_HANDLE: u32 = 0x8101_0001;

/// The authPolicy of the default EK template: PolicySecret(TPM_RH_ENDORSEMENT).
const DEFAULT_EK_AUTH_POLICY: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

const RSA_2048: AsymmetricAlgorithmSelection =
    AsymmetricAlgorithmSelection::Rsa(RsaKeyBits::Rsa2048);

/// The EK the worker uses, and whether it lives in NV (persistent) or was created by us.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ek {
    pub(crate) handle: KeyHandle,
    pub(crate) persistent: bool,
}

/// Finds the persistent default EK, or creates it from the default template.
pub(crate) fn find_or_create(ctx: &mut Context) -> Result<Ek, TpmError> {
    if let Some(handle) = persistent_default_ek(ctx)? {
        tracing::debug!(
            handle = format_args!("{PERSISTENT_EK_HANDLE:#x}"),
            "using the persistent EK"
        );
        return Ok(Ek {
            handle,
            persistent: true,
        });
    }
    let handle = ek::create_ek_object_2(ctx, RSA_2048, None::<DefaultKey>)
        .map_err(TpmError::during("CreatePrimary(EK)"))?;
    tracing::debug!("created the EK from the default RSA-2048 template");
    Ok(Ek {
        handle,
        persistent: false,
    })
}

/// The persistent EK at 0x81010001, if there is one and it has the default template's shape.
fn persistent_default_ek(ctx: &mut Context) -> Result<Option<KeyHandle>, TpmError> {
    let tpm_handle = PersistentTpmHandle::new(PERSISTENT_EK_HANDLE)
        .map_err(TpmError::during("TR_FromTPMPublic(EK)"))?;
    let object = match ctx
        .execute_without_session(|ctx| ctx.tr_from_tpm_public(TpmHandle::Persistent(tpm_handle)))
    {
        Ok(object) => object,
        Err(error) => {
            let error = TpmError::tss("TR_FromTPMPublic(EK)", error);
            if error.response_code().and_then(ResponseCode::name) == Some("TPM_RC_HANDLE") {
                return Ok(None);
            }
            return Err(error);
        }
    };
    let handle = KeyHandle::from(object);
    let (public, _, _) = ctx
        .read_public(handle)
        .map_err(TpmError::during("ReadPublic(EK)"))?;
    if is_default_rsa_ek(&public) {
        Ok(Some(handle))
    } else {
        tracing::warn!(
            handle = format_args!("{PERSISTENT_EK_HANDLE:#x}"),
            "the persistent key is not the default RSA EK; creating the EK from the template instead"
        );
        let mut object = object;
        ctx.tr_close(&mut object)
            .map_err(TpmError::during("TR_Close(EK)"))?;
        Ok(None)
    }
}

fn is_default_rsa_ek(public: &Public) -> bool {
    let attributes = public.object_attributes();
    matches!(public, Public::Rsa { .. })
        && public.name_hashing_algorithm() == HashingAlgorithm::Sha256
        && attributes.restricted()
        && attributes.decrypt()
        && attributes.fixed_tpm()
        && !attributes.user_with_auth()
        && public.auth_policy().value() == DEFAULT_EK_AUTH_POLICY
}

/// The EK public (TPM2B_PUBLIC) and certificate, if NV holds one.
pub(crate) fn info(ctx: &mut Context, ek: Ek) -> Result<EkInfo, TpmError> {
    let (public, _, _) = ctx
        .read_public(ek.handle)
        .map_err(TpmError::during("ReadPublic(EK)"))?;
    let public = tpm2b_public(&public, "ReadPublic(EK)")?;
    let certificate = match ek::retrieve_ek_pubcert(ctx, RSA_2048) {
        Ok(der) => Some(der),
        Err(error) => {
            let error = TpmError::tss("NV_Read(EK certificate)", error);
            if error.response_code().and_then(ResponseCode::name) == Some("TPM_RC_HANDLE") {
                None
            } else {
                return Err(error);
            }
        }
    };
    Ok(EkInfo {
        public,
        certificate,
    })
}

/// Marshals a public area as TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC).
pub(crate) fn tpm2b_public(public: &Public, op: &'static str) -> Result<Vec<u8>, TpmError> {
    let tpmt = public.marshall().map_err(TpmError::during(op))?;
    let size = u16::try_from(tpmt.len()).map_err(|_| TpmError::Library {
        op,
        detail: format!("public area of {} bytes", tpmt.len()),
    })?;
    let mut out = Vec::with_capacity(tpmt.len() + 2);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&tpmt);
    Ok(out)
}

/// Reads a TPM2B_PUBLIC (or a bare TPMT_PUBLIC) from the wire into tss-esapi's `Public`.
pub(crate) fn public_from_wire(
    bytes: &[u8],
    op: &'static str,
    what: &'static str,
) -> Result<Public, TpmError> {
    use tss_esapi::traits::UnMarshall;
    let tpmt = match bytes {
        [high, low, rest @ ..] if usize::from(u16::from_be_bytes([*high, *low])) == rest.len() => {
            rest
        }
        _ => bytes,
    };
    Public::unmarshall(tpmt).map_err(|error| TpmError::InvalidInput {
        op,
        what,
        reason: error.to_string(),
    })
}
