//! Error enums of the TPM module: one per concern, each naming what is wrong and where.

/// A TPM structure could not be read or written (bounded big-endian marshalling).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarshalError {
    #[error(
        "{what} is truncated at offset {offset}: needs {needed} more bytes, {available} left; send the complete structure"
    )]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error(
        "{what} at offset {offset} declares length {length}, more than the maximum {max}; the structure is corrupt"
    )]
    LengthOverflow {
        what: &'static str,
        offset: usize,
        length: usize,
        max: usize,
    },
    #[error("{what} at offset {offset} has unknown algorithm 0x{alg:04x}")]
    UnknownAlgorithm {
        what: &'static str,
        offset: usize,
        alg: u16,
    },
    #[error("{what} at offset {offset} is 0x{value:04x}, which this verifier does not support")]
    Unsupported {
        what: &'static str,
        offset: usize,
        value: u16,
    },
    #[error(
        "wrong magic 0x{found:08x} in TPMS_ATTEST (expected 0xff544347, TPM_GENERATED_VALUE): not a TPM-generated attestation"
    )]
    WrongMagic { found: u32 },
    #[error(
        "{what} at offset {offset} is {value}, not a TPMI_YES_NO (0 or 1); the structure is corrupt"
    )]
    InvalidYesNo {
        what: &'static str,
        offset: usize,
        value: u8,
    },
    #[error("{what} has {count} trailing bytes after offset {offset}; send exactly one structure")]
    TrailingBytes {
        what: &'static str,
        offset: usize,
        count: usize,
    },
    #[error("{what} declares size {declared} but its content is {actual} bytes")]
    SizeMismatch {
        what: &'static str,
        declared: usize,
        actual: usize,
    },
    #[error("{what} is {length} bytes, too long for its u16 size field (max {max})")]
    TooLong {
        what: &'static str,
        length: usize,
        max: usize,
    },
}

/// Building a TPM object for a TPM (MakeCredential, import blob, PolicyPCR) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TpmError {
    #[error("the EK public is not an RSA key (type 0x{found:04x}); only RSA EKs are supported")]
    EkNotRsa { found: u16 },
    #[error("the EK uses name algorithm 0x{found:04x}; only SHA-256 (0x000b) is supported")]
    EkNameAlg { found: u16 },
    #[error(
        "the EK's symmetric algorithm is not AES-CFB with 128 or 256-bit keys; it cannot be a storage parent"
    )]
    EkSymmetric,
    #[error("the EK's RSA key is invalid: {0}")]
    EkKey(String),
    #[error("RSA-OAEP encryption to the EK failed: {0}")]
    Encrypt(String),
    #[error("{what} is {length} bytes, more than the {max} bytes a TPM accepts")]
    TooLong {
        what: &'static str,
        length: usize,
        max: usize,
    },
    #[error("name is {length} bytes; a SHA-256 name is 34 bytes (0x000b || digest)")]
    BadName { length: usize },
    #[error("policy digest is {length} bytes; a SHA-256 policy digest is 32 bytes")]
    PolicyDigestLength { length: usize },
    #[error("PCR index {index} is outside 0..=23 (3-byte PCR selection)")]
    PcrIndexOutOfRange { index: u32 },
    #[error("PCR bank 0x{alg:04x} is not a hash algorithm")]
    PcrBank { alg: u16 },
    #[error("value of PCR {index} is {length} bytes, expected {expected} for the bank's hash")]
    PcrValueLength {
        index: u32,
        length: usize,
        expected: usize,
    },
    #[error("only SHA-256 names can be computed; this object uses name algorithm 0x{found:04x}")]
    NameAlg { found: u16 },
    #[error("integrity check of a wrapped blob failed: wrong seed, name or tampered data")]
    Integrity,
    #[error(transparent)]
    Marshal(#[from] MarshalError),
}

