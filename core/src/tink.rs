//! TINK secrets: a binary Tink `Keyset` (cleartext, as the original's `keyset.NewBinaryReader`)
//! loaded as an AEAD primitive. Only `type.googleapis.com/google.crypto.tink.AesGcmKey` keys are
//! supported (AES-128/256-GCM, 12-byte IV, ciphertext `prefix | iv | ct | tag`); other key types are
//! refused with a clear error. Output prefixes follow Tink: TINK `0x01 | key id`, LEGACY and CRUNCHY
//! `0x00 | key id`, RAW none. Key material is zeroized on drop and never printed.

use std::fmt;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit, Nonce};
use prost::Message;
use zeroize::{Zeroize, Zeroizing};

/// The only key type this build supports.
pub const AES_GCM_TYPE_URL: &str = "type.googleapis.com/google.crypto.tink.AesGcmKey";
/// AES-GCM IV length in a Tink ciphertext.
pub const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const PREFIX_LEN: usize = 5;
const STATUS_ENABLED: i32 = 1;
const PREFIX_TINK: i32 = 1;
const PREFIX_LEGACY: i32 = 2;
const PREFIX_RAW: i32 = 3;
const PREFIX_CRUNCHY: i32 = 4;

/// Tink `KeyData`.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct KeyDataProto {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    #[prost(int32, tag = "3")]
    pub key_material_type: i32,
}

/// Tink `Keyset.Key`.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct KeyProto {
    #[prost(message, optional, tag = "1")]
    pub key_data: Option<KeyDataProto>,
    #[prost(int32, tag = "2")]
    pub status: i32,
    #[prost(uint32, tag = "3")]
    pub key_id: u32,
    #[prost(int32, tag = "4")]
    pub output_prefix_type: i32,
}

/// Tink `Keyset`.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct KeysetProto {
    #[prost(uint32, tag = "1")]
    pub primary_key_id: u32,
    #[prost(message, repeated, tag = "2")]
    pub key: Vec<KeyProto>,
}

/// Tink `AesGcmKey`.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct AesGcmKeyProto {
    #[prost(uint32, tag = "1")]
    pub version: u32,
    #[prost(bytes = "vec", tag = "3")]
    pub key_value: Vec<u8>,
}

impl Drop for KeyDataProto {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl Drop for AesGcmKeyProto {
    fn drop(&mut self) {
        self.key_value.zeroize();
    }
}

macro_rules! redacted_debug {
    ($($ty:ty),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($ty), "(<redacted>)"))
            }
        }
    )*};
}
redacted_debug!(KeyDataProto, KeyProto, KeysetProto, AesGcmKeyProto);

/// Why a keyset cannot be used, or a ciphertext does not decrypt. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TinkError {
    #[error("not a binary Tink keyset: {0}")]
    Malformed(String),
    #[error("the keyset has no enabled key")]
    NoEnabledKey,
    #[error("the keyset's primary key {0} is missing or not enabled")]
    NoPrimary(u32),
    #[error(
        "key {key_id} has type {type_url}; this client supports only {AES_GCM_TYPE_URL} (re-create the keyset with AES-GCM keys)"
    )]
    UnsupportedKeyType { key_id: u32, type_url: String },
    #[error("key {key_id}: {reason}")]
    BadKey { key_id: u32, reason: String },
    #[error("ciphertext does not decrypt with any key of the keyset")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error("the keyset failed its encrypt/decrypt self-test")]
    SelfTest,
}

struct AeadKey {
    key_id: u32,
    prefix: Vec<u8>,
    material: Zeroizing<Vec<u8>>,
}

/// An AEAD primitive over the enabled AES-GCM keys of a keyset; encrypts with the primary key.
pub struct TinkAead {
    primary: usize,
    keys: Vec<AeadKey>,
}

impl fmt::Debug for TinkAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<u32> = self.keys.iter().map(|k| k.key_id).collect();
        f.debug_struct("TinkAead")
            .field("primary_key_id", &self.primary_key_id())
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

fn prefix_of(key_id: u32, output_prefix_type: i32) -> Result<Vec<u8>, TinkError> {
    let id = key_id.to_be_bytes();
    match output_prefix_type {
        PREFIX_TINK => Ok([&[0x01][..], &id].concat()),
        PREFIX_LEGACY | PREFIX_CRUNCHY => Ok([&[0x00][..], &id].concat()),
        PREFIX_RAW => Ok(Vec::new()),
        other => Err(TinkError::BadKey {
            key_id,
            reason: format!("unknown output prefix type {other}"),
        }),
    }
}

fn seal(material: &[u8], iv: &[u8], plaintext: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    match material.len() {
        16 => Aes128Gcm::new_from_slice(material)
            .ok()?
            .encrypt(Nonce::from_slice(iv), payload)
            .ok(),
        32 => Aes256Gcm::new_from_slice(material)
            .ok()?
            .encrypt(Nonce::from_slice(iv), payload)
            .ok(),
        _ => None,
    }
}

