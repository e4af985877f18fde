//! The connection to the token server: TLS (or mTLS) pinning the configured CA and server name,
//! a fresh connection per attempt, and the one distinction that matters to the retry loop: a server
//! certificate that does not verify is a configuration problem (fatal), anything else is retried.

use std::path::{Path, PathBuf};

use tokendist_proto::v1::token_service_client::TokenServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::config::ClientConfig;

/// A connected `TokenService` client.
pub type ServiceClient = TokenServiceClient<Channel>;

/// Why the TLS material could not be loaded (exit 78).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {path} holds no PEM {expected}; give a PEM file")]
    NotPem {
        what: &'static str,
        path: PathBuf,
        expected: &'static str,
    },
    #[error("invalid token server address {address:?}: {reason}")]
    Address { address: String, reason: String },
}

/// Why a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server's certificate does not verify against the pinned CA or name: fatal.
    #[error(
        "the token server's certificate does not verify ({detail}); check tls.ca (--tlsCertChain) is the CA \
         that issued it and server_name (--servername) is a name in it"
    )]
    Untrusted { detail: String },
    /// Anything else (refused, timeout, reset): retried.
    #[error("cannot reach the token server at {address}: {detail}")]
    Unreachable { address: String, detail: String },
}

fn read_pem(
    what: &'static str,
    path: &Path,
    expected: &'static str,
) -> Result<String, TlsSetupError> {
    let text = std::fs::read_to_string(path).map_err(|source| TlsSetupError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    let marker = match expected {
        "CERTIFICATE" => "-----BEGIN CERTIFICATE-----",
        _ => "PRIVATE KEY-----",
    };
    if !text.contains(marker) {
        return Err(TlsSetupError::NotPem {
            what,
            path: path.to_path_buf(),
            expected,
        });
    }
    Ok(text)
}

/// How to reach the server; built once at start, connected once per attempt.
#[derive(Debug, Clone)]
pub struct ServerEndpoint {
    endpoint: Endpoint,
    address: String,
}

impl ServerEndpoint {
    /// Loads the CA (and the client identity for mTLS) and prepares the endpoint.
    pub fn new(config: &ClientConfig) -> Result<ServerEndpoint, TlsSetupError> {
        let ca = read_pem("server CA (tls.ca)", &config.tls.ca, "CERTIFICATE")?;
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(ca))
            .domain_name(config.effective_server_name());
        if config.tls.mtls {
            let (Some(cert), Some(key)) = (&config.tls.client_cert, &config.tls.client_key) else {
                return Err(TlsSetupError::Address {
                    address: config.address.clone(),
                    reason: "mTLS needs tls.client_cert and tls.client_key".into(),
                });
            };
            let cert = read_pem("client certificate (tls.client_cert)", cert, "CERTIFICATE")?;
            let key = zeroize::Zeroizing::new(read_pem(
                "client key (tls.client_key)",
                key,
                "PRIVATE KEY",
            )?);
            tls = tls.identity(Identity::from_pem(cert, key.as_bytes()));
        }
        let address = config.address.trim().to_string();
        let address_error = |reason: String| TlsSetupError::Address {
            address: address.clone(),
            reason,
        };
        let endpoint = Endpoint::from_shared(format!("https://{address}"))
            .map_err(|e| address_error(e.to_string()))?
            .tls_config(tls)
            .map_err(|e| address_error(e.to_string()))?
            .connect_timeout(config.rpc_timeout())
            .timeout(config.rpc_timeout());
        Ok(ServerEndpoint { endpoint, address })
    }

    /// Opens a new connection (TLS handshake included).
    pub async fn connect(&self) -> Result<ServiceClient, ConnectError> {
        match self.endpoint.connect().await {
            Ok(channel) => Ok(TokenServiceClient::new(channel)),
            Err(error) => {
                let detail = error_chain(&error);
                if is_trust_failure(&detail) {
                    Err(ConnectError::Untrusted { detail })
                } else {
                    Err(ConnectError::Unreachable {
                        address: self.address.clone(),
                        detail,
                    })
                }
            }
        }
    }
}

pub use tokendist_daemon_kit::error_text::error_chain;

/// rustls reports certificate verification failures as "invalid peer certificate: ...".
fn is_trust_failure(detail: &str) -> bool {
    detail.contains("invalid peer certificate")
        || detail.contains("UnknownIssuer")
        || detail.contains("NotValidForName")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_verification_failures_are_trust_failures() {
        assert!(is_trust_failure(
            "transport error: invalid peer certificate: UnknownIssuer"
        ));
        assert!(is_trust_failure(
            "invalid peer certificate: certificate not valid for name \"x\"; certificate is only valid for ..."
        ));
        assert!(!is_trust_failure(
            "tcp connect error: Connection refused (os error 111)"
        ));
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        let config = ClientConfig {
            address: "127.0.0.1:1".into(),
            audience: "https://a".into(),
            tls: crate::config::TlsConfig {
                ca,
                ..Default::default()
            },
            ..Default::default()
        };
        let error = ServerEndpoint::new(&config).unwrap_err();
        assert!(matches!(error, TlsSetupError::NotPem { .. }), "{error}");
    }
}
