//! From a wire `Secret` to a [`SecretValue`]: first open its protection (none; a TPM envelope whose
//! data key the TPM unseals, AES-256-GCM bound to `binding(instance_id, name)`; a bare TPM import
//! blob), then check it by type (a `TPM` secret that arrived with protection NONE is opened here: an
//! envelope from `tokendist seal`, or the original's go-tpm-tools import blob; a `TINK` keyset must
//! load and pass the encrypt/decrypt self-test). Errors name the secret and what
//! failed, never its bytes.

use tokendist_core::server_seal::binding;
use tokendist_core::tpm::envelope::ENVELOPE_MAGIC;
use tokendist_core::tpm::{Envelope, EnvelopeError, open_envelope_with_data_key};
use tokendist_proto::v1 as pb;
use zeroize::Zeroizing;

use super::import_blob::{self, ImportBlobError, SealedBlob};
use super::{SecretKind, SecretValue};
use tokendist_core::tink::{TinkAead, TinkError};
use tokendist_tpm::{PcrBank, TpmError, TpmHandle};

/// What opening needs besides the secret: the TPM (if any), this VM's instance id (the envelope's
/// associated data), and the PCR selection of the session (the approval's PCR policy).
#[derive(Debug, Clone, Copy)]
pub struct OpenContext<'a> {
    pub tpm: Option<&'a TpmHandle>,
    pub instance_id: &'a str,
    pub pcrs: Option<(PcrBank, &'a [u32])>,
}

/// Why a secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {name:?} has unknown type {value}; upgrade tokenclient")]
    UnknownType { name: String, value: i32 },
    #[error("secret {name:?} has unknown protection {value}; upgrade tokenclient")]
    UnknownProtection { name: String, value: i32 },
    #[error(
        "secret {name:?} is sealed to the TPM but this client runs without one; enable the TPM (tpm.enabled, --useTPM)"
    )]
    NoTpm { name: String },
    #[error("secret {name:?} is sealed to the TPM but the session named no PCR selection")]
    NoPcrSelection { name: String },
    #[error("secret {name:?}: malformed envelope: {source}")]
    Envelope { name: String, source: EnvelopeError },
    #[error("secret {name:?}: malformed import blob: {source}")]
    ImportBlob {
        name: String,
        source: ImportBlobError,
    },
    #[error(
        "secret {name:?} does not unseal: this VM's PCRs differ from the approved state (TPM_RC_POLICY_FAIL); \
         the VM booted or measured something other than what Alice approved"
    )]
    PcrMismatch { name: String },
    #[error("secret {name:?}: the TPM could not unseal it: {source}")]
    Tpm { name: String, source: TpmError },
    #[error(
        "secret {name:?}: the envelope does not open with the unsealed key for instance {instance_id}"
    )]
    EnvelopeOpen { name: String, instance_id: String },
    #[error("secret {name:?}: TINK keyset unusable: {source}")]
    Tink { name: String, source: TinkError },
}

