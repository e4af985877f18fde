//! Why an identity token did not verify. Each failure is its own variant, and
//! [`IdentityError::check_name`] names the policy check it fails. No variant carries the token itself.

use serde::{Deserialize, Serialize};

use crate::checks;

/// A failed identity-token verification. Clone + Serialize because it is stored in `Evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum IdentityError {
    /// Not three base64url parts, bad JSON, or claims of the wrong type.
    #[error(
        "identity token is malformed: {0}; send the raw JWT from the metadata server's identity endpoint"
    )]
    Malformed(String),
    /// The header names an algorithm other than RS256 (`none`, `HS256`, `ES256`, ...).
    #[error(
        "identity token uses algorithm {alg:?}; only RS256 tokens signed by Google are accepted"
    )]
    UnsupportedAlgorithm { alg: String },
    /// The header has no string `kid`.
    #[error(
        "identity token header has no key id (kid); Google always sets one, so this token is not Google's"
    )]
    MissingKeyId,
    /// No key with this kid in the JWK set: refresh the JWKS once and retry before denying.
    #[error(
        "identity token is signed with key {kid:?}, which is not in Google's key set; refresh the key set, and if it is still absent the token is forged"
    )]
    UnknownKey { kid: String },
    /// The JWK set lists this kid more than once: which key would verify is ambiguous (an attacker
    /// key listed first would win), so the set is not used for it.
    #[error(
        "Google's key set lists key id {kid:?} more than once; a set with duplicate key ids is refused"
    )]
    AmbiguousKey { kid: String },
    /// The JWK with this kid cannot verify RS256 (not RSA, other `alg`, or `use` other than `sig`).
    #[error("key {kid:?} in the key set cannot verify RS256 tokens: {reason}")]
    KeyUnusable { kid: String, reason: String },
    /// The RS256 signature does not verify with the key named by kid.
    #[error(
        "identity token signature does not verify with Google's key {kid:?}; the token was forged or altered"
    )]
    BadSignature { kid: String },
    /// A registered claim the checks need (`iss`, `aud`, `sub`, `exp`, `iat`) is absent.
    #[error("identity token has no {claim:?} claim; Google identity tokens always carry it")]
    MissingClaim { claim: String },
    #[error("identity token issuer is {iss:?}; expected https://accounts.google.com")]
    WrongIssuer { iss: String },
    #[error(
        "identity token audience is {actual:?}, expected {expected:?}; the client must request a token for this server's audience"
    )]
    WrongAudience { actual: String, expected: String },
    #[error(
        "identity token expired at {exp} (now {now}); fetch a fresh token from the metadata server"
    )]
    Expired { exp: i64, now: i64 },
    #[error("identity token is not valid before {nbf} (now {now})")]
    NotYetValid { nbf: i64, now: i64 },
    /// `google.compute_engine` (or one of its fields) is absent: the token was not requested with
    /// `format=full`, or was not issued to a Compute Engine VM.
    #[error(
        "identity token lacks Compute Engine claims ({0}); request it with format=full from a GCE VM"
    )]
    MissingComputeEngineClaims(String),
    #[error(
        "identity token was issued {age_secs} s ago, more than the allowed {window_secs} s; fetch a fresh token for each call"
    )]
    IssuedTooLongAgo {
        iat: i64,
        age_secs: i64,
        window_secs: u64,
    },
    #[error(
        "identity token claims to be issued at {iat}, {ahead_secs} s in the future (allowed skew {skew_secs} s); check the server clock"
    )]
    IssuedInFuture {
        iat: i64,
        ahead_secs: i64,
        skew_secs: u64,
    },
    /// `exp - iat` is longer than Google's one hour.
    #[error(
        "identity token is valid for {lifetime_secs} s (iat {iat}, exp {exp}), longer than the {max_secs} s Google issues; it was not minted by Google's metadata server"
    )]
    LifetimeTooLong {
        iat: i64,
        exp: i64,
        lifetime_secs: i64,
        max_secs: i64,
    },
    #[error(
        "identity token was issued at {iat}, before this session's challenge at {challenge}; fetch a new token after BeginSession"
    )]
    IssuedBeforeChallenge { iat: i64, challenge: i64 },
}

impl IdentityError {
    /// The policy check this failure fails: one of `identity.signature`, `identity.claims`,
    /// `identity.fresh`.
    pub fn check_name(&self) -> &'static str {
        match self {
            Self::Malformed(_)
            | Self::UnsupportedAlgorithm { .. }
            | Self::MissingKeyId
            | Self::UnknownKey { .. }
            | Self::AmbiguousKey { .. }
            | Self::KeyUnusable { .. }
            | Self::BadSignature { .. } => checks::IDENTITY_SIGNATURE,
            Self::MissingClaim { .. }
            | Self::WrongIssuer { .. }
            | Self::WrongAudience { .. }
            | Self::Expired { .. }
            | Self::NotYetValid { .. }
            | Self::MissingComputeEngineClaims(_) => checks::IDENTITY_CLAIMS,
            Self::IssuedTooLongAgo { .. }
            | Self::IssuedInFuture { .. }
            | Self::LifetimeTooLong { .. }
            | Self::IssuedBeforeChallenge { .. } => checks::IDENTITY_FRESH,
        }
    }

    /// True when the caller should refresh the JWKS once and verify again.
    pub fn is_unknown_key(&self) -> bool {
        matches!(self, Self::UnknownKey { .. })
    }
}
