//! The baseline: a bare tonic 0.14 mTLS server answering the `TokenService` calls a release makes
//! (`BeginSession`, `GetToken`) with fixed messages and no work: what the transport alone costs
//! (TLS 1.3 with a client certificate, HTTP/2, one connection per caller, TCP_NODELAY, the same
//! Cargo.lock). It runs as this binary's hidden `echo-server` mode, a child process of the tool, so
//! that its CPU is measured from `/proc` exactly as the server's is; it reports READY on the
//! NOTIFY_SOCKET like `tokenserver`.

use std::collections::BTreeMap;

use anyhow::Context as _;
use tokendist_daemon_kit::notify::Notifier;
use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_server::{TokenService, TokenServiceServer};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status};

use crate::cli::EchoOptions;

/// Answers without looking at anything but the request's own fields.
#[derive(Debug, Default)]
struct Echo;

#[tonic::async_trait]
impl TokenService for Echo {
    async fn begin_session(
        &self,
        request: Request<pb::BeginSessionRequest>,
    ) -> Result<Response<pb::BeginSessionResponse>, Status> {
        Ok(Response::new(pb::BeginSessionResponse {
            session_id: request.into_inner().client_version,
            nonce: vec![0x5a; 32],
            expires_at_unix: 0,
            pcr_selection: None,
            tpm_required: false,
        }))
    }

    async fn attest(
        &self,
        _request: Request<pb::AttestRequest>,
    ) -> Result<Response<pb::AttestResponse>, Status> {
        Err(Status::unimplemented(
            "the echo answers BeginSession and GetToken only",
        ))
    }

    async fn prove_attestation(
        &self,
        _request: Request<pb::ProveRequest>,
    ) -> Result<Response<pb::ProveResponse>, Status> {
        Err(Status::unimplemented(
            "the echo answers BeginSession and GetToken only",
        ))
    }

    async fn get_token(
        &self,
        request: Request<pb::TokenRequest>,
    ) -> Result<Response<pb::TokenResponse>, Status> {
        let session = request.into_inner().session_id;
        Ok(Response::new(pb::TokenResponse {
            secrets: vec![pb::Secret {
                name: session,
                ..Default::default()
            }],
            receipt: None,
        }))
    }
}

/// Serves until SIGTERM/SIGINT.
pub async fn serve(options: EchoOptions) -> anyhow::Result<()> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(
            read(&options.cert)?,
            read(&options.key)?,
        ))
        .client_ca_root(Certificate::from_pem(read(&options.client_ca)?));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let env: BTreeMap<String, String> = std::env::vars().collect();
    Notifier::from_env(&env).ready(&format!("serving on {addr}"));
    Server::builder()
        .tls_config(tls)?
        .add_service(TokenServiceServer::new(Echo))
        .serve_with_incoming_shutdown(incoming, shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}
