//! `MetadataClient`: the GCE metadata server as seen from inside the VM (`Metadata-Flavor: Google`):
//! identity tokens for an audience (`format=full`), and the instance's id, name, zone and project.

use std::fmt;
use std::time::Duration;

use crate::config::GcpConfig;
use crate::metadata_http::{self, ExchangeError, MetadataEndpoint, encode_query_component};

/// Why a metadata-server request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error(
        "the metadata server at {url} is unreachable: {reason}; run on a GCE VM or set GCE_METADATA_HOST"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the metadata server refused {path} (HTTP 403); the request must carry Metadata-Flavor: Google and no X-Forwarded-For"
    )]
    Forbidden { path: String },
    #[error(
        "the metadata server has no {path} (HTTP 404); is this a GCE VM with a service account attached?"
    )]
    NotFound { path: String },
    #[error("the metadata server answered {path} with HTTP {status}; retry later")]
    Status { path: String, status: u16 },
    #[error("the metadata server's answer to {path} is not usable: {reason}")]
    Garbage { path: String, reason: String },
    #[error("the metadata server address is not usable: {0}")]
    Client(String),
}

/// An instance identity token (a bearer credential): its Debug output never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityToken(String);

impl IdentityToken {
    /// The raw JWT, for an `authorization: Bearer` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityToken(<{} bytes redacted>)", self.0.len())
    }
}

/// A client of one metadata server.
#[derive(Debug, Clone)]
pub struct MetadataClient {
    endpoint: MetadataEndpoint,
    timeout: Duration,
}

impl MetadataClient {
    /// A client of `config.metadata_host` (apply `GcpConfig::with_env` first to honour
    /// `GCE_METADATA_HOST`).
    pub fn new(config: &GcpConfig) -> Result<Self, MetadataError> {
        let endpoint =
            MetadataEndpoint::parse(&config.metadata_host).map_err(MetadataError::Client)?;
        Ok(Self {
            endpoint,
            timeout: config.request_timeout(),
        })
    }

    /// A fresh `format=full` identity token for `audience` (with licence codes when `licenses`).
    pub async fn identity_token(
        &self,
        audience: &str,
        licenses: bool,
    ) -> Result<IdentityToken, MetadataError> {
        let path = "instance/service-accounts/default/identity";
        let mut query = vec![("audience", audience), ("format", "full")];
        if licenses {
            query.push(("licenses", "TRUE"));
        }
        let body = self.get(path, &query).await?;
        let token = body.trim();
        let looks_like_jwt = token.split('.').count() == 3
            && token.split('.').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !looks_like_jwt {
            return Err(garbage(path, "not a JWT (expected three base64url parts)"));
        }
        Ok(IdentityToken(token.to_owned()))
    }

    /// The numeric instance id, as a decimal string (ids exceed 2^53).
    pub async fn instance_id(&self) -> Result<String, MetadataError> {
        let path = "instance/id";
        let body = self.get(path, &[]).await?;
        let id = body.trim();
        id.parse::<u64>()
            .map_err(|_| garbage(path, format!("{id:?} is not a numeric instance id")))?;
        Ok(id.to_owned())
    }

    /// The short zone name (`us-central1-a`) from `projects/NUMBER/zones/ZONE`.
    pub async fn zone(&self) -> Result<String, MetadataError> {
        let path = "instance/zone";
        let body = self.get(path, &[]).await?;
        zone_from_path(body.trim()).ok_or_else(|| {
            garbage(
                path,
                format!("{:?} is not projects/N/zones/ZONE", body.trim()),
            )
        })
    }

    /// The project id (not number).
    pub async fn project_id(&self) -> Result<String, MetadataError> {
        self.non_empty("project/project-id").await
    }

    /// The instance name.
    pub async fn instance_name(&self) -> Result<String, MetadataError> {
        self.non_empty("instance/name").await
    }

    async fn non_empty(&self, path: &str) -> Result<String, MetadataError> {
        let body = self.get(path, &[]).await?;
        let value = body.trim();
        if value.is_empty() || value.contains(['\n', '<']) {
            return Err(garbage(path, "empty or not a plain value"));
        }
        Ok(value.to_owned())
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<String, MetadataError> {
        let mut path_and_query = format!("/computeMetadata/v1/{path}");
        for (index, (key, value)) in query.iter().enumerate() {
            path_and_query.push(if index == 0 { '?' } else { '&' });
            path_and_query.push_str(&encode_query_component(key));
            path_and_query.push('=');
            path_and_query.push_str(&encode_query_component(value));
        }
        let answer = metadata_http::get(&self.endpoint, &path_and_query, self.timeout)
            .await
            .map_err(|error| match error {
                ExchangeError::Unreachable(reason) => MetadataError::Unreachable {
                    url: self.endpoint.url(&format!("/computeMetadata/v1/{path}")),
                    reason,
                },
                ExchangeError::Body(reason) => {
                    garbage(path, format!("reading the body failed: {reason}"))
                }
            })?;
        match answer.status {
            200 => {}
            403 => {
                return Err(MetadataError::Forbidden {
                    path: path.to_owned(),
                });
            }
            404 => {
                return Err(MetadataError::NotFound {
                    path: path.to_owned(),
                });
            }
            status => {
                return Err(MetadataError::Status {
                    path: path.to_owned(),
                    status,
                });
            }
        }
        if let Some(flavor) = &answer.flavor
            && flavor.as_slice() != b"Google"
        {
            return Err(garbage(
                path,
                "the response's Metadata-Flavor header is not Google (a proxy answered?)",
            ));
        }
        String::from_utf8(answer.body.to_vec()).map_err(|_| garbage(path, "the body is not UTF-8"))
    }
}

fn garbage(path: &str, reason: impl Into<String>) -> MetadataError {
    MetadataError::Garbage {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// `ZONE` from `projects/NUMBER/zones/ZONE`.
pub fn zone_from_path(path: &str) -> Option<String> {
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["projects", project, "zones", zone] if !project.is_empty() && !zone.is_empty() => {
            Some((*zone).to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_is_the_last_segment_of_the_numeric_project_path() {
        assert_eq!(
            zone_from_path("projects/634665912513/zones/us-central1-a").as_deref(),
            Some("us-central1-a")
        );
        assert_eq!(zone_from_path("us-central1-a"), None);
        assert_eq!(zone_from_path("projects/1/zones/"), None);
    }

    #[test]
    fn identity_token_debug_never_shows_the_token() {
        let token = IdentityToken("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln".to_owned());
        let debug = format!("{token:?}");
        assert!(!debug.contains("eyJ"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn metadata_host_with_or_without_scheme_names_the_v1_path() {
        let mut config = GcpConfig {
            metadata_host: "127.0.0.1:9".to_owned(),
            ..GcpConfig::default()
        };
        let url = |config: &GcpConfig| {
            MetadataClient::new(config)
                .unwrap()
                .endpoint
                .url("/computeMetadata/v1")
        };
        assert_eq!(url(&config), "http://127.0.0.1:9/computeMetadata/v1");
        config.metadata_host = "http://10.0.0.1/".to_owned();
        assert_eq!(url(&config), "http://10.0.0.1:80/computeMetadata/v1");
        config.metadata_host = "https://10.0.0.1".to_owned();
        assert!(matches!(
            MetadataClient::new(&config),
            Err(MetadataError::Client(reason)) if reason.contains("plain HTTP")
        ));
    }
}
