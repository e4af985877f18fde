//! Google instance identity tokens (`format=full`): claims and their verification. (Verification
//! logic: see `verify`.)

use serde::{Deserialize, Serialize};

/// `google.compute_engine` claims of a `format=full` identity token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeEngineClaims {
    pub instance_id: String,
    pub instance_name: String,
    pub project_id: String,
    pub project_number: u64,
    pub zone: String,
    pub instance_creation_timestamp: i64,
    #[serde(default)]
    pub instance_confidentiality: Option<u8>,
    #[serde(default)]
    pub license_id: Vec<String>,
}

/// The verified claims of an identity token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub azp: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub iat: i64,
    pub exp: i64,
    pub compute_engine: ComputeEngineClaims,
}

/// Why a token did not verify. Each failure is distinct; `check()` names the policy check it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum IdentityError {
    #[error("identity token is malformed: {0}")]
    Malformed(String),
}
