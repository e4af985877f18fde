//! `MetadataClient`: the GCE metadata server as seen from inside the VM (`Metadata-Flavor: Google`):
//! identity tokens for an audience (`format=full`), and the instance's id, name, zone and project.

use std::fmt;

use reqwest::StatusCode;

use crate::config::GcpConfig;

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
    #[error("could not build the HTTP client: {0}")]
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
    http: reqwest::Client,
    base: String,
}

impl MetadataClient {
    /// A client of `config.metadata_host` (apply `GcpConfig::with_env` first to honour
    /// `GCE_METADATA_HOST`).
    pub fn new(config: &GcpConfig) -> Result<Self, MetadataError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout())
            .build()
            .map_err(|e| MetadataError::Client(e.to_string()))?;
        let host = config.metadata_host.trim_end_matches('/');
        let base = if host.starts_with("http://") || host.starts_with("https://") {
            format!("{host}/computeMetadata/v1")
        } else {
            format!("http://{host}/computeMetadata/v1")
        };
        Ok(Self { http, base })
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
        let url = format!("{}/{path}", self.base);
        let mut parsed = reqwest::Url::parse(&url).map_err(|e| MetadataError::Unreachable {
            url: url.clone(),
            reason: format!("invalid URL: {e}"),
        })?;
        if !query.is_empty() {
            parsed.query_pairs_mut().extend_pairs(query);
        }
        let response = self
            .http
            .get(parsed)
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .map_err(|e| MetadataError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::FORBIDDEN => {
                return Err(MetadataError::Forbidden {
                    path: path.to_owned(),
                });
            }
            StatusCode::NOT_FOUND => {
                return Err(MetadataError::NotFound {
                    path: path.to_owned(),
                });
            }
            other => {
                return Err(MetadataError::Status {
                    path: path.to_owned(),
                    status: other.as_u16(),
                });
            }
        }
        if let Some(flavor) = response.headers().get("metadata-flavor")
            && flavor.as_bytes() != b"Google"
        {
            return Err(garbage(
                path,
                "the response's Metadata-Flavor header is not Google (a proxy answered?)",
            ));
        }
        response
            .text()
            .await
            .map_err(|e| garbage(path, format!("reading the body failed: {e}")))
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
    fn metadata_host_with_or_without_scheme_builds_the_v1_base() {
        let mut config = GcpConfig {
            metadata_host: "127.0.0.1:9".to_owned(),
            ..GcpConfig::default()
        };
        assert_eq!(
            MetadataClient::new(&config).unwrap().base,
            "http://127.0.0.1:9/computeMetadata/v1"
        );
        config.metadata_host = "http://10.0.0.1/".to_owned();
        assert_eq!(
            MetadataClient::new(&config).unwrap().base,
            "http://10.0.0.1/computeMetadata/v1"
        );
    }
}
