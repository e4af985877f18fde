//! Software MakeCredential (TPM 2.0 Part 3, 12.6): a secret only the TPM holding both the EK and the
//! key named `ak_name` can recover with ActivateCredential.

use zeroize::Zeroizing;

use super::alg::SHA256_SIZE;
use super::errors::TpmError;
use super::marshal::put_tpm2b;
use super::public::TpmtPublic;
use super::wrap::{LABEL_IDENTITY, StorageParent, outer_wrap, rng_from_seed};

/// Length of a SHA-256 object Name.
pub const SHA256_NAME_LEN: usize = 2 + SHA256_SIZE;

/// MakeCredential for `ek_public`, bound to the AK's Name (`0x000b || SHA-256(AK TPMT_PUBLIC)`).
///
/// `secret` is at most 32 bytes. `seed` is 32 fresh random bytes from the caller (the wrapping
/// seed and the OAEP randomness are drawn from it). Returns `(id_object, encrypted_secret)`, the
/// *contents* of TPM2B_ID_OBJECT (`00 20 | HMAC | AES-CFB(00 len | secret)`) and of
/// TPM2B_ENCRYPTED_SECRET (RSA-OAEP "IDENTITY\0" of the seed), i.e. what tss-esapi
/// `IdObject::try_from(Vec)` and `EncryptedSecret::try_from(Vec)` take. Use
/// [`super::marshal::tpm2b`] for the size-prefixed forms.
pub fn make_credential(
    ek_public: &TpmtPublic,
    ak_name: &[u8],
    secret: &[u8],
    seed: [u8; 32],
) -> Result<(Vec<u8>, Vec<u8>), TpmError> {
    if ak_name.len() != SHA256_NAME_LEN {
        return Err(TpmError::BadName {
            length: ak_name.len(),
        });
    }
    if secret.len() > SHA256_SIZE {
        return Err(TpmError::TooLong {
            what: "credential secret",
            length: secret.len(),
            max: SHA256_SIZE,
        });
    }
    let parent = StorageParent::from_public(ek_public)?;
    let mut plaintext = Zeroizing::new(Vec::with_capacity(2 + secret.len()));
    put_tpm2b(&mut plaintext, secret, "credential")?;
    let mut rng = rng_from_seed(seed);
    let wrapped = outer_wrap(&parent, LABEL_IDENTITY, ak_name, &plaintext, &mut rng)?;
    Ok((wrapped.blob, wrapped.encrypted_seed))
}
