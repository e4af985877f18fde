//! A Google service-account key file's JSON for tests of Application Default Credentials: the
//! credentials sign their own JWT with its private key (one of [`crate::soft_tpm`]'s fixed RSA keys),
//! so a bearer header is produced without any token endpoint.

/// The key file's contents (`type: service_account`).
pub fn key_json() -> serde_json::Value {
    serde_json::json!({
        "type": "service_account",
        "project_id": "alice-project",
        "private_key_id": "k1",
        "private_key": crate::soft_tpm::OTHER_PRIVATE_PEM,
        "client_email": "tokenserver@alice-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",
    })
}
