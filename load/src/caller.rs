//! One request as a caller makes it, over its own mTLS connection. Against `tokenserver` a request
//! is one release as a VM's client makes it (tokens are single use): `BeginSession` with an identity
//! token for the server's audience (fetched from the VM's metadata server, reused for 20 s), then
//! `GetToken` with a token fetched for that session's audience. Against the echo server it is the
//! same two unary calls with a fixed bearer token and no token fetch.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_client::TokenServiceClient;
use tokendist_testkit::pki::ClientIdentity;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Code, Request};

use crate::setup::AUDIENCE;

/// A caller fetches a fresh plain-audience token this often (the server accepts them up to 60 s).
const TOKEN_REFRESH: Duration = Duration::from_secs(20);

/// Why a request failed: a gRPC code, or the token fetch from the metadata server.
pub type Failure = String;

/// Opens one mTLS connection (pinning the test CA, SNI `localhost`).
pub async fn connect(
    addr: SocketAddr,
    ca_pem: &str,
    identity: &ClientIdentity,
) -> anyhow::Result<TokenServiceClient<Channel>> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost")
        .identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    let channel = Channel::from_shared(format!("https://{addr}"))?
        .tls_config(tls)?
        .tcp_nodelay(true)
        .connect()
        .await?;
    Ok(TokenServiceClient::new(channel))
}

/// What a caller asks.
#[derive(Debug)]
pub enum Kind {
    /// A release of the simulated VM whose metadata server is at `metadata`.
    Release {
        vm: String,
        metadata: SocketAddr,
        http: reqwest::Client,
        plain: Mutex<Option<(String, Instant)>>,
    },
    /// The echo's two calls with this bearer token.
    Echo { token: String },
}

/// One connection and what it asks.
#[derive(Debug)]
pub struct Caller {
    pub client: TokenServiceClient<Channel>,
    pub kind: Kind,
}

fn with_token<T>(message: T, token: &str) -> Result<Request<T>, Failure> {
    let mut request = Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| "token-not-ascii".to_string())?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

fn code(status: &tonic::Status) -> Failure {
    format!("{:?}", status.code())
}

impl Caller {
    /// One request; the failure names the gRPC code (`PermissionDenied`) or `token-fetch`.
    pub async fn request(&self) -> Result<(), Failure> {
        let mut client = self.client.clone();
        let begin = pb::BeginSessionRequest {
            client_version: "tokendist-load".into(),
        };
        match &self.kind {
            Kind::Echo { token } => {
                let session = client
                    .begin_session(with_token(begin, token)?)
                    .await
                    .map_err(|s| code(&s))?
                    .into_inner();
                client
                    .get_token(with_token(
                        pb::TokenRequest {
                            session_id: session.session_id,
                        },
                        token,
                    )?)
                    .await
                    .map_err(|s| code(&s))?;
                Ok(())
            }
            Kind::Release { .. } => {
                let plain = self.plain_token().await?;
                let session = client
                    .begin_session(with_token(begin, &plain)?)
                    .await
                    .map_err(|s| code(&s))?
                    .into_inner();
                let audience = tokendist_core::identity::session_audience(AUDIENCE, &session.nonce);
                let token = self.fetch_token(&audience).await?;
                let response = client
                    .get_token(with_token(
                        pb::TokenRequest {
                            session_id: session.session_id,
                        },
                        &token,
                    )?)
                    .await
                    .map_err(|s| code(&s))?
                    .into_inner();
                if response.secrets.is_empty() {
                    return Err(format!("{:?}-without-secrets", Code::Ok));
                }
                Ok(())
            }
        }
    }

    async fn plain_token(&self) -> Result<String, Failure> {
        let Kind::Release { plain, .. } = &self.kind else {
            return Err("not-a-release".into());
        };
        if let Ok(cached) = plain.lock()
            && let Some((token, fetched)) = cached.as_ref()
            && fetched.elapsed() < TOKEN_REFRESH
        {
            return Ok(token.clone());
        }
        let token = self.fetch_token(AUDIENCE).await?;
        if let Ok(mut cached) = plain.lock() {
            *cached = Some((token.clone(), Instant::now()));
        }
        Ok(token)
    }

    /// A `format=full` identity token for `audience` from the VM's metadata server.
    async fn fetch_token(&self, audience: &str) -> Result<String, Failure> {
        let Kind::Release { metadata, http, .. } = &self.kind else {
            return Err("not-a-release".into());
        };
        let url = format!(
            "http://{metadata}/computeMetadata/v1/instance/service-accounts/default/identity"
        );
        let response = http
            .get(url)
            .query(&[("audience", audience), ("format", "full")])
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .map_err(|_| "token-fetch".to_string())?;
        if !response.status().is_success() {
            return Err(format!("token-fetch-{}", response.status().as_u16()));
        }
        response.text().await.map_err(|_| "token-fetch".to_string())
    }

    /// The VM this caller plays, if any.
    pub fn vm(&self) -> &str {
        match &self.kind {
            Kind::Release { vm, .. } => vm,
            Kind::Echo { .. } => "echo",
        }
    }
}