/// Opens one secret.
pub async fn open_secret(
    secret: &pb::Secret,
    context: OpenContext<'_>,
) -> Result<SecretValue, SecretError> {
    let name = secret.name.as_str();
    let kind = match pb::SecretType::try_from(secret.r#type) {
        Ok(pb::SecretType::Raw) => SecretKind::Raw,
        Ok(pb::SecretType::Tpm) => SecretKind::Tpm,
        Ok(pb::SecretType::Tink) => SecretKind::Tink,
        _ => {
            return Err(SecretError::UnknownType {
                name: name.into(),
                value: secret.r#type,
            });
        }
    };
    let protection = pb::SecretProtection::try_from(secret.protection).map_err(|_| {
        SecretError::UnknownProtection {
            name: name.into(),
            value: secret.protection,
        }
    })?;
    let opened = match protection {
        pb::SecretProtection::None => Zeroizing::new(secret.data.clone()),
        pb::SecretProtection::TpmEnvelope => open_envelope(name, &secret.data, context).await?,
        pb::SecretProtection::TpmImportBlob => unseal_blob(name, &secret.data, context).await?,
    };
    let bytes = match kind {
        SecretKind::Raw => opened,
        // A TPM secret is sealed to this TPM (an envelope from `tokendist seal`, or the original's
        // import blob). When the server delivered it with that protection it is open already;
        // otherwise (protection NONE) it is opened here.
        SecretKind::Tpm if protection != pb::SecretProtection::None => opened,
        SecretKind::Tpm if opened.starts_with(&ENVELOPE_MAGIC) => {
            open_envelope(name, &opened, context).await?
        }
        SecretKind::Tpm => unseal_blob(name, &opened, context).await?,
        SecretKind::Tink => {
            let aead =
                TinkAead::from_binary_keyset(&opened).map_err(|source| SecretError::Tink {
                    name: name.into(),
                    source,
                })?;
            aead.self_test(rand::random())
                .map_err(|source| SecretError::Tink {
                    name: name.into(),
                    source,
                })?;
            opened
        }
    };
    Ok(SecretValue::new(name, kind, bytes))
}

async fn open_envelope(
    name: &str,
    data: &[u8],
    context: OpenContext<'_>,
) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let envelope = Envelope::decode(data).map_err(|source| SecretError::Envelope {
        name: name.into(),
        source,
    })?;
    let (bank, pcrs) = context
        .pcrs
        .ok_or_else(|| SecretError::NoPcrSelection { name: name.into() })?;
    let blob = &envelope.import_blob;
    let data_key = unseal(
        name,
        context,
        &SealedBlob {
            public: blob.public.clone(),
            duplicate: blob.duplicate.clone(),
            encrypted_seed: blob.encrypted_seed.clone(),
            pcrs: Some((bank, pcrs.to_vec())),
        },
    )
    .await?;
    let aad = binding(context.instance_id, name);
    open_envelope_with_data_key(&envelope, &data_key, &aad).map_err(|_| SecretError::EnvelopeOpen {
        name: name.into(),
        instance_id: context.instance_id.into(),
    })
}

async fn unseal_blob(
    name: &str,
    data: &[u8],
    context: OpenContext<'_>,
) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let mut blob = import_blob::decode(data).map_err(|source| SecretError::ImportBlob {
        name: name.into(),
        source,
    })?;
    if blob.pcrs.is_none() {
        blob.pcrs = context.pcrs.map(|(bank, pcrs)| (bank, pcrs.to_vec()));
    }
    unseal(name, context, &blob).await
}

async fn unseal(
    name: &str,
    context: OpenContext<'_>,
    blob: &SealedBlob,
) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let tpm = context
        .tpm
        .ok_or_else(|| SecretError::NoTpm { name: name.into() })?;
    let (bank, pcrs) = blob
        .pcrs
        .clone()
        .ok_or_else(|| SecretError::NoPcrSelection { name: name.into() })?;
    tpm.unseal_import_blob(
        &blob.public,
        &blob.duplicate,
        &blob.encrypted_seed,
        bank,
        &pcrs,
    )
    .await
    .map_err(|source| {
        if is_policy_failure(&source) {
            SecretError::PcrMismatch { name: name.into() }
        } else {
            SecretError::Tpm {
                name: name.into(),
                source,
            }
        }
    })
}

