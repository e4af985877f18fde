//! Google instance identity tokens (`format=full`): claims, verification errors, and the verifier
//! (in [`verify`](mod@verify)), and the audience of a session's single-use tokens
//! ([`session_audience`](mod@session_audience)).

mod error;
pub mod session_audience;
pub mod verify;

use serde::{Deserialize, Serialize};

pub use error::IdentityError;
pub use session_audience::session_audience;
pub use verify::{IdentityExpectations, peek_unverified_kid, verify};

/// `google.compute_engine` claims of a `format=full` identity token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeEngineClaims {
    pub instance_id: String,
    pub instance_name: String,
    pub project_id: String,
    pub project_number: u64,
    pub zone: String,
    pub instance_creation_timestamp: i64,
    /// 1 = AMD SEV (Confidential VM); absent on ordinary VMs.
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
