//! Verification of a Google instance identity token (`format=full`) against a JWK set, at a given
//! time. RS256 only; every failure is a distinct [`IdentityError`]. No clock reads, no I/O: the caller
//! passes the JWK set (cached by `tokendist-gcp`) and `now`.
//!
//! Order: header (alg pinned to RS256 before any key is touched) → kid lookup (the kid must be unique
//! in the set) → RSA signature → registered claims (`iss`, `aud`, `exp`, `nbf`, `sub`) →
//! `google.compute_engine` → freshness (`iat`, and `exp - iat` at most Google's one hour).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::{ComputeEngineClaims, IdentityClaims, IdentityError};

/// Issuers Google uses for identity tokens.
pub const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// Default maximum token age (`iat` window), in seconds.
pub const DEFAULT_IAT_WINDOW_SECS: u64 = 60;

/// Default tolerated clock difference between Google and this server, in seconds.
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 5;

/// Tokens longer than this are rejected before any parsing (Google's are about 1 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Longest lifetime (`exp - iat`) of a Google identity token: Google issues them for exactly one
/// hour, so a longer one was not minted by Google's metadata server.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 3600;

/// What a token must satisfy besides a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityExpectations {
    /// The server's audience; `aud` must equal it exactly.
    pub audience: String,
    /// Maximum age of the token (`now - iat`), in seconds.
    pub iat_window_secs: u64,
    /// Tolerance for `iat` in the future, `exp`/`nbf` boundaries and the challenge time, in seconds.
    pub clock_skew_secs: u64,
    /// When the session's challenge (nonce) was issued: the token must not be older.
    pub challenge_issued_at: Option<DateTime<Utc>>,
}

impl IdentityExpectations {
    /// Expectations for `audience` with the default window (60 s) and skew (5 s), no challenge.
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            iat_window_secs: DEFAULT_IAT_WINDOW_SECS,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            challenge_issued_at: None,
        }
    }

    /// The same expectations, additionally requiring a token issued after `challenge_issued_at`.
    pub fn with_challenge(mut self, challenge_issued_at: DateTime<Utc>) -> Self {
        self.challenge_issued_at = Some(challenge_issued_at);
        self
    }
}

/// Verifies `token` against `jwks` and `expected` at time `now`, returning its claims.
///
/// On [`IdentityError::UnknownKey`] the caller should refresh the JWK set once and call again.
pub fn verify(
    token: &str,
    jwks: &JwkSet,
    expected: &IdentityExpectations,
    now: DateTime<Utc>,
) -> Result<IdentityClaims, IdentityError> {
    let parts = split_token(token)?;
    let header = decode_json_object(parts.header, "header")?;
    require_rs256(&header)?;
    let kid = header_kid(&header)?.ok_or(IdentityError::MissingKeyId)?;
    let jwk = unique_key(jwks, &kid)?;
    let key = rs256_key(&kid, jwk)?;
    verify_signature(&parts, &key, &kid)?;
    payload_claims(parts.payload, expected, now)
}

/// The claims of a token's payload part (base64url JSON), checked as [`verify`] checks them once
/// the signature verified.
fn payload_claims(
    payload: &str,
    expected: &IdentityExpectations,
    now: DateTime<Utc>,
) -> Result<IdentityClaims, IdentityError> {
    let payload = decode_json_object(payload, "payload")?;
    let claims = registered_claims(&payload, expected, now)?;
    check_freshness(claims.iat, expected, now)?;
    check_lifetime(claims.iat, claims.exp)?;
    Ok(claims)
}

/// For the fuzz targets (`fuzz/`), which cannot sign tokens: the payload checks of [`verify`] on
/// their own. Never use it to accept a token: nothing here verifies a signature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use chrono::{DateTime, Utc};

    use super::{IdentityClaims, IdentityError, IdentityExpectations};

    /// [`verify`](super::verify)'s checks of the payload part, without any signature.
    pub fn unsigned_payload_claims(
        payload: &str,
        expected: &IdentityExpectations,
        now: DateTime<Utc>,
    ) -> Result<IdentityClaims, IdentityError> {
        super::payload_claims(payload, expected, now)
    }
}

/// The one key of `jwks` with `kid`. A set listing the kid twice is refused whatever the token: which
/// of two keys "wins" would be the attacker's choice (the first one listed, for `JwkSet::find`).
fn unique_key<'a>(jwks: &'a JwkSet, kid: &str) -> Result<&'a Jwk, IdentityError> {
    let mut matching = jwks
        .keys
        .iter()
        .filter(|jwk| jwk.common.key_id.as_deref() == Some(kid));
    let first = matching.next().ok_or_else(|| IdentityError::UnknownKey {
        kid: kid.to_owned(),
    })?;
    if matching.next().is_some() {
        return Err(IdentityError::AmbiguousKey {
            kid: kid.to_owned(),
        });
    }
    Ok(first)
}

