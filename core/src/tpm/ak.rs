//! The attestation-key template check behind `tpm.ak`: a restricted RSA-2048 signing key that
//! cannot leave its TPM, signing with RSASSA or RSAPSS over SHA-256, and never a decryption key.

use super::alg::*;
use super::attributes::ObjectAttributes;
use super::errors::AkError;
use super::params::SymmetricDefinition;
use super::public::{PublicParameters, TpmtPublic};

/// Attribute bits an AK must have.
const REQUIRED: [u32; 6] = [
    ObjectAttributes::RESTRICTED,
    ObjectAttributes::SIGN,
    ObjectAttributes::FIXED_TPM,
    ObjectAttributes::FIXED_PARENT,
    ObjectAttributes::SENSITIVE_DATA_ORIGIN,
    ObjectAttributes::USER_WITH_AUTH,
];

/// Checks the AK's public area (the same TPMT_PUBLIC whose Name MakeCredential binds). Returns the
/// first violation: type, nameAlg, each required attribute, `decrypt`, key size, scheme, symmetric.
pub fn check_ak_template(ak: &TpmtPublic) -> Result<(), AkError> {
    let PublicParameters::Rsa(parameters) = &ak.parameters else {
        return Err(AkError::NotRsa {
            found: ak.object_type(),
        });
    };
    if ak.name_alg != ALG_SHA256 {
        return Err(AkError::NameAlg { found: ak.name_alg });
    }
    if let Some(&missing) = REQUIRED.iter().find(|&&bit| !ak.attributes.has(bit)) {
        return Err(AkError::MissingAttribute {
            attribute: ObjectAttributes::bit_name(missing),
        });
    }
    if ak.attributes.has(ObjectAttributes::DECRYPT) {
        return Err(AkError::ForbiddenAttribute {
            attribute: ObjectAttributes::bit_name(ObjectAttributes::DECRYPT),
        });
    }
    if parameters.key_bits != 2048 || ak.unique.len() != 256 {
        return Err(AkError::KeyBits {
            found: parameters.key_bits,
        });
    }
    let scheme = parameters.scheme;
    if !matches!(scheme.scheme, ALG_RSASSA | ALG_RSAPSS) || scheme.hash_alg != ALG_SHA256 {
        return Err(AkError::Scheme {
            scheme: scheme.scheme,
            hash_alg: scheme.hash_alg,
        });
    }
    if parameters.symmetric != SymmetricDefinition::Null {
        return Err(AkError::Symmetric);
    }
    Ok(())
}
