//! Identity tokens: a fresh `format=full` token from the metadata server for every RPC (the server
//! accepts only recently issued tokens), attached as `authorization: Bearer`. Tokens are single use
//! (DESIGN §4): `BeginSession` gets one for the plain audience ([`TokenSource::authorized`]), every
//! later step one for the session's audience, `<audience>/session/<hex nonce>`
//! ([`TokenSource::authorized_in_session`]), which the server accepts for that session only.

use tokendist_core::identity::session_audience;
use tokendist_gcp::{GcpConfig, MetadataClient, MetadataError};
use tonic::Request;
use tonic::metadata::MetadataValue;

/// Fetches identity tokens for one audience.
#[derive(Debug, Clone)]
pub struct TokenSource {
    metadata: MetadataClient,
    audience: String,
}

impl TokenSource {
    pub fn new(metadata_host: &str, audience: &str) -> Result<TokenSource, MetadataError> {
        let config = GcpConfig {
            metadata_host: metadata_host.to_string(),
            ..GcpConfig::default()
        };
        Ok(TokenSource {
            metadata: MetadataClient::new(&config)?,
            audience: audience.to_string(),
        })
    }

    /// The metadata client (instance id, zone, ...).
    pub fn metadata(&self) -> &MetadataClient {
        &self.metadata
    }

    /// `message` with a freshly fetched bearer token for the plain audience (`BeginSession` only).
    pub async fn authorized<T>(&self, message: T) -> Result<Request<T>, MetadataError> {
        self.authorized_for(&self.audience, message).await
    }

    /// `message` with a freshly fetched bearer token for the audience of the session with `nonce`.
    pub async fn authorized_in_session<T>(
        &self,
        nonce: &[u8],
        message: T,
    ) -> Result<Request<T>, MetadataError> {
        self.authorized_for(&session_audience(&self.audience, nonce), message)
            .await
    }

    async fn authorized_for<T>(
        &self,
        audience: &str,
        message: T,
    ) -> Result<Request<T>, MetadataError> {
        let token = self.metadata.identity_token(audience, false).await?;
        let mut request = Request::new(message);
        let value =
            MetadataValue::try_from(format!("Bearer {}", token.as_str())).map_err(|_| {
                MetadataError::Garbage {
                    path: "instance/service-accounts/default/identity".into(),
                    reason: "the token is not a valid header value".into(),
                }
            })?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}