/// The first key id listed more than once in `jwks`, if any: such a set is refused as a whole.
pub fn duplicate_kid(jwks: &JwkSet) -> Option<&str> {
    let mut seen = std::collections::BTreeSet::new();
    jwks.keys
        .iter()
        .filter_map(|jwk| jwk.common.key_id.as_deref())
        .find(|kid| !seen.insert(*kid))
}

/// The `kid` of a token's header, without verifying anything: lets a JWKS cache decide whether to
/// refresh before calling [`verify`]. `Ok(None)` when the header has no string kid.
pub fn peek_unverified_kid(token: &str) -> Result<Option<String>, IdentityError> {
    let parts = split_token(token)?;
    let header = decode_json_object(parts.header, "header")?;
    header_kid(&header)
}

/// The three base64url parts of a compact JWS, still encoded.
struct TokenParts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, the signed bytes.
    signing_input: &'a str,
}

fn split_token(token: &str) -> Result<TokenParts<'_>, IdentityError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(IdentityError::Malformed(format!(
            "token is {} bytes, longer than the {MAX_TOKEN_LEN}-byte limit",
            token.len()
        )));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdentityError::Malformed(
            "expected three dot-separated parts".to_owned(),
        ));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(IdentityError::Malformed(
            "empty header or payload part".to_owned(),
        ));
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];
    Ok(TokenParts {
        header,
        payload,
        signature,
        signing_input,
    })
}

fn decode_json_object(part: &str, what: &str) -> Result<Map<String, Value>, IdentityError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| IdentityError::Malformed(format!("{what} is not base64url: {e}")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(IdentityError::Malformed(format!(
            "{what} is not a JSON object"
        ))),
        Err(e) => Err(IdentityError::Malformed(format!("{what} is not JSON: {e}"))),
    }
}

fn require_rs256(header: &Map<String, Value>) -> Result<(), IdentityError> {
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "RS256" => {}
        Some(Value::String(alg)) => {
            return Err(IdentityError::UnsupportedAlgorithm { alg: alg.clone() });
        }
        Some(other) => {
            return Err(IdentityError::UnsupportedAlgorithm {
                alg: other.to_string(),
            });
        }
        None => return Err(IdentityError::Malformed("header has no alg".to_owned())),
    }
    if header.contains_key("crit") {
        return Err(IdentityError::Malformed(
            "header lists critical extensions (crit), which Google tokens never use".to_owned(),
        ));
    }
    Ok(())
}

fn header_kid(header: &Map<String, Value>) -> Result<Option<String>, IdentityError> {
    match header.get("kid") {
        None => Ok(None),
        Some(Value::String(kid)) if !kid.is_empty() => Ok(Some(kid.clone())),
        Some(_) => Err(IdentityError::Malformed(
            "header kid is not a non-empty string".to_owned(),
        )),
    }
}

/// The RSA verification key of `jwk`, refusing keys declared for another algorithm or use.
fn rs256_key(kid: &str, jwk: &Jwk) -> Result<DecodingKey, IdentityError> {
    let unusable = |reason: String| IdentityError::KeyUnusable {
        kid: kid.to_owned(),
        reason,
    };
    if let Some(alg) = jwk.common.key_algorithm
        && alg != KeyAlgorithm::RS256
    {
        return Err(unusable(format!("the key set declares it for {alg:?}")));
    }
    if let Some(usage) = &jwk.common.public_key_use
        && *usage != PublicKeyUse::Signature
    {
        return Err(unusable(format!(
            "the key set declares its use as {usage:?}"
        )));
    }
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        return Err(unusable("it is not an RSA key".to_owned()));
    };
    DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
        .map_err(|e| unusable(format!("its modulus or exponent does not decode: {e}")))
}

fn verify_signature(
    parts: &TokenParts<'_>,
    key: &DecodingKey,
    kid: &str,
) -> Result<(), IdentityError> {
    let bad = || IdentityError::BadSignature {
        kid: kid.to_owned(),
    };
    if parts.signature.is_empty() {
        return Err(bad());
    }
    match jsonwebtoken::crypto::verify(
        parts.signature,
        parts.signing_input.as_bytes(),
        key,
        Algorithm::RS256,
    ) {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(bad()),
    }
}

