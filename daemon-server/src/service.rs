//! The `tokendist.v1.TokenService` gRPC service: authenticates each call (`BeginSession` with a token
//! for the plain audience; every later step with a token for the session's audience, issued after
//! its challenge — single-use tokens, DESIGN §4), rate-limits `BeginSession` and the attestation
//! steps per instance (after authentication) and dispatches to the step's module. One wrapper
//! ([`TokenServiceImpl::serve`]) extracts the bearer token and the peer, times every RPC for metrics
//! and converts failures through the one mapping in [`crate::status`].

use std::future::Future;
use std::time::Instant;

use tokendist_core::identity::IdentityClaims;

use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_server::TokenService;
use tonic::{Request, Response, Status};

use crate::authenticate::{TokenScope, authenticate, authenticate_step, bearer_token};
use crate::sessions::RequestedSession;
use crate::state::ServerState;
use crate::status::{Limited, ServiceError};
use crate::tls::PeerInfo;
use crate::{attest, prove, release, sessions};

/// The gRPC service over the shared state.
#[derive(Debug, Clone)]
pub struct TokenServiceImpl {
    state: ServerState,
}

/// What every handler takes from its request, extracted once: the message, the caller's bearer
/// token (or why there is none) and its peer.
struct Call<T> {
    message: T,
    token: Result<String, ServiceError>,
    peer: Option<PeerInfo>,
}

/// An authenticated session step: the caller's verified claims and the session its request names.
struct Step {
    claims: IdentityClaims,
    session: RequestedSession,
}

impl TokenServiceImpl {
    pub fn new(state: ServerState) -> Self {
        Self { state }
    }

    /// Runs one RPC: extracts its [`Call`], runs `handler`, times it for metrics and converts a
    /// failure through [`crate::status`].
    async fn serve<T, R, F>(
        &self,
        rpc: &'static str,
        request: Request<T>,
        handler: impl FnOnce(Call<T>) -> F,
    ) -> Result<Response<R>, Status>
    where
        F: Future<Output = Result<R, ServiceError>>,
    {
        let started = Instant::now();
        let call = Call {
            token: bearer_token(request.metadata()),
            peer: request.extensions().get::<PeerInfo>().cloned(),
            message: request.into_inner(),
        };
        let result = handler(call).await;
        let code = match &result {
            Ok(_) => tonic::Code::Ok,
            Err(error) => error.code(),
        };
        self.state
            .metrics
            .observe_request(rpc, code, started.elapsed());
        result.map(Response::new).map_err(Status::from)
    }

    /// Authenticates a session step (the token first, then the session it names); `limited` steps
    /// also take one request from the caller's attestation bucket.
    async fn step(
        &self,
        token: Result<String, ServiceError>,
        session_id: &str,
        limited: bool,
    ) -> Result<Step, ServiceError> {
        let (claims, session) = authenticate_step(&self.state, &token?, session_id).await?;
        if limited {
            self.rate_limit(&claims, Limited::AttestationSteps)?;
        }
        Ok(Step { claims, session })
    }

    /// Takes one request from the caller's instance bucket for `limited`, or RESOURCE_EXHAUSTED.
    fn rate_limit(&self, claims: &IdentityClaims, limited: Limited) -> Result<(), ServiceError> {
        let live = self.state.live();
        let (limiter, limit) = match limited {
            Limited::Sessions => (&self.state.session_limiter, live.session_rate),
            Limited::AttestationSteps => (&self.state.attestation_limiter, live.attestation_rate),
        };
        let instance_id = &claims.compute_engine.instance_id;
        limiter
            .take(instance_id, limit, Instant::now())
            .map_err(|wait| {
                tracing::warn!(instance_id, ?limited, "rate limit reached");
                ServiceError::RateLimited {
                    limited,
                    retry_in_secs: wait.as_secs(),
                }
            })
    }
}

#[tonic::async_trait]
impl TokenService for TokenServiceImpl {
    async fn begin_session(
        &self,
        request: Request<pb::BeginSessionRequest>,
    ) -> Result<Response<pb::BeginSessionResponse>, Status> {
        self.serve("BeginSession", request, |call| async move {
            let claims = authenticate(&self.state, &call.token?, &TokenScope::OpenSession).await?;
            self.rate_limit(&claims, Limited::Sessions)?;
            sessions::begin(&self.state, &claims).await
        })
        .await
    }

    async fn attest(
        &self,
        request: Request<pb::AttestRequest>,
    ) -> Result<Response<pb::AttestResponse>, Status> {
        self.serve("Attest", request, |call| async move {
            let Step { claims, session } = self
                .step(call.token, &call.message.session_id, true)
                .await?;
            attest::attest(
                &self.state,
                &claims,
                call.peer.as_ref(),
                session,
                &call.message,
            )
            .await
        })
        .await
    }

    async fn prove_attestation(
        &self,
        request: Request<pb::ProveRequest>,
    ) -> Result<Response<pb::ProveResponse>, Status> {
        self.serve("ProveAttestation", request, |call| async move {
            let Step { claims, session } = self
                .step(call.token, &call.message.session_id, true)
                .await?;
            prove::prove(
                &self.state,
                &claims,
                call.peer.as_ref(),
                session,
                &call.message,
            )
            .await
        })
        .await
    }

    async fn get_token(
        &self,
        request: Request<pb::TokenRequest>,
    ) -> Result<Response<pb::TokenResponse>, Status> {
        self.serve("GetToken", request, |call| async move {
            let Step { claims, session } = self
                .step(call.token, &call.message.session_id, false)
                .await?;
            release::get_token(&self.state, &claims, session, call.peer.as_ref()).await
        })
        .await
    }
}