fn open(material: &[u8], iv: &[u8], ciphertext: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let payload = Payload {
        msg: ciphertext,
        aad,
    };
    match material.len() {
        16 => Aes128Gcm::new_from_slice(material)
            .ok()?
            .decrypt(Nonce::from_slice(iv), payload)
            .ok(),
        32 => Aes256Gcm::new_from_slice(material)
            .ok()?
            .decrypt(Nonce::from_slice(iv), payload)
            .ok(),
        _ => None,
    }
}

impl TinkAead {
    /// Loads a binary cleartext keyset. Disabled and destroyed keys are ignored; an enabled key of
    /// another type is an error (so a keyset is never half-used).
    pub fn from_binary_keyset(bytes: &[u8]) -> Result<TinkAead, TinkError> {
        let keyset = KeysetProto::decode(bytes).map_err(|e| TinkError::Malformed(e.to_string()))?;
        let mut keys = Vec::new();
        for key in keyset.key.iter().filter(|k| k.status == STATUS_ENABLED) {
            let data = key.key_data.as_ref().ok_or_else(|| TinkError::BadKey {
                key_id: key.key_id,
                reason: "no key data".into(),
            })?;
            if data.type_url != AES_GCM_TYPE_URL {
                return Err(TinkError::UnsupportedKeyType {
                    key_id: key.key_id,
                    type_url: data.type_url.clone(),
                });
            }
            let aes =
                AesGcmKeyProto::decode(data.value.as_slice()).map_err(|e| TinkError::BadKey {
                    key_id: key.key_id,
                    reason: format!("not an AesGcmKey: {e}"),
                })?;
            if aes.version != 0 {
                return Err(TinkError::BadKey {
                    key_id: key.key_id,
                    reason: format!("AesGcmKey version {} is not 0", aes.version),
                });
            }
            if !matches!(aes.key_value.len(), 16 | 32) {
                return Err(TinkError::BadKey {
                    key_id: key.key_id,
                    reason: format!("AES key of {} bytes (need 16 or 32)", aes.key_value.len()),
                });
            }
            keys.push(AeadKey {
                key_id: key.key_id,
                prefix: prefix_of(key.key_id, key.output_prefix_type)?,
                material: Zeroizing::new(aes.key_value.clone()),
            });
        }
        if keys.is_empty() {
            return Err(TinkError::NoEnabledKey);
        }
        let primary = keys
            .iter()
            .position(|k| k.key_id == keyset.primary_key_id)
            .ok_or(TinkError::NoPrimary(keyset.primary_key_id))?;
        Ok(TinkAead { primary, keys })
    }

    pub fn primary_key_id(&self) -> u32 {
        self.keys.get(self.primary).map_or(0, |k| k.key_id)
    }

