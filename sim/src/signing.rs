//! The identity-token signing keys: RS256 key pairs, rotation, the JWKS document, and JWS signing.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::SimError;

/// One RSA-2048 signing key and its key id.
struct SigningKey {
    kid: String,
    pair: KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn generate() -> Result<SigningKey, SimError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| SimError::KeyGeneration)?;
        let public = pair.public_key();
        // Google's kids are 40 hex chars; derive ours from the modulus.
        let digest = Sha256::digest(public.modulus().big_endian_without_leading_zero());
        let kid: String = digest[..20].iter().map(|b| format!("{b:02x}")).collect();
        Ok(SigningKey { kid, pair })
    }

    fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kid": self.kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            "alg": "RS256",
            "use": "sig",
        })
    }
}

/// The key ring: the current key signs, older ones stay published until rotated out.
#[derive(Debug)]
pub(crate) struct SigningKeys {
    /// Newest first; index 0 signs.
    keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// A ring with one fresh key.
    pub(crate) fn generate() -> Result<SigningKeys, SimError> {
        Ok(SigningKeys {
            keys: vec![SigningKey::generate()?],
        })
    }

    /// Makes a new current key. The previous current key stays published (for verification) unless
    /// `drop_previous`; anything older is dropped, so at most two keys are published.
    pub(crate) fn rotate(&mut self, drop_previous: bool) -> Result<(), SimError> {
        let fresh = SigningKey::generate()?;
        let keep = if drop_previous { 0 } else { 1 };
        self.keys.truncate(keep);
        self.keys.insert(0, fresh);
        Ok(())
    }

    /// Publishes an attacker's key under the current key's id, listed first, and makes it the signing
    /// key: a JWKS with a duplicate `kid`, where a verifier that takes the first match trusts the
    /// attacker. `rotate(true)` removes it again.
    pub(crate) fn add_impostor(&mut self) -> Result<(), SimError> {
        let mut impostor = SigningKey::generate()?;
        impostor.kid = self.current_kid().to_string();
        self.keys.insert(0, impostor);
        Ok(())
    }

    /// Key id of the key that signs now.
    pub(crate) fn current_kid(&self) -> &str {
        self.keys.first().map(|k| k.kid.as_str()).unwrap_or("")
    }

    /// Key ids of every published key, current first.
    pub(crate) fn published_kids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.kid.clone()).collect()
    }

    /// The `/oauth2/v3/certs` document.
    pub(crate) fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(SigningKey::jwk).collect::<Vec<_>>() })
    }

    /// Signs `claims` as a compact RS256 JWS with header `{alg, kid, typ}`. Object keys are serialized
    /// sorted, like Google's tokens.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, SimError> {
        let key = self.keys.first().ok_or(SimError::Signing)?;
        let header = json!({ "alg": "RS256", "kid": key.kid, "typ": "JWT" });
        let encode = |v: &Value| -> Result<String, SimError> {
            let bytes = serde_json::to_vec(v).map_err(|_| SimError::Signing)?;
            Ok(URL_SAFE_NO_PAD.encode(bytes))
        };
        let signing_input = format!("{}.{}", encode(&header)?, encode(claims)?);
        let mut signature = vec![0u8; key.pair.public_modulus_len()];
        key.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SimError::Signing)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impostor_is_published_first_under_the_current_kid_and_signs() {
        let mut ring = SigningKeys::generate().unwrap();
        let kid = ring.current_kid().to_string();
        ring.add_impostor().unwrap();
        assert_eq!(ring.published_kids(), vec![kid.clone(), kid.clone()]);
        let jwks = ring.jwks();
        assert_ne!(jwks["keys"][0]["n"], jwks["keys"][1]["n"]);
        ring.rotate(true).unwrap();
        assert_eq!(ring.published_kids().len(), 1);
        assert_ne!(ring.current_kid(), kid);
    }

    #[test]
    fn rotation_keeps_previous_key_published_until_second_rotation() {
        let mut ring = SigningKeys::generate().unwrap();
        let first = ring.current_kid().to_string();
        ring.rotate(false).unwrap();
        let second = ring.current_kid().to_string();
        assert_ne!(first, second);
        assert_eq!(ring.published_kids(), vec![second.clone(), first.clone()]);
        ring.rotate(false).unwrap();
        let third = ring.current_kid().to_string();
        assert_eq!(ring.published_kids(), vec![third.clone(), second]);
        ring.rotate(true).unwrap();
        assert_eq!(ring.published_kids().len(), 1);
    }
}
