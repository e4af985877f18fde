//! A tonic `TokenService` client over mTLS (pinning the test CA, SNI `localhost`), and helpers to call
//! it with a bearer token; denials are read with `tokendist_testkit::assert_denied`.

use std::net::SocketAddr;

use tokendist_proto::denial_of;
use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_client::TokenServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Request, Status};

use super::pki::ClientIdentity;

pub type Client = TokenServiceClient<Channel>;

/// Connects to the server at `addr` presenting `identity` (or no client certificate).
pub async fn try_connect(
    addr: SocketAddr,
    ca_pem: &str,
    identity: Option<&ClientIdentity>,
) -> Result<Client, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    }
    let channel = Channel::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await?;
    Ok(TokenServiceClient::new(channel))
}

pub async fn connect(addr: SocketAddr, ca_pem: &str, identity: &ClientIdentity) -> Client {
    try_connect(addr, ca_pem, Some(identity)).await.unwrap()
}

/// `message` with `authorization: Bearer TOKEN`.
pub fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

pub async fn get_token(
    client: &mut Client,
    token: &str,
    session_id: &str,
) -> Result<pb::TokenResponse, Status> {
    client
        .get_token(with_token(
            pb::TokenRequest {
                session_id: session_id.to_string(),
            },
            token,
        ))
        .await
        .map(tonic::Response::into_inner)
}

pub async fn begin_session(client: &mut Client, token: &str) -> pb::BeginSessionResponse {
    try_begin_session(client, token).await.unwrap()
}

pub async fn try_begin_session(
    client: &mut Client,
    token: &str,
) -> Result<pb::BeginSessionResponse, Status> {
    client
        .begin_session(with_token(
            pb::BeginSessionRequest {
                client_version: "test".into(),
            },
            token,
        ))
        .await
        .map(tonic::Response::into_inner)
}

pub use tokendist_testkit::{assert_denied, failed_checks};
