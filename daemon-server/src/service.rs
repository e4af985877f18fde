//! The `tokendist.v1.TokenService` gRPC service: authenticates each call (`BeginSession` with a token
//! for the plain audience; every later step with a token for the session's audience, issued after
//! its challenge — single-use tokens, DESIGN §4), rate-limits `BeginSession` and the attestation
//! steps per instance (after authentication), dispatches to the step's module, times it for metrics,
//! and converts failures through the one mapping in [`crate::status`].

use std::time::Instant;

use tokendist_core::identity::IdentityClaims;

use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_server::TokenService;
use tonic::{Request, Response, Status};

use crate::authenticate::{TokenScope, authenticate};
use crate::sessions::RequestedSession;
use crate::state::ServerState;
use crate::status::ServiceError;
use crate::tls::PeerInfo;
use crate::{attest, prove, release, sessions};

/// The gRPC service over the shared state.
#[derive(Debug, Clone)]
pub struct TokenServiceImpl {
    state: ServerState,
}

impl TokenServiceImpl {
    pub fn new(state: ServerState) -> Self {
        Self { state }
    }

    fn finish<T>(
        &self,
        rpc: &str,
        started: Instant,
        result: Result<T, ServiceError>,
    ) -> Result<Response<T>, Status> {
        let code = match &result {
            Ok(_) => tonic::Code::Ok,
            Err(error) => error.code(),
        };
        self.state
            .metrics
            .observe_request(rpc, code, started.elapsed());
        result.map(Response::new).map_err(Status::from)
    }
}

fn peer_of<T>(request: &Request<T>) -> Option<PeerInfo> {
    request.extensions().get::<PeerInfo>().cloned()
}

impl TokenServiceImpl {
    /// Verifies the caller's token for the session the request names: its audience must be that
    /// session's, and it must not predate the session's challenge.
    async fn authenticate_for_session(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        session: &mut RequestedSession,
    ) -> Result<IdentityClaims, ServiceError> {
        // A request without a bearer token is UNAUTHENTICATED whatever session it names.
        crate::authenticate::bearer_token(metadata)?;
        let scope = session.token_scope()?;
        authenticate(&self.state, metadata, &scope).await
    }

    /// Takes one `BeginSession` from the caller's instance bucket, or RESOURCE_EXHAUSTED.
    fn session_rate_limit(&self, claims: &IdentityClaims) -> Result<(), ServiceError> {
        let limit = self.state.live().session_rate;
        let instance_id = &claims.compute_engine.instance_id;
        self.state
            .session_limiter
            .take(instance_id, limit, Instant::now())
            .map_err(|wait| {
                tracing::warn!(instance_id, "session rate limit reached");
                ServiceError::RateLimited(format!(
                    "too many sessions from this instance; retry in {} s",
                    wait.as_secs().max(1)
                ))
            })
    }

    /// Takes one attestation request from the caller's instance bucket, or RESOURCE_EXHAUSTED.
    fn rate_limit(&self, claims: &IdentityClaims) -> Result<(), ServiceError> {
        let limit = self.state.live().attestation_rate;
        let instance_id = &claims.compute_engine.instance_id;
        self.state
            .attestation_limiter
            .take(instance_id, limit, Instant::now())
            .map_err(|wait| {
                tracing::warn!(instance_id, "attestation rate limit reached");
                ServiceError::RateLimited(format!(
                    "too many attestation requests from this instance; retry in {} s",
                    wait.as_secs().max(1)
                ))
            })
    }
}

#[tonic::async_trait]
impl TokenService for TokenServiceImpl {
    async fn begin_session(
        &self,
        request: Request<pb::BeginSessionRequest>,
    ) -> Result<Response<pb::BeginSessionResponse>, Status> {
        let started = Instant::now();
        let result = async {
            let claims =
                authenticate(&self.state, request.metadata(), &TokenScope::OpenSession).await?;
            self.session_rate_limit(&claims)?;
            sessions::begin(&self.state, &claims).await
        }
        .await;
        self.finish("BeginSession", started, result)
    }

    async fn attest(
        &self,
        request: Request<pb::AttestRequest>,
    ) -> Result<Response<pb::AttestResponse>, Status> {
        let started = Instant::now();
        let peer = peer_of(&request);
        let result = async {
            let mut session =
                RequestedSession::read(&self.state, &request.get_ref().session_id).await;
            let claims = self
                .authenticate_for_session(request.metadata(), &mut session)
                .await?;
            self.rate_limit(&claims)?;
            attest::attest(
                &self.state,
                &claims,
                peer.as_ref(),
                session,
                request.get_ref(),
            )
            .await
        }
        .await;
        self.finish("Attest", started, result)
    }

    async fn prove_attestation(
        &self,
        request: Request<pb::ProveRequest>,
    ) -> Result<Response<pb::ProveResponse>, Status> {
        let started = Instant::now();
        let peer = peer_of(&request);
        let result = async {
            let mut session =
                RequestedSession::read(&self.state, &request.get_ref().session_id).await;
            let claims = self
                .authenticate_for_session(request.metadata(), &mut session)
                .await?;
            self.rate_limit(&claims)?;
            prove::prove(
                &self.state,
                &claims,
                peer.as_ref(),
                session,
                request.get_ref(),
            )
            .await
        }
        .await;
        self.finish("ProveAttestation", started, result)
    }

    async fn get_token(
        &self,
        request: Request<pb::TokenRequest>,
    ) -> Result<Response<pb::TokenResponse>, Status> {
        let started = Instant::now();
        let peer = peer_of(&request);
        let result = async {
            let mut session =
                RequestedSession::read(&self.state, &request.get_ref().session_id).await;
            let claims = self
                .authenticate_for_session(request.metadata(), &mut session)
                .await?;
            release::get_token(&self.state, &claims, session, peer.as_ref()).await
        }
        .await;
        self.finish("GetToken", started, result)
    }
}
