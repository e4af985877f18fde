//! Software duplication (import blob) of a sealed KEYEDHASH data object to an EK, with an optional
//! PolicyPCR authPolicy. The client runs TPM2_Import, Load, PolicyPCR and Unseal on it.

use rand_chacha::rand_core::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::alg::*;
use super::attributes::ObjectAttributes;
use super::errors::TpmError;
use super::marshal::{Reader, put_tpm2b, put_u16};
use super::params::Scheme;
use super::public::{PublicParameters, TpmtPublic};
use super::wrap::{LABEL_DUPLICATE, StorageParent, outer_wrap, rng_from_seed, unwrap_with_seed};

/// Most bytes a sealed data object holds (MAX_SYM_DATA).
pub const MAX_SEALED_DATA: usize = 128;

/// A duplicated sealed object, ready for TPM2_Import under the EK. Each field is the *content* of
/// its TPM2B (what tss-esapi's `Public::unmarshall`, `Private::try_from` and
/// `EncryptedSecret::try_from` take).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportBlob {
    /// TPMT_PUBLIC of the sealed object (content of TPM2B_PUBLIC), 78 bytes with a policy.
    pub public: Vec<u8>,
    /// `00 20 | HMAC | AES-CFB(TPM2B_SENSITIVE)` (content of TPM2B_PRIVATE).
    pub duplicate: Vec<u8>,
    /// RSA-OAEP "DUPLICATE\0" of the wrapping seed (content of TPM2B_ENCRYPTED_SECRET).
    pub encrypted_seed: Vec<u8>,
}

/// The public area of a sealed data object. With a policy: attributes 0 (only the policy can
/// authorize Unseal). Without: userWithAuth, so the empty auth value unseals it.
pub fn sealed_object_public(
    policy: Option<&[u8]>,
    unique: Vec<u8>,
) -> Result<TpmtPublic, TpmError> {
    let (attributes, auth_policy) = match policy {
        Some(digest) if digest.len() == SHA256_SIZE => (ObjectAttributes(0), digest.to_vec()),
        Some(digest) => {
            return Err(TpmError::PolicyDigestLength {
                length: digest.len(),
            });
        }
        None => (
            ObjectAttributes(ObjectAttributes::USER_WITH_AUTH),
            Vec::new(),
        ),
    };
    Ok(TpmtPublic {
        name_alg: ALG_SHA256,
        attributes,
        auth_policy,
        parameters: PublicParameters::KeyedHash {
            scheme: Scheme::NULL,
        },
        unique,
    })
}

/// Seals `sensitive_data` (at most 128 bytes) to `ek_public` as an importable KEYEDHASH object whose
/// authPolicy is `policy` (e.g. [`super::policy_pcr_digest`]). `seed` is 32 fresh random bytes from
/// the caller; the object's seedValue, the wrapping seed and the OAEP randomness come from it.
pub fn create_import_blob(
    ek_public: &TpmtPublic,
    sensitive_data: &[u8],
    policy: Option<&[u8]>,
    seed: [u8; 32],
) -> Result<ImportBlob, TpmError> {
    if sensitive_data.len() > MAX_SEALED_DATA {
        return Err(TpmError::TooLong {
            what: "sealed data",
            length: sensitive_data.len(),
            max: MAX_SEALED_DATA,
        });
    }
    let parent = StorageParent::from_public(ek_public)?;
    let mut rng = rng_from_seed(seed);
    let mut seed_value = Zeroizing::new([0u8; SHA256_SIZE]);
    rng.fill_bytes(seed_value.as_mut());

    let unique = Sha256::new()
        .chain_update(seed_value.as_ref())
        .chain_update(sensitive_data)
        .finalize()
        .to_vec();
    let public = sealed_object_public(policy, unique)?;
    let public_bytes = public.marshal()?;
    let name = public.name()?;

    let mut sensitive = Zeroizing::new(Vec::with_capacity(8 + SHA256_SIZE + sensitive_data.len()));
    put_u16(&mut sensitive, ALG_KEYEDHASH);
    put_tpm2b(&mut sensitive, &[], "TPMT_SENSITIVE.authValue")?;
    put_tpm2b(
        &mut sensitive,
        seed_value.as_ref(),
        "TPMT_SENSITIVE.seedValue",
    )?;
    put_tpm2b(&mut sensitive, sensitive_data, "TPMT_SENSITIVE.sensitive")?;
    let mut plaintext = Zeroizing::new(Vec::with_capacity(sensitive.len() + 2));
    put_tpm2b(&mut plaintext, &sensitive, "TPM2B_SENSITIVE")?;

    let wrapped = outer_wrap(&parent, LABEL_DUPLICATE, &name, &plaintext, &mut rng)?;
    Ok(ImportBlob {
        public: public_bytes,
        duplicate: wrapped.blob,
        encrypted_seed: wrapped.encrypted_seed,
    })
}

/// What TPM2_Import + Load + Unseal recover, done in software from the already OAEP-decrypted
/// wrapping seed: checks the integrity HMAC and the unique binding, returns the sealed data. For
/// tests and tools that hold the parent's private key; a real client uses its TPM.
pub fn unseal_import_blob_with_seed(
    decrypted_seed: &[u8],
    symmetric_key_bits: u16,
    blob: &ImportBlob,
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let public = TpmtPublic::unmarshal(&blob.public)?;
    let name = public.name()?;
    let plaintext = unwrap_with_seed(decrypted_seed, symmetric_key_bits, &name, &blob.duplicate)?;
    let mut outer = Reader::new(&plaintext);
    let sensitive = outer.tpm2b("TPM2B_SENSITIVE", plaintext.len())?;
    outer.finish("TPM2B_SENSITIVE")?;
    let mut reader = Reader::new(sensitive);
    let _sensitive_type = reader.u16("TPMT_SENSITIVE.sensitiveType")?;
    let _auth = reader.tpm2b("TPMT_SENSITIVE.authValue", SHA256_SIZE)?;
    let seed_value = reader.tpm2b("TPMT_SENSITIVE.seedValue", SHA256_SIZE)?;
    let data = reader.tpm2b("TPMT_SENSITIVE.sensitive", MAX_SEALED_DATA)?;
    reader.finish("TPMT_SENSITIVE")?;
    let unique = Sha256::new()
        .chain_update(seed_value)
        .chain_update(data)
        .finalize();
    if unique.as_slice() != public.unique.as_slice() {
        return Err(TpmError::Integrity);
    }
    Ok(Zeroizing::new(data.to_vec()))
}