fn registered_claims(
    payload: &Map<String, Value>,
    expected: &IdentityExpectations,
    now: DateTime<Utc>,
) -> Result<IdentityClaims, IdentityError> {
    let now_secs = now.timestamp();
    let skew = i64::try_from(expected.clock_skew_secs).unwrap_or(i64::MAX);

    let iss = required_string(payload, "iss")?;
    if !GOOGLE_ISSUERS.contains(&iss.as_str()) {
        return Err(IdentityError::WrongIssuer { iss });
    }
    let aud = match payload.get("aud") {
        None => return Err(missing("aud")),
        Some(Value::String(aud)) => aud.clone(),
        Some(other) => {
            return Err(IdentityError::WrongAudience {
                actual: other.to_string(),
                expected: expected.audience.clone(),
            });
        }
    };
    if aud != expected.audience {
        return Err(IdentityError::WrongAudience {
            actual: aud,
            expected: expected.audience.clone(),
        });
    }
    let exp = required_int(payload, "exp")?;
    if exp.saturating_add(skew) <= now_secs {
        return Err(IdentityError::Expired { exp, now: now_secs });
    }
    if let Some(nbf) = optional_int(payload, "nbf")?
        && nbf > now_secs.saturating_add(skew)
    {
        return Err(IdentityError::NotYetValid { nbf, now: now_secs });
    }
    let sub = required_string(payload, "sub")?;
    let iat = required_int(payload, "iat")?;
    let compute_engine = compute_engine_claims(payload)?;
    Ok(IdentityClaims {
        iss,
        aud,
        sub,
        azp: optional_string(payload, "azp")?,
        email: optional_string(payload, "email")?,
        email_verified: match payload.get("email_verified") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(wrong_type("email_verified", "a boolean")),
        },
        iat,
        exp,
        compute_engine,
    })
}

fn compute_engine_claims(
    payload: &Map<String, Value>,
) -> Result<ComputeEngineClaims, IdentityError> {
    let Some(gce) = payload.get("google").and_then(|g| g.get("compute_engine")) else {
        return Err(IdentityError::MissingComputeEngineClaims(
            "no google.compute_engine object".to_owned(),
        ));
    };
    let claims: ComputeEngineClaims = serde_json::from_value(gce.clone())
        .map_err(|e| IdentityError::MissingComputeEngineClaims(e.to_string()))?;
    for (name, value) in [
        ("instance_id", &claims.instance_id),
        ("instance_name", &claims.instance_name),
        ("project_id", &claims.project_id),
        ("zone", &claims.zone),
    ] {
        if value.is_empty() {
            return Err(IdentityError::MissingComputeEngineClaims(format!(
                "{name} is empty"
            )));
        }
    }
    Ok(claims)
}

fn check_freshness(
    iat: i64,
    expected: &IdentityExpectations,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let now_secs = now.timestamp();
    let skew = i64::try_from(expected.clock_skew_secs).unwrap_or(i64::MAX);
    let window = i64::try_from(expected.iat_window_secs).unwrap_or(i64::MAX);
    let age = now_secs.saturating_sub(iat);
    if age < -skew {
        return Err(IdentityError::IssuedInFuture {
            iat,
            ahead_secs: -age,
            skew_secs: expected.clock_skew_secs,
        });
    }
    if age > window {
        return Err(IdentityError::IssuedTooLongAgo {
            iat,
            age_secs: age,
            window_secs: expected.iat_window_secs,
        });
    }
    if let Some(challenge) = expected.challenge_issued_at {
        // `iat` has whole seconds; allow the skew since Google's clock is not ours.
        let challenge_secs = challenge.timestamp();
        if iat.saturating_add(skew) < challenge_secs {
            return Err(IdentityError::IssuedBeforeChallenge {
                iat,
                challenge: challenge_secs,
            });
        }
    }
    Ok(())
}

/// Google's identity tokens live exactly one hour: `exp` further from `iat` is not Google's token
/// (or Google changed the rule, which deserves a look before anything is released).
fn check_lifetime(iat: i64, exp: i64) -> Result<(), IdentityError> {
    let lifetime = exp.saturating_sub(iat);
    if lifetime > MAX_TOKEN_LIFETIME_SECS {
        return Err(IdentityError::LifetimeTooLong {
            iat,
            exp,
            lifetime_secs: lifetime,
            max_secs: MAX_TOKEN_LIFETIME_SECS,
        });
    }
    Ok(())
}

fn missing(claim: &str) -> IdentityError {
    IdentityError::MissingClaim {
        claim: claim.to_owned(),
    }
}

fn wrong_type(claim: &str, expected: &str) -> IdentityError {
    IdentityError::Malformed(format!("claim {claim} is not {expected}"))
}

fn required_string(payload: &Map<String, Value>, claim: &str) -> Result<String, IdentityError> {
    optional_string(payload, claim)?.ok_or_else(|| missing(claim))
}

fn optional_string(
    payload: &Map<String, Value>,
    claim: &str,
) -> Result<Option<String>, IdentityError> {
    match payload.get(claim) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(claim, "a string")),
    }
}

fn required_int(payload: &Map<String, Value>, claim: &str) -> Result<i64, IdentityError> {
    optional_int(payload, claim)?.ok_or_else(|| missing(claim))
}

fn optional_int(payload: &Map<String, Value>, claim: &str) -> Result<Option<i64>, IdentityError> {
    match payload.get(claim) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(claim, "an integer (seconds)")),
        Some(_) => Err(wrong_type(claim, "a number")),
    }
}
