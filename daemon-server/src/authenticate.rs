//! Who is calling: the `authorization: Bearer <identity token>` metadata, verified against Google's
//! JWK set (refreshed on an unknown key id) with `core::identity`. A missing or invalid token is
//! UNAUTHENTICATED with the failed `identity.*` check; an unreachable key set is UNAVAILABLE.
//!
//! Tokens are single use (DESIGN §4): [`TokenScope::OpenSession`] (`BeginSession`) accepts only the
//! plain server audience; [`TokenScope::Session`] (every later step) accepts only
//! `core::identity::session_audience(audience, nonce)` of the session the request names, issued
//! after that session's challenge. A token for one is refused (`identity.claims`) by the other.
//!
//! A session step verifies the token before the store is read ([`authenticate_step`]): first for
//! [`TokenScope::AnyStep`] (signature, issuer, freshness, and an audience that is the server's or
//! one of its session audiences), then, with the session read, for that session. So a caller without
//! a valid token learns nothing about which sessions exist.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use tokendist_core::checks;
use tokendist_core::identity::{IdentityClaims, session_audience};
use tokendist_core::verdict::CheckResult;
use tokendist_gcp::jwks::TokenVerifyError;

use crate::sessions::{self, RequestedSession};
use crate::state::ServerState;
use crate::status::{Dependency, ServiceError};

/// Longest bearer token accepted (Google's identity tokens are about 1 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;

fn refused(check: &str, reason: &str) -> ServiceError {
    ServiceError::Unauthenticated {
        check: CheckResult::fail(check, reason),
    }
}

/// The bearer token of a request: no `authorization` metadata (or an empty token) fails
/// `identity.token_missing`, another scheme `identity.token_not_bearer`, a token longer than any
/// Google identity token `identity.signature` (it cannot verify).
pub fn bearer_token(metadata: &tonic::metadata::MetadataMap) -> Result<String, ServiceError> {
    let value = metadata.get("authorization").ok_or_else(|| {
        refused(
            checks::IDENTITY_TOKEN_MISSING,
            "no authorization metadata; send `authorization: Bearer <identity token>`",
        )
    })?;
    let not_bearer = || {
        refused(
            checks::IDENTITY_TOKEN_NOT_BEARER,
            "authorization metadata is not a Bearer token",
        )
    };
    let text = value.to_str().map_err(|_| not_bearer())?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(not_bearer)?
        .trim();
    if token.is_empty() {
        return Err(refused(
            checks::IDENTITY_TOKEN_MISSING,
            "empty bearer token",
        ));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(refused(checks::IDENTITY_SIGNATURE, "bearer token too long"));
    }
    Ok(token.to_string())
}

/// Which audience a request's token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    /// `BeginSession`: the plain server audience.
    OpenSession,
    /// A session step before its session is read: the plain audience or any session audience under
    /// it (the session's own is checked next, with [`TokenScope::Session`]).
    AnyStep,
    /// A step of the session with this nonce, issued at `challenge`: the session's audience, and no
    /// token older than the challenge.
    Session {
        nonce: Vec<u8>,
        challenge: DateTime<Utc>,
    },
}

/// Verifies the token of a session step, then reads the session `session_id` names: the token's
/// checks that do not depend on the session come first, so an unknown session is told only to a
/// caller with a valid token. Returns the claims verified for the session's own audience.
pub async fn authenticate_step(
    state: &ServerState,
    token: &str,
    session_id: &str,
) -> Result<(IdentityClaims, RequestedSession), ServiceError> {
    let id = sessions::requested_id(session_id)?;
    authenticate(state, token, &TokenScope::AnyStep).await?;
    let session = RequestedSession::read(state, id).await?;
    let claims = authenticate(state, token, &session.token_scope()).await?;
    Ok((claims, session))
}

/// The `aud` claim of a token, read without verifying anything (the signature is verified next, for
/// exactly this audience when it is one the server accepts).
fn claimed_audience(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
    claims.get("aud")?.as_str().map(str::to_string)
}

/// Verifies the caller's identity token for `scope`.
pub async fn authenticate(
    state: &ServerState,
    token: &str,
    scope: &TokenScope,
) -> Result<IdentityClaims, ServiceError> {
    let live = state.live();
    let expectations = match scope {
        TokenScope::OpenSession => live.policy.identity_expectations(None),
        TokenScope::AnyStep => {
            let mut expectations = live.policy.identity_expectations(None);
            // `<audience>/session/`: what every session audience starts with.
            let steps = session_audience(&expectations.audience, &[]);
            if let Some(claimed) = claimed_audience(token).filter(|aud| aud.starts_with(&steps)) {
                expectations.audience = claimed;
            }
            expectations
        }
        TokenScope::Session { nonce, challenge } => {
            let mut expectations = live.policy.identity_expectations(Some(*challenge));
            expectations.audience = session_audience(&expectations.audience, nonce);
            expectations
        }
    };
    match state
        .jwks
        .verify_identity_token(token, &expectations, state.now())
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
            Err(ServiceError::Unavailable(Dependency::IdentityKeys))
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

    fn refused_check(result: Result<String, ServiceError>) -> String {
        match result {
            Err(ServiceError::Unauthenticated { check }) => check.name,
            other => panic!("expected UNAUTHENTICATED, got {other:?}"),
        }
    }

    #[test]
    fn bearer_token_is_extracted_and_malformed_headers_are_refused_by_name() {
        assert_eq!(
            bearer_token(&metadata("Bearer abc.def.ghi")).unwrap(),
            "abc.def.ghi"
        );
        let cases = [
            (
                "Basic YWxpY2U6aHVudGVyMg==",
                checks::IDENTITY_TOKEN_NOT_BEARER,
            ),
            ("abc", checks::IDENTITY_TOKEN_NOT_BEARER),
            ("Bearer", checks::IDENTITY_TOKEN_NOT_BEARER),
            ("Bearer ", checks::IDENTITY_TOKEN_MISSING),
            ("Bearer    ", checks::IDENTITY_TOKEN_MISSING),
        ];
        for (bad, check) in cases {
            assert_eq!(refused_check(bearer_token(&metadata(bad))), check, "{bad}");
        }
        assert_eq!(
            refused_check(bearer_token(&tonic::metadata::MetadataMap::new())),
            checks::IDENTITY_TOKEN_MISSING
        );
        let mut not_ascii = tonic::metadata::MetadataMap::new();
        not_ascii.insert(
            "authorization",
            tonic::metadata::MetadataValue::try_from("Bearer \u{e9}t\u{e9}".as_bytes()).unwrap(),
        );
        assert_eq!(
            refused_check(bearer_token(&not_ascii)),
            checks::IDENTITY_TOKEN_NOT_BEARER
        );
        let too_long = format!("Bearer {}", "A".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            refused_check(bearer_token(&metadata(&too_long))),
            checks::IDENTITY_SIGNATURE
        );
        for check in checks::CREDENTIAL_CHECKS {
            assert!(cases.iter().any(|(_, c)| *c == check), "{check} untested");
        }
    }

    #[test]
    fn the_claimed_audience_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"aud":"https://a/session/00ff","sub":"1"}"#);
        assert_eq!(
            claimed_audience(&format!("e30.{payload}.sig")).as_deref(),
            Some("https://a/session/00ff")
        );
        for garbage in ["", "abc", "e30.!!!.sig", "e30.e30.sig"] {
            assert_eq!(claimed_audience(garbage), None, "{garbage}");
        }
    }
}
