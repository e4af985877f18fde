//! Key material of tokendist as PEM text: Alice's Ed25519 approval keys, the server's Ed25519 receipt
//! key and its X25519 secrets key. Standard encodings (PKCS#8 private keys, SPKI public keys), so
//! `openssl pkey -in FILE -text` reads them. Pure parsing and formatting; files are the callers' job.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// PKCS#8 prefix of an X25519 private key (RFC 8410): SEQUENCE, version 0, OID 1.3.101.110, OCTET STRING.
const X25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
];
/// SPKI prefix of an X25519 public key.
const X25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
];

/// A key file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM {expected} (expected a '-----BEGIN {expected}-----' block)")]
    NotPem { expected: &'static str },
    #[error("PEM {label} block is not a valid {what}")]
    Invalid {
        label: &'static str,
        what: &'static str,
    },
}

/// Short identifier of a public key: the first 8 bytes of its SHA-256, hex.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// Ed25519 private key → PKCS#8 PEM.
pub fn ed25519_private_to_pem(
    key: &ed25519_dalek::SigningKey,
) -> Result<Zeroizing<String>, KeyError> {
    key.to_pkcs8_pem(Default::default())
        .map(|pem| Zeroizing::new(pem.to_string()))
        .map_err(|_| KeyError::Invalid {
            label: "PRIVATE KEY",
            what: "Ed25519 private key",
        })
}

/// PKCS#8 PEM → Ed25519 private key.
pub fn ed25519_private_from_pem(pem: &str) -> Result<ed25519_dalek::SigningKey, KeyError> {
    if !pem.contains("-----BEGIN PRIVATE KEY-----") {
        return Err(KeyError::NotPem {
            expected: "PRIVATE KEY",
        });
    }
    ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::Invalid {
        label: "PRIVATE KEY",
        what: "Ed25519 private key",
    })
}

/// Ed25519 public key → SPKI PEM.
pub fn ed25519_public_to_pem(key: &ed25519_dalek::VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(Default::default())
        .map_err(|_| KeyError::Invalid {
            label: "PUBLIC KEY",
            what: "Ed25519 public key",
        })
}

/// SPKI PEM → Ed25519 public key.
pub fn ed25519_public_from_pem(pem: &str) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    if !pem.contains("-----BEGIN PUBLIC KEY-----") {
        return Err(KeyError::NotPem {
            expected: "PUBLIC KEY",
        });
    }
    ed25519_dalek::VerifyingKey::from_public_key_pem(pem).map_err(|_| KeyError::Invalid {
        label: "PUBLIC KEY",
        what: "Ed25519 public key",
    })
}

/// DER → a PEM block with 64-column base64 lines, as OpenSSL writes it.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_der(pem: &str, label: &'static str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or(KeyError::NotPem { expected: label })?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or(KeyError::NotPem { expected: label })?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(body)
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Invalid {
            label,
            what: "base64 block",
        })
}

/// X25519 private key (32 bytes) → PKCS#8 PEM.
pub fn x25519_private_to_pem(secret: &[u8; 32]) -> Zeroizing<String> {
    let mut der = Zeroizing::new(X25519_PKCS8_PREFIX.to_vec());
    der.extend_from_slice(secret);
    Zeroizing::new(pem_block("PRIVATE KEY", &der))
}

/// PKCS#8 PEM → X25519 private key bytes.
pub fn x25519_private_from_pem(pem: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let der = pem_der(pem, "PRIVATE KEY")?;
    let invalid = KeyError::Invalid {
        label: "PRIVATE KEY",
        what: "X25519 private key",
    };
    let raw = der
        .strip_prefix(&X25519_PKCS8_PREFIX[..])
        .ok_or(invalid.clone())?;
    let bytes: [u8; 32] = raw.try_into().map_err(|_| invalid)?;
    Ok(Zeroizing::new(bytes))
}

/// X25519 public key → SPKI PEM.
pub fn x25519_public_to_pem(public: &[u8; 32]) -> String {
    let mut der = X25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(public);
    pem_block("PUBLIC KEY", &der)
}

/// SPKI PEM → X25519 public key bytes.
pub fn x25519_public_from_pem(pem: &str) -> Result<[u8; 32], KeyError> {
    let der = pem_der(pem, "PUBLIC KEY")?;
    let invalid = KeyError::Invalid {
        label: "PUBLIC KEY",
        what: "X25519 public key",
    };
    let raw = der
        .strip_prefix(&X25519_SPKI_PREFIX[..])
        .ok_or(invalid.clone())?;
    raw.try_into().map_err(|_| invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_keys_round_trip_through_pem() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let private = ed25519_private_to_pem(&key).unwrap();
        assert_eq!(
            ed25519_private_from_pem(&private).unwrap().to_bytes(),
            key.to_bytes()
        );
        let public = ed25519_public_to_pem(&key.verifying_key()).unwrap();
        assert_eq!(
            ed25519_public_from_pem(&public).unwrap(),
            key.verifying_key()
        );
    }

    #[test]
    fn x25519_keys_round_trip_and_wrong_kinds_are_refused() {
        let secret = [9u8; 32];
        let pem = x25519_private_to_pem(&secret);
        assert_eq!(*x25519_private_from_pem(&pem).unwrap(), secret);
        let public = x25519_public_to_pem(&[3u8; 32]);
        assert_eq!(x25519_public_from_pem(&public).unwrap(), [3u8; 32]);
        let ed = ed25519_public_to_pem(
            &ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]).verifying_key(),
        )
        .unwrap();
        assert!(matches!(
            x25519_public_from_pem(&ed),
            Err(KeyError::Invalid { .. })
        ));
        assert!(matches!(
            ed25519_public_from_pem("garbage"),
            Err(KeyError::NotPem { .. })
        ));
    }
}
