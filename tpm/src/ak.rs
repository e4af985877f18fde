//! The attestation key: created under the EK (restricted RSA-2048 signing key, RSASSA-SHA256,
//! fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign) and loaded again from its
//! blob for each operation that needs it.

use tss_esapi::{
    Context,
    attributes::ObjectAttributesBuilder,
    handles::KeyHandle,
    interface_types::{
        algorithm::{HashingAlgorithm, PublicAlgorithm, RsaSchemeAlgorithm},
        key_bits::RsaKeyBits,
    },
    structures::{
        Private, Public, PublicBuilder, PublicKeyRsa, PublicRsaParametersBuilder, RsaExponent,
        RsaScheme,
    },
};

use super::{
    ek::{self, Ek},
    error::TpmError,
    sessions::{with_ek_policy, with_transient},
    types::AkInfo,
};

/// The AK template.
fn ak_template() -> Result<Public, TpmError> {
    let op = "Create(AK) template";
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_restricted(true)
        .with_sign_encrypt(true)
        .with_decrypt(false)
        .build()
        .map_err(TpmError::during(op))?;
    let scheme = RsaScheme::create(RsaSchemeAlgorithm::RsaSsa, Some(HashingAlgorithm::Sha256))
        .map_err(TpmError::during(op))?;
    let parameters = PublicRsaParametersBuilder::new()
        .with_scheme(scheme)
        .with_key_bits(RsaKeyBits::Rsa2048)
        .with_exponent(RsaExponent::default())
        .with_is_signing_key(true)
        .with_is_decryption_key(false)
        .with_restricted(true)
        .build()
        .map_err(TpmError::during(op))?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Rsa)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_rsa_parameters(parameters)
        .with_rsa_unique_identifier(PublicKeyRsa::default())
        .build()
        .map_err(TpmError::during(op))
}

/// Creates a new AK under the EK and returns its public area, Name and loadable blob.
pub(crate) fn create(ctx: &mut Context, ek: Ek) -> Result<AkInfo, TpmError> {
    let template = ak_template()?;
    let created = with_ek_policy(ctx, |ctx, session| {
        ctx.execute_with_session(Some(session), |ctx| {
            ctx.create(ek.handle, template, None, None, None, None)
        })
        .map_err(TpmError::during("Create(AK)"))
    })?;
    let public = ek::tpm2b_public(&created.out_public, "Create(AK)")?;
    let private = created.out_private.value().to_vec();
    // The Name comes from the TPM itself: load once, read it, flush.
    let name = with_loaded(
        ctx,
        ek,
        &created.out_private,
        &created.out_public,
        |ctx, handle| {
            let (_, name, _) = ctx
                .read_public(handle)
                .map_err(TpmError::during("ReadPublic(AK)"))?;
            Ok(name.value().to_vec())
        },
    )?;
    Ok(AkInfo {
        public,
        name,
        private,
    })
}

/// Loads a key blob (made under the EK) for the duration of `f`, then flushes it.
pub(crate) fn with_loaded<T>(
    ctx: &mut Context,
    ek: Ek,
    private: &Private,
    public: &Public,
    f: impl FnOnce(&mut Context, KeyHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let handle = with_ek_policy(ctx, |ctx, session| {
        ctx.execute_with_session(Some(session), |ctx| {
            ctx.load(ek.handle, private.clone(), public.clone())
        })
        .map_err(TpmError::during("Load"))
    })?;
    with_transient(ctx, handle, f)
}

/// Loads an AK from its blob for the duration of `f`, then flushes it.
pub(crate) fn with_ak<T>(
    ctx: &mut Context,
    ek: Ek,
    ak: &AkInfo,
    op: &'static str,
    f: impl FnOnce(&mut Context, KeyHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let public = ek::public_from_wire(&ak.public, op, "AK public")?;
    let private =
        Private::try_from(ak.private.clone()).map_err(|error| TpmError::InvalidInput {
            op,
            what: "AK private blob",
            reason: error.to_string(),
        })?;
    with_loaded(ctx, ek, &private, &public, f)
}
