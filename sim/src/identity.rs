//! Instance identity token claims, shaped like Google's `format=standard|full` tokens.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::world::{ProjectState, VmState};

/// Token lifetime Google uses.
pub(crate) const TOKEN_LIFETIME_SECS: i64 = 3600;

/// What the caller asked for (`audience`, `format`, `licenses`) plus optional overrides for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityRequest {
    pub audience: String,
    /// `format=full`: email, email_verified and the `google.compute_engine` claim.
    pub full: bool,
    /// `licenses=TRUE` (only honoured with `full`).
    pub licenses: bool,
    /// Override `iat` (default: now).
    pub issued_at: Option<DateTime<Utc>>,
    /// Override `exp` (default: iat + 3600).
    pub expires_at: Option<DateTime<Utc>>,
}

/// The claims object; serialized with sorted keys like Google's compact payloads.
pub(crate) fn claims(
    vm: &VmState,
    project: &ProjectState,
    request: &IdentityRequest,
    now: DateTime<Utc>,
) -> Value {
    let s = &vm.spec;
    let iat = request.issued_at.unwrap_or(now);
    let exp = request
        .expires_at
        .unwrap_or(iat + chrono::Duration::seconds(TOKEN_LIFETIME_SECS));
    // Inserted in sorted order so the payload stays sorted even if serde_json preserves order.
    let mut claims = Map::new();
    claims.insert("aud".into(), json!(request.audience));
    claims.insert("azp".into(), json!(s.service_account_unique_id));
    if request.full {
        claims.insert("email".into(), json!(s.service_account));
        claims.insert("email_verified".into(), json!(true));
    }
    claims.insert("exp".into(), json!(exp.timestamp()));
    if request.full {
        let mut engine = Map::new();
        if s.confidential {
            engine.insert("instance_confidentiality".into(), json!(1));
        }
        engine.insert(
            "instance_creation_timestamp".into(),
            json!(s.created.timestamp()),
        );
        engine.insert("instance_id".into(), json!(s.id.to_string()));
        engine.insert("instance_name".into(), json!(s.name));
        if request.licenses {
            engine.insert("license_id".into(), json!(s.license_codes));
        }
        engine.insert("project_id".into(), json!(s.project));
        engine.insert("project_number".into(), json!(project.spec.number));
        engine.insert("zone".into(), json!(s.zone));
        claims.insert("google".into(), json!({ "compute_engine": engine }));
    }
    claims.insert("iat".into(), json!(iat.timestamp()));
    claims.insert("iss".into(), json!("https://accounts.google.com"));
    claims.insert("sub".into(), json!(s.service_account_unique_id));
    Value::Object(claims)
}
