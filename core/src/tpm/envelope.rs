//! Envelope sealing of a secret of any size to a VM's TPM: a fresh AES-256-GCM data key encrypts
//! the payload, and the data key is sealed in an import blob to the EK (with the PolicyPCR
//! authPolicy). Wire format, version 1, all lengths u32 big-endian:
//! `"TDEV" | 0x01 | len|public | len|duplicate | len|encrypted_seed | len|nonce(12) | len|ciphertext`.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use rand_chacha::rand_core::RngCore;
use zeroize::Zeroizing;

use super::errors::{EnvelopeError, MarshalError};
use super::import::{ImportBlob, create_import_blob};
use super::marshal::{Reader, put_u32};
use super::public::TpmtPublic;
use super::wrap::rng_from_seed;

/// First bytes of every envelope.
pub const ENVELOPE_MAGIC: [u8; 4] = *b"TDEV";
/// The wire format version this build writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;
/// AES-256-GCM data key size.
pub const DATA_KEY_LEN: usize = 32;
/// AES-GCM nonce size.
pub const NONCE_LEN: usize = 12;
/// Domain separation prefix of the GCM associated data.
const AAD_PREFIX: &[u8] = b"tokendist/v1/envelope\0";

/// A sealed secret: the data key's import blob and the payload encrypted under that key.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    pub import_blob: ImportBlob,
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Envelope {
    /// Sizes only: the ciphertext may be megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("public_len", &self.import_blob.public.len())
            .field("duplicate_len", &self.import_blob.duplicate.len())
            .field("encrypted_seed_len", &self.import_blob.encrypted_seed.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), EnvelopeError> {
    let length = u32::try_from(bytes.len()).map_err(|_| EnvelopeError::TooLong {
        what,
        length: bytes.len(),
    })?;
    put_u32(out, length);
    out.extend_from_slice(bytes);
    Ok(())
}

fn envelope_error(error: MarshalError) -> EnvelopeError {
    match error {
        MarshalError::Truncated { offset, needed, .. } => {
            EnvelopeError::Truncated { offset, needed }
        }
        MarshalError::TrailingBytes { count, .. } => EnvelopeError::TrailingBytes { count },
        _ => EnvelopeError::Truncated {
            offset: 0,
            needed: 0,
        },
    }
}

fn take_field<'a>(reader: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], EnvelopeError> {
    let length = reader.u32(what).map_err(envelope_error)?;
    let length = usize::try_from(length).map_err(|_| EnvelopeError::TooLong {
        what,
        length: usize::MAX,
    })?;
    reader.take(length, what).map_err(envelope_error)
}

impl Envelope {
    /// The versioned wire form.
    pub fn encode(&self) -> Result<Vec<u8>, EnvelopeError> {
        let blob = &self.import_blob;
        let mut out = Vec::with_capacity(
            5 + 20
                + blob.public.len()
                + blob.duplicate.len()
                + blob.encrypted_seed.len()
                + NONCE_LEN
                + self.ciphertext.len(),
        );
        out.extend_from_slice(&ENVELOPE_MAGIC);
        out.push(ENVELOPE_VERSION);
        put_field(&mut out, &blob.public, "public")?;
        put_field(&mut out, &blob.duplicate, "duplicate")?;
        put_field(&mut out, &blob.encrypted_seed, "encrypted_seed")?;
        put_field(&mut out, &self.nonce, "nonce")?;
        put_field(&mut out, &self.ciphertext, "ciphertext")?;
        Ok(out)
    }

    /// Reads the wire form; every length is checked against the input, nothing panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let mut reader = Reader::new(bytes);
        let magic = reader
            .take(ENVELOPE_MAGIC.len(), "magic")
            .map_err(envelope_error)?;
        if magic != ENVELOPE_MAGIC {
            return Err(EnvelopeError::WrongMagic);
        }
        let version = reader.u8("version").map_err(envelope_error)?;
        if version != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnsupportedVersion { found: version });
        }
        let public = take_field(&mut reader, "public")?.to_vec();
        let duplicate = take_field(&mut reader, "duplicate")?.to_vec();
        let encrypted_seed = take_field(&mut reader, "encrypted_seed")?.to_vec();
        let nonce_bytes = take_field(&mut reader, "nonce")?;
        let nonce: [u8; NONCE_LEN] =
            nonce_bytes
                .try_into()
                .map_err(|_| EnvelopeError::FieldLength {
                    what: "nonce",
                    length: nonce_bytes.len(),
                    expected: NONCE_LEN,
                })?;
        let ciphertext = take_field(&mut reader, "ciphertext")?.to_vec();
        reader.finish("envelope").map_err(envelope_error)?;
        Ok(Self {
            import_blob: ImportBlob {
                public,
                duplicate,
                encrypted_seed,
            },
            nonce,
            ciphertext,
        })
    }
}

fn full_aad(aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_PREFIX.len() + aad.len());
    out.extend_from_slice(AAD_PREFIX);
    out.extend_from_slice(aad);
    out
}

/// Seals `plaintext` (any size) to the TPM of `ek_public`: a fresh data key (drawn from `seed`, 32
/// fresh random bytes from the caller) encrypts it with AES-256-GCM bound to `aad`, and the data
/// key is sealed with [`create_import_blob`] under `policy_digest`. Returns the encoded envelope.
pub fn seal_envelope(
    ek_public: &TpmtPublic,
    plaintext: &[u8],
    policy_digest: Option<&[u8]>,
    aad: &[u8],
    seed: [u8; 32],
) -> Result<Vec<u8>, EnvelopeError> {
    let mut rng = rng_from_seed(seed);
    let mut data_key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    rng.fill_bytes(data_key.as_mut());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut blob_seed = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(blob_seed.as_mut());

    let import_blob = create_import_blob(ek_public, data_key.as_ref(), policy_digest, *blob_seed)?;
    let cipher =
        Aes256Gcm::new_from_slice(data_key.as_ref()).map_err(|_| EnvelopeError::SealFailed)?;
    let aad = full_aad(aad);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| EnvelopeError::SealFailed)?;
    Envelope {
        import_blob,
        nonce,
        ciphertext,
    }
    .encode()
}

/// Decrypts the envelope's payload with the data key the client unsealed from its import blob
/// (TPM2_Import + Load + PolicyPCR + Unseal), checking the GCM tag over `aad`.
pub fn open_envelope_with_data_key(
    envelope: &Envelope,
    data_key: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    if data_key.len() != DATA_KEY_LEN {
        return Err(EnvelopeError::DataKeyLength {
            length: data_key.len(),
        });
    }
    let cipher = Aes256Gcm::new_from_slice(data_key).map_err(|_| EnvelopeError::DataKeyLength {
        length: data_key.len(),
    })?;
    let aad = full_aad(aad);
    cipher
        .decrypt(
            Nonce::from_slice(&envelope.nonce),
            Payload {
                msg: &envelope.ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| EnvelopeError::OpenFailed)
}