    /// Encrypts with the primary key: `prefix | iv | ciphertext | tag`. The caller supplies a fresh
    /// random `iv` for every call (core does no I/O, randomness included).
    pub fn encrypt(
        &self,
        iv: [u8; IV_LEN],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, TinkError> {
        let key = self.keys.get(self.primary).ok_or(TinkError::Encrypt)?;
        let sealed = seal(&key.material, &iv, plaintext, aad).ok_or(TinkError::Encrypt)?;
        Ok([key.prefix.as_slice(), &iv, &sealed].concat())
    }

    /// Decrypts with the key its prefix names, then with the RAW keys.
    pub fn decrypt(&self, ciphertext: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, TinkError> {
        let prefixed = self.keys.iter().filter(|k| {
            !k.prefix.is_empty()
                && ciphertext.len() >= PREFIX_LEN
                && ciphertext[..PREFIX_LEN] == k.prefix[..]
        });
        let raw = self.keys.iter().filter(|k| k.prefix.is_empty());
        for key in prefixed.chain(raw) {
            let body = &ciphertext[key.prefix.len()..];
            if body.len() < IV_LEN + TAG_LEN {
                continue;
            }
            let (iv, sealed) = body.split_at(IV_LEN);
            if let Some(plaintext) = open(&key.material, iv, sealed, aad) {
                return Ok(Zeroizing::new(plaintext));
            }
        }
        Err(TinkError::Decrypt)
    }

    /// The original client's check: encrypt a probe under a fresh random `iv` and decrypt it again.
    pub fn self_test(&self, iv: [u8; IV_LEN]) -> Result<(), TinkError> {
        let probe = b"tokenclient self-test";
        let sealed = self.encrypt(iv, probe, b"")?;
        let opened = self
            .decrypt(&sealed, b"")
            .map_err(|_| TinkError::SelfTest)?;
        if opened.as_slice() == probe {
            Ok(())
        } else {
            Err(TinkError::SelfTest)
        }
    }
}

/// Builds a binary keyset with one AES-GCM key (tests, demos and tools).
pub fn keyset_with_aes_gcm_key(key_id: u32, key: &[u8], output_prefix_type: i32) -> Vec<u8> {
    let value = AesGcmKeyProto {
        version: 0,
        key_value: key.to_vec(),
    }
    .encode_to_vec();
    KeysetProto {
        primary_key_id: key_id,
        key: vec![KeyProto {
            key_data: Some(KeyDataProto {
                type_url: AES_GCM_TYPE_URL.into(),
                value,
                key_material_type: 1,
            }),
            status: STATUS_ENABLED,
            key_id,
            output_prefix_type,
        }],
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original's sample keyset id.
    const SAMPLE_KEY_ID: u32 = 1_791_408_185;

    #[test]
    fn tink_prefix_is_one_then_the_key_id_and_round_trips() {
        let keyset = keyset_with_aes_gcm_key(SAMPLE_KEY_ID, &[7u8; 32], PREFIX_TINK);
        let aead = TinkAead::from_binary_keyset(&keyset).unwrap();
        aead.self_test([5; IV_LEN]).unwrap();
        let sealed = aead.encrypt([3; IV_LEN], b"foo", b"ad").unwrap();
        assert_eq!(&sealed[..5], &[0x01, 0x6A, 0xC6, 0xB8, 0x39]);
        assert_eq!(sealed.len(), 5 + 12 + 3 + 16);
        assert_eq!(aead.decrypt(&sealed, b"ad").unwrap().as_slice(), b"foo");
        assert_eq!(aead.decrypt(&sealed, b"other"), Err(TinkError::Decrypt));
    }

    #[test]
    fn known_answer_aes_gcm_with_fixed_iv_matches_tinks_layout() {
        // NIST GCM test case 13 (AES-256, zero key, zero IV, empty plaintext): tag 530f8afbc74536b9a963b4f1c4cb738b.
        let keyset = keyset_with_aes_gcm_key(5, &[0u8; 32], PREFIX_RAW);
        let aead = TinkAead::from_binary_keyset(&keyset).unwrap();
        let mut ciphertext = vec![0u8; 12];
        ciphertext.extend_from_slice(&[
            0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9, 0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb,
            0x73, 0x8b,
        ]);
        assert_eq!(aead.decrypt(&ciphertext, b"").unwrap().as_slice(), b"");
    }

    #[test]
    fn legacy_prefix_is_zero_then_the_key_id() {
        let keyset = keyset_with_aes_gcm_key(0x0102_0304, &[1u8; 16], PREFIX_LEGACY);
        let aead = TinkAead::from_binary_keyset(&keyset).unwrap();
        let sealed = aead.encrypt([4; IV_LEN], b"x", b"").unwrap();
        assert_eq!(&sealed[..5], &[0x00, 1, 2, 3, 4]);
        aead.self_test([5; IV_LEN]).unwrap();
    }

    #[test]
    fn other_key_types_are_refused_by_name() {
        let keyset = KeysetProto {
            primary_key_id: 9,
            key: vec![KeyProto {
                key_data: Some(KeyDataProto {
                    type_url: "type.googleapis.com/google.crypto.tink.ChaCha20Poly1305Key".into(),
                    value: vec![1, 2, 3],
                    key_material_type: 1,
                }),
                status: STATUS_ENABLED,
                key_id: 9,
                output_prefix_type: PREFIX_TINK,
            }],
        }
        .encode_to_vec();
        let error = TinkAead::from_binary_keyset(&keyset).unwrap_err();
        assert!(
            matches!(&error, TinkError::UnsupportedKeyType { key_id: 9, type_url } if type_url.contains("ChaCha20")),
            "{error}"
        );
    }

    #[test]
    fn json_keyset_is_malformed_not_a_panic() {
        let json = br#"{"primaryKeyId":1791408185,"key":[]}"#;
        assert!(matches!(
            TinkAead::from_binary_keyset(json),
            Err(TinkError::Malformed(_))
        ));
    }

    #[test]
    fn wrong_key_length_and_missing_primary_are_errors() {
        let short = keyset_with_aes_gcm_key(1, &[1u8; 20], PREFIX_TINK);
        assert!(matches!(
            TinkAead::from_binary_keyset(&short),
            Err(TinkError::BadKey { key_id: 1, .. })
        ));
        let mut keyset =
            KeysetProto::decode(keyset_with_aes_gcm_key(1, &[1u8; 16], PREFIX_TINK).as_slice())
                .unwrap();
        keyset.primary_key_id = 2;
        assert_eq!(
            TinkAead::from_binary_keyset(&keyset.encode_to_vec()).unwrap_err(),
            TinkError::NoPrimary(2)
        );
    }

    #[test]
    fn debug_never_shows_key_material() {
        let keyset = keyset_with_aes_gcm_key(3, &[0xAB; 32], PREFIX_TINK);
        let aead = TinkAead::from_binary_keyset(&keyset).unwrap();
        let parsed = KeysetProto::decode(keyset.as_slice()).unwrap();
        let shown = format!("{aead:?} {parsed:?}");
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("abab"),
            "{shown}"
        );
    }
}
