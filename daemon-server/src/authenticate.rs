//! Who is calling: the `authorization: Bearer <identity token>` metadata, verified against Google's
//! JWK set (refreshed on an unknown key id) with `core::identity`. A missing or invalid token is
//! UNAUTHENTICATED with the failed `identity.*` check; an unreachable key set is UNAVAILABLE.
//!
//! Tokens are single use (DESIGN §4): [`TokenScope::OpenSession`] (`BeginSession`) accepts only the
//! plain server audience; [`TokenScope::Session`] (every later step) accepts only
//! `core::identity::session_audience(audience, nonce)` of the session the request names, issued
//! after that session's challenge. A token for one is refused (`identity.claims`) by the other.

use chrono::{DateTime, Utc};
use tokendist_core::checks;
use tokendist_core::identity::{IdentityClaims, session_audience};
use tokendist_core::verdict::CheckResult;
use tokendist_gcp::jwks::TokenVerifyError;

use crate::state::ServerState;
use crate::status::ServiceError;

/// Longest bearer token accepted (Google's identity tokens are about 1 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;

fn refused(reason: &str) -> ServiceError {
    ServiceError::Unauthenticated {
        check: CheckResult::fail(checks::IDENTITY_SIGNATURE, reason),
    }
}

/// The bearer token of a request.
pub fn bearer_token(metadata: &tonic::metadata::MetadataMap) -> Result<String, ServiceError> {
    let value = metadata.get("authorization").ok_or_else(|| {
        refused("no authorization metadata; send `authorization: Bearer <identity token>`")
    })?;
    let text = value
        .to_str()
        .map_err(|_| refused("authorization metadata is not ASCII"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(|| refused("authorization metadata is not a Bearer token"))?
        .trim();
    if token.is_empty() {
        return Err(refused("empty bearer token"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(refused("bearer token too long"));
    }
    Ok(token.to_string())
}

/// Which audience a request's token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    /// `BeginSession`: the plain server audience.
    OpenSession,
    /// A step of the session with this nonce, issued at `challenge`: the session's audience, and no
    /// token older than the challenge.
    Session {
        nonce: Vec<u8>,
        challenge: DateTime<Utc>,
    },
}

/// Verifies the caller's identity token for `scope`.
pub async fn authenticate(
    state: &ServerState,
    metadata: &tonic::metadata::MetadataMap,
    scope: &TokenScope,
) -> Result<IdentityClaims, ServiceError> {
    let token = bearer_token(metadata)?;
    let live = state.live();
    let expectations = match scope {
        TokenScope::OpenSession => live.policy.identity_expectations(None),
        TokenScope::Session { nonce, challenge } => {
            let mut expectations = live.policy.identity_expectations(Some(*challenge));
            expectations.audience = session_audience(&expectations.audience, nonce);
            expectations
        }
    };
    match state
        .jwks
        .verify_identity_token(&token, &expectations, state.now())
        .await
    {
        Ok(claims) => Ok(claims),
        Err(TokenVerifyError::Identity(error)) => Err(ServiceError::Unauthenticated {
            check: CheckResult::fail(error.check_name(), error.to_string()),
        }),
        Err(TokenVerifyError::KeysUnavailable(error)) => {
            state.metrics.observe_dependency_error("jwks");
            tracing::warn!(
                error = %tokendist_core::terminal_text::printable_line(&error.to_string()),
                "Google's token signing keys are unavailable"
            );
            Err(ServiceError::Unavailable(
                "cannot verify identity tokens right now (Google's signing keys are unavailable); retry"
                    .into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(value: &str) -> tonic::metadata::MetadataMap {
        let mut map = tonic::metadata::MetadataMap::new();
        map.insert("authorization", value.parse().unwrap());
        map
    }

    #[test]
    fn bearer_token_is_extracted_and_malformed_headers_are_refused() {
        assert_eq!(
            bearer_token(&metadata("Bearer abc.def.ghi")).unwrap(),
            "abc.def.ghi"
        );
        for bad in ["Basic abc", "Bearer ", "abc"] {
            let err = bearer_token(&metadata(bad)).unwrap_err();
            assert!(
                matches!(&err, ServiceError::Unauthenticated { check } if check.name == checks::IDENTITY_SIGNATURE),
                "{bad}: {err}"
            );
        }
        assert!(bearer_token(&tonic::metadata::MetadataMap::new()).is_err());
    }
}