fn is_policy_failure(error: &TpmError) -> bool {
    match error {
        TpmError::Command { code, .. } => code.is_policy_fail(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(kind: pb::SecretType, protection: pb::SecretProtection, data: &[u8]) -> pb::Secret {
        pb::Secret {
            name: "s1".into(),
            r#type: kind as i32,
            data: data.to_vec(),
            protection: protection as i32,
        }
    }

    fn no_tpm() -> OpenContext<'static> {
        OpenContext {
            tpm: None,
            instance_id: "4708131932155938716",
            pcrs: Some((PcrBank::Sha256, &[0, 7])),
        }
    }

    #[tokio::test]
    async fn raw_without_protection_is_delivered_as_is() {
        let opened = open_secret(
            &secret(pb::SecretType::Raw, pb::SecretProtection::None, b"fooobar"),
            no_tpm(),
        )
        .await
        .unwrap();
        assert_eq!(opened.expose(), b"fooobar");
        assert_eq!(opened.kind(), SecretKind::Raw);
    }

    #[tokio::test]
    async fn malformed_envelope_is_an_envelope_error_naming_the_secret() {
        let error = open_secret(
            &secret(
                pb::SecretType::Raw,
                pb::SecretProtection::TpmEnvelope,
                b"TDEV\x01\x00\x00",
            ),
            no_tpm(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&error, SecretError::Envelope { name, .. } if name == "s1"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn malformed_import_blob_is_an_import_blob_error() {
        let error = open_secret(
            &secret(
                pb::SecretType::Tpm,
                pb::SecretProtection::None,
                &[0xff, 0xff, 0x07],
            ),
            no_tpm(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, SecretError::ImportBlob { .. }), "{error}");
    }

    #[tokio::test]
    async fn tpm_secret_sealed_by_the_console_is_opened_as_an_envelope_not_an_import_blob() {
        let error = open_secret(
            &secret(
                pb::SecretType::Tpm,
                pb::SecretProtection::None,
                b"TDEV\x01\x00",
            ),
            no_tpm(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, SecretError::Envelope { .. }), "{error}");
    }

    #[tokio::test]
    async fn sealed_secret_without_a_tpm_says_to_enable_it() {
        let blob = import_blob::encode(
            &SealedBlob {
                public: vec![1],
                duplicate: vec![2],
                encrypted_seed: vec![3],
                pcrs: None,
            },
            &Default::default(),
        );
        let error = open_secret(
            &secret(
                pb::SecretType::Tpm,
                pb::SecretProtection::TpmImportBlob,
                &blob,
            ),
            no_tpm(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, SecretError::NoTpm { .. }), "{error}");
        assert!(error.to_string().contains("--useTPM"));
    }

    #[tokio::test]
    async fn tink_keyset_is_loaded_and_self_tested() {
        let keyset = tokendist_core::tink::keyset_with_aes_gcm_key(1_791_408_185, &[9; 32], 1);
        let opened = open_secret(
            &secret(pb::SecretType::Tink, pb::SecretProtection::None, &keyset),
            no_tpm(),
        )
        .await
        .unwrap();
        assert_eq!(opened.expose(), keyset.as_slice());
        let error = open_secret(
            &secret(
                pb::SecretType::Tink,
                pb::SecretProtection::None,
                b"{\"json\": true}",
            ),
            no_tpm(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, SecretError::Tink { .. }), "{error}");
    }

    #[tokio::test]
    async fn unknown_type_and_protection_are_refused() {
        let mut bad = secret(pb::SecretType::Raw, pb::SecretProtection::None, b"x");
        bad.r#type = 42;
        assert!(matches!(
            open_secret(&bad, no_tpm()).await,
            Err(SecretError::UnknownType { value: 42, .. })
        ));
        let mut bad = secret(pb::SecretType::Raw, pb::SecretProtection::None, b"x");
        bad.protection = 9;
        assert!(matches!(
            open_secret(&bad, no_tpm()).await,
            Err(SecretError::UnknownProtection { value: 9, .. })
        ));
    }

    #[tokio::test]
    async fn errors_never_contain_the_secret_bytes() {
        let keyset_like = b"SUPERSECRETVALUE-not-a-keyset";
        let error = open_secret(
            &secret(
                pb::SecretType::Tink,
                pb::SecretProtection::None,
                keyset_like,
            ),
            no_tpm(),
        )
        .await
        .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SUPERSECRET"), "{shown}");
    }
}
