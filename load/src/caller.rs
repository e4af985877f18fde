//! One request as a caller makes it, over its own mTLS connection. Against `tokenserver` a request
//! is one release as a VM's client makes it (tokens are single use): `BeginSession` with an identity
//! token for the server's audience (fetched from the VM's metadata server, reused for 20 s), then
//! `GetToken` with a token fetched for that session's audience; with `--tpm`, between the two, the
//! attestation a tokenclient with a vTPM makes (`Attest`, ActivateCredential, a quote,
//! `ProveAttestation`, by the software TPM). Against the echo server it is the
//! same two unary calls with a fixed bearer token and no token fetch.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_client::TokenServiceClient;
use tokendist_testkit::pki::ClientIdentity;
use tokendist_testkit::soft_tpm::SoftTpm;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Code, Request};

use crate::setup::AUDIENCE;

/// A caller fetches a fresh plain-audience token this often (the server accepts them up to 60 s).
const TOKEN_REFRESH: Duration = Duration::from_secs(20);

/// Why a request failed: a gRPC code (or `token-fetch`, a metadata-server failure), and which call
/// failed with what message (the server's status message: what a client's log would show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `Unavailable`, `PermissionDenied`, `token-fetch`, ...
    pub code: String,
    /// `GetToken: unavailable: gathering evidence from Google timed out; retry`.
    pub detail: String,
}

impl Failure {
    fn local(code: &str, detail: impl Into<String>) -> Failure {
        Failure {
            code: code.to_string(),
            detail: detail.into(),
        }
    }

    fn rpc(rpc: &'static str) -> impl Fn(tonic::Status) -> Failure {
        move |status| Failure {
            code: format!("{:?}", status.code()),
            detail: format!("{rpc}: {}", status.message()),
        }
    }
}

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
        /// `--tpm`: the VM's vTPM.
        tpm: Option<Arc<SoftTpm>>,
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
        .map_err(|_| Failure::local("token-not-ascii", "the bearer token is not ASCII"))?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

impl Caller {
    /// One request; the failure names the gRPC code (`PermissionDenied`) or `token-fetch`.
    pub async fn request(&self) -> Result<(), Failure> {
        self.release().await.map(|_| ())
    }

    /// One request; a release answers with its receipt's event id (empty for the echo, or when the
    /// server sent no receipt).
    pub async fn release(&self) -> Result<String, Failure> {
        let mut client = self.client.clone();
        let begin = pb::BeginSessionRequest {
            client_version: "tokendist-load".into(),
        };
        match &self.kind {
            Kind::Echo { token } => {
                let session = client
                    .begin_session(with_token(begin, token)?)
                    .await
                    .map_err(Failure::rpc("BeginSession"))?
                    .into_inner();
                client
                    .get_token(with_token(
                        pb::TokenRequest {
                            session_id: session.session_id,
                        },
                        token,
                    )?)
                    .await
                    .map_err(Failure::rpc("GetToken"))?;
                Ok(String::new())
            }
            Kind::Release { tpm, .. } => {
                let plain = self.plain_token().await?;
                let session = client
                    .begin_session(with_token(begin, &plain)?)
                    .await
                    .map_err(Failure::rpc("BeginSession"))?
                    .into_inner();
                let audience = tokendist_core::identity::session_audience(AUDIENCE, &session.nonce);
                match (tpm, session.tpm_required) {
                    (Some(tpm), true) => self.attest(&mut client, tpm, &session, &audience).await?,
                    (Some(_), false) => {
                        return Err(Failure::local(
                            "tpm-not-required",
                            "BeginSession: the server wants no TPM attestation of a --tpm VM",
                        ));
                    }
                    (None, _) => {}
                }
                let token = self.fetch_token(&audience).await?;
                let response = client
                    .get_token(with_token(
                        pb::TokenRequest {
                            session_id: session.session_id,
                        },
                        &token,
                    )?)
                    .await
                    .map_err(Failure::rpc("GetToken"))?
                    .into_inner();
                if response.secrets.is_empty() {
                    return Err(Failure::local(
                        &format!("{:?}-without-secrets", Code::Ok),
                        "GetToken: answered OK with no secrets",
                    ));
                }
                Ok(response.receipt.map(|r| r.event_id).unwrap_or_default())
            }
        }
    }

    /// What tokenclient does with a vTPM when the server wants one: `Attest` with the EK and AK,
    /// ActivateCredential of the challenge, a quote of the asked PCRs over the session nonce,
    /// `ProveAttestation`; each call with its own token for the session's audience.
    async fn attest(
        &self,
        client: &mut TokenServiceClient<Channel>,
        tpm: &SoftTpm,
        session: &pb::BeginSessionResponse,
        audience: &str,
    ) -> Result<(), Failure> {
        let tpm_error = |detail: String| Failure::local("soft-tpm", detail);
        let selection = session.pcr_selection.clone().unwrap_or_default();
        let token = self.fetch_token(audience).await?;
        let challenge = client
            .attest(with_token(
                pb::AttestRequest {
                    session_id: session.session_id.clone(),
                    ek_public: tpm.ek_public_tpm2b(),
                    ek_certificate: Vec::new(),
                    ak_public: tpm.ak_public_tpm2b(),
                },
                &token,
            )?)
            .await
            .map_err(Failure::rpc("Attest"))?
            .into_inner();
        let activated = tpm
            .activate(&challenge.credential_blob, &challenge.encrypted_secret)
            .map_err(|e| tpm_error(format!("ActivateCredential: {e}")))?;
        let quote = tpm
            .quote(&session.nonce, &selection.pcrs)
            .map_err(|e| tpm_error(format!("Quote: {e}")))?;
        let token = self.fetch_token(audience).await?;
        client
            .prove_attestation(with_token(
                pb::ProveRequest {
                    session_id: session.session_id.clone(),
                    activated_secret: activated,
                    quote_attest: quote.attest,
                    quote_signature: quote.signature,
                    pcr_values: quote.values.into_iter().collect(),
                },
                &token,
            )?)
            .await
            .map_err(Failure::rpc("ProveAttestation"))?;
        Ok(())
    }

    async fn plain_token(&self) -> Result<String, Failure> {
        let Kind::Release { plain, .. } = &self.kind else {
            return Err(Failure::local(
                "not-a-release",
                "the echo fetches no tokens",
            ));
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
            return Err(Failure::local(
                "not-a-release",
                "the echo fetches no tokens",
            ));
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
            .map_err(|e| Failure::local("token-fetch", format!("metadata server: {e}")))?;
        if !response.status().is_success() {
            return Err(Failure::local(
                &format!("token-fetch-{}", response.status().as_u16()),
                format!("metadata server: HTTP {}", response.status()),
            ));
        }
        response
            .text()
            .await
            .map_err(|e| Failure::local("token-fetch", format!("metadata server: {e}")))
    }

    /// The VM this caller plays, if any.
    pub fn vm(&self) -> &str {
        match &self.kind {
            Kind::Release { vm, .. } => vm,
            Kind::Echo { .. } => "echo",
        }
    }
}