/// A quote or certify attestation failed verification. Every variant is a reason for `tpm.quote`
/// (or, for certify, the check that binds a key); none of them carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("malformed TPMS_ATTEST: {0}")]
    MalformedAttest(MarshalError),
    #[error("malformed TPMT_SIGNATURE: {0}")]
    MalformedSignature(MarshalError),
    #[error("the signing key is unusable: {0}")]
    SignerKey(String),
    #[error(
        "signature algorithm 0x{sig_alg:04x} with hash 0x{hash_alg:04x} is not accepted (RSASSA or RSAPSS with SHA-256 only)"
    )]
    SignatureScheme { sig_alg: u16, hash_alg: u16 },
    #[error("the signature does not verify with the signer's public key")]
    BadSignature,
    #[error(
        "wrong magic 0x{found:08x}: not a TPM-generated attestation (TPM_GENERATED_VALUE is 0xff544347)"
    )]
    WrongMagic { found: u32 },
    #[error("attestation type 0x{found:04x} is not the expected 0x{expected:04x}")]
    WrongType { found: u16, expected: u16 },
    #[error("extraData does not equal this session's nonce: a replayed or foreign attestation")]
    NonceMismatch,
    #[error(
        "the quoted PCR selection is not exactly the expected PCRs {expected:?} in the SHA-256 bank"
    )]
    PcrSelectionMismatch { expected: Vec<u32> },
    #[error("the quoted PCR digest does not match the expected PCR values")]
    PcrDigestMismatch,
    #[error("expected PCR values are invalid: {0}")]
    ExpectedPcrs(TpmError),
    #[error("the certified name does not equal the expected key's name")]
    NameMismatch,
}

/// An attestation key's public area does not have the template a verifier requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AkError {
    #[error("AK is not an RSA key (type 0x{found:04x})")]
    NotRsa { found: u16 },
    #[error("AK name algorithm is 0x{found:04x}, expected SHA-256 (0x000b)")]
    NameAlg { found: u16 },
    #[error("AK attribute {attribute} is required but clear")]
    MissingAttribute { attribute: &'static str },
    #[error("AK attribute {attribute} must be clear but is set")]
    ForbiddenAttribute { attribute: &'static str },
    #[error("AK is RSA-{found}, expected RSA-2048")]
    KeyBits { found: u16 },
    #[error(
        "AK scheme 0x{scheme:04x} with hash 0x{hash_alg:04x} is not RSASSA/RSAPSS with SHA-256"
    )]
    Scheme { scheme: u16, hash_alg: u16 },
    #[error("AK has a symmetric algorithm; a signing key must have TPM_ALG_NULL")]
    Symmetric,
}

/// An EK public key could not be decoded, encoded or compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EkError {
    #[error("EK PEM is not an RSA SubjectPublicKeyInfo (\"PUBLIC KEY\"): {0}")]
    Pem(String),
    #[error("EK public is not an RSA key (type 0x{found:04x})")]
    NotRsa { found: u16 },
    #[error("EK RSA key is invalid: {0}")]
    Key(String),
    #[error("EK modulus is {bits} bits; only 2048-bit RSA EKs are supported")]
    KeyBits { bits: usize },
}

/// An envelope could not be sealed, decoded or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope is truncated at offset {offset}: needs {needed} more bytes")]
    Truncated { offset: usize, needed: usize },
    #[error("not a tokendist envelope (wrong magic)")]
    WrongMagic,
    #[error(
        "envelope version {found} is not supported (this build reads version 1); upgrade tokendist"
    )]
    UnsupportedVersion { found: u8 },
    #[error("envelope field {what} is {length} bytes, expected {expected}")]
    FieldLength {
        what: &'static str,
        length: usize,
        expected: usize,
    },
    #[error("envelope has {count} trailing bytes")]
    TrailingBytes { count: usize },
    #[error("envelope field {what} is {length} bytes, too long for the wire format")]
    TooLong { what: &'static str, length: usize },
    #[error("data key is {length} bytes; expected 32 (AES-256)")]
    DataKeyLength { length: usize },
    #[error(
        "envelope does not open with this data key and associated data (wrong key, wrong binding or tampered)"
    )]
    OpenFailed,
    #[error("envelope encryption failed")]
    SealFailed,
    #[error("sealing the data key failed: {0}")]
    Seal(#[from] TpmError),
}
