//! Credentials for the Google REST calls made without a client library (the audit watch's Pub/Sub
//! pulls): the `Authorization` header of Application Default Credentials, or none at all (gcpsim,
//! the emulators). The same `gcp.credentials` setting decides it as for Compute and Logging.

use google_cloud_auth::credentials::{CacheableResource, Credentials};
use reqwest::header::HeaderMap;

use crate::config::{CredentialsMode, GcpConfig};

/// Why credentials could not be built or could not give a header (operator text, never a token).
#[derive(Debug, thiserror::Error)]
pub enum RequestAuthError {
    #[error(
        "could not load Application Default Credentials ({0}); set GOOGLE_APPLICATION_CREDENTIALS, run on GCE, or set gcp.credentials = \"anonymous\" for gcpsim and the emulators"
    )]
    Build(String),
    #[error("could not obtain an access token ({0}); check Application Default Credentials")]
    Token(String),
}

/// What a REST call presents: ADC's headers, or nothing. Cheap to clone; ADC caches its token.
#[derive(Debug, Clone)]
pub struct RequestAuth {
    credentials: Option<Credentials>,
}

impl RequestAuth {
    /// No credentials (gcpsim, the Pub/Sub emulator).
    pub fn anonymous() -> Self {
        RequestAuth { credentials: None }
    }

    /// Presents these credentials.
    pub fn with_credentials(credentials: Credentials) -> Self {
        RequestAuth {
            credentials: Some(credentials),
        }
    }

    /// As `config.credentials` says: ADC (loaded now, so a missing file is a start-up error) or
    /// anonymous.
    pub fn from_config(config: &GcpConfig) -> Result<Self, RequestAuthError> {
        match config.credentials {
            CredentialsMode::Anonymous => Ok(Self::anonymous()),
            CredentialsMode::Adc => google_cloud_auth::credentials::Builder::default()
                .build()
                .map(Self::with_credentials)
                .map_err(|e| RequestAuthError::Build(e.to_string())),
        }
    }

    /// Whether a call carries credentials.
    pub fn is_anonymous(&self) -> bool {
        self.credentials.is_none()
    }

    /// The headers to add to a request (empty when anonymous).
    pub async fn headers(&self) -> Result<HeaderMap, RequestAuthError> {
        let Some(credentials) = &self.credentials else {
            return Ok(HeaderMap::new());
        };
        match credentials.headers(Default::default()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            // Only answered to a caller that sent an entity tag; this one sends none.
            Ok(CacheableResource::NotModified) => Err(RequestAuthError::Token(
                "the credentials answered 'not modified' to a first request".into(),
            )),
            Err(error) => Err(RequestAuthError::Token(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn anonymous_adds_no_header() {
        let headers = RequestAuth::anonymous().headers().await.unwrap();
        assert!(headers.is_empty());
        let config = GcpConfig {
            credentials: CredentialsMode::Anonymous,
            ..GcpConfig::default()
        };
        assert!(RequestAuth::from_config(&config).unwrap().is_anonymous());
    }

    #[tokio::test]
    async fn a_service_account_key_gives_a_bearer_header() {
        // A service-account key signs its own JWT: no token endpoint is called.
        let key = tokendist_testkit::service_account::key_json();
        let credentials = google_cloud_auth::credentials::service_account::Builder::new(key)
            .build()
            .unwrap();
        let auth = RequestAuth::with_credentials(credentials);
        let headers = auth.headers().await.unwrap();
        let value = headers
            .get(reqwest::header::AUTHORIZATION)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(value.starts_with("Bearer ey"), "{value}");
    }
}
