//! The `tokendist.v1.TokenService` gRPC service: authenticates each call (`BeginSession` with a token
//! for the plain audience; every later step with a token for the session's audience, issued after
//! its challenge — single-use tokens, DESIGN §4), rate-limits `BeginSession` and the attestation
//! steps per instance (after authentication) and dispatches to the step's module. One wrapper
//! (`TokenServiceImpl::serve`) extracts the bearer token and the peer, admits the call under the
//! server-wide bound ([`crate::admission`]), times every RPC for metrics and converts failures
//! through the one mapping in [`crate::status`].

use std::future::Future;
use std::time::Instant;

use tokendist_core::checks::{RELEASE_CHECKS, REVIEW_CHECKS};
use tokendist_core::identity::IdentityClaims;
use tokendist_core::verdict::CheckResult;

use tokendist_proto::v1 as pb;
use tokendist_proto::v1::token_service_server::TokenService;
use tonic::{Request, Response, Status};

use crate::authenticate::{TokenScope, authenticate, authenticate_step, bearer_token};
use crate::metrics::DecisionOutcome;
use crate::sessions::StepCall;
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
        let _in_flight = self.state.metrics.in_flight(rpc);
        let call = Call {
            token: bearer_token(request.metadata()),
            peer: request.extensions().get::<PeerInfo>().cloned(),
            message: request.into_inner(),
        };
        let wait = self.state.live().admission_wait;
        let result = match self.state.admission.enter(wait).await {
            Ok(_place) => handler(call).await,
            Err(busy) => {
                tracing::warn!(
                    rpc,
                    in_progress = busy.in_progress,
                    "server busy: call refused"
                );
                Err(ServiceError::Busy {
                    in_progress: busy.in_progress,
                })
            }
        };
        let code = match &result {
            Ok(_) => tonic::Code::Ok,
            Err(error) => error.code(),
        };
        self.state
            .metrics
            .observe_request(rpc, code, started.elapsed());
        if let Some((outcome, failed)) = decision_of(rpc, &result) {
            self.state.metrics.observe_decision(outcome, &failed);
        }
        result.map(Response::new).map_err(Status::from)
    }

    /// Serves a session step: authenticates it (the token first, then the session `session_id`
    /// names), takes one request from the caller's `limited` bucket, and runs `step`.
    async fn serve_step<T, R, F>(
        &self,
        rpc: &'static str,
        request: Request<T>,
        limited: Option<Limited>,
        step: impl FnOnce(StepCall<T>) -> F,
    ) -> Result<Response<R>, Status>
    where
        T: NamesSession,
        F: Future<Output = Result<R, ServiceError>>,
    {
        self.serve(rpc, request, |call| async move {
            let token = call.token?;
            let session_id = call.message.session_id();
            let (claims, session) = authenticate_step(&self.state, &token, session_id).await?;
            if let Some(limited) = limited {
                self.rate_limit(&claims, limited)?;
            }
            step(StepCall {
                state: self.state.clone(),
                claims,
                peer: call.peer,
                session,
                request: call.message,
            })
            .await
        })
        .await
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
        let limited = Some(Limited::AttestationSteps);
        self.serve_step("Attest", request, limited, attest::attest)
            .await
    }

    async fn prove_attestation(
        &self,
        request: Request<pb::ProveRequest>,
    ) -> Result<Response<pb::ProveResponse>, Status> {
        let limited = Some(Limited::AttestationSteps);
        self.serve_step("ProveAttestation", request, limited, prove::prove)
            .await
    }

    async fn get_token(
        &self,
        request: Request<pb::TokenRequest>,
    ) -> Result<Response<pb::TokenResponse>, Status> {
        self.serve_step("GetToken", request, None, release::get_token)
            .await
    }
}

/// The decision a request ended in, with the failed checks of a denial: `GetToken` releasing, any
/// step denying (a pending VM's every retry included), refusing the caller's token, or finding a
/// dependency unavailable. Other outcomes (a session step that succeeded, a malformed request, a
/// rate limit) decide nothing about the VM.
fn decision_of<R>(
    rpc: &str,
    result: &Result<R, ServiceError>,
) -> Option<(DecisionOutcome, Vec<&'static str>)> {
    match result {
        Ok(_) if rpc == "GetToken" => Some((DecisionOutcome::Released, Vec::new())),
        Ok(_) => None,
        Err(ServiceError::Denied {
            checks,
            pending_approval,
        }) => {
            let outcome = if *pending_approval {
                DecisionOutcome::Pending
            } else {
                DecisionOutcome::Denied
            };
            Some((outcome, catalogue_names(checks)))
        }
        Err(ServiceError::Unauthenticated { check }) => Some((
            DecisionOutcome::Unauthenticated,
            catalogue_names(std::slice::from_ref(check)),
        )),
        Err(ServiceError::Unavailable(_)) => Some((DecisionOutcome::Unavailable, Vec::new())),
        Err(_) => None,
    }
}

/// The failed checks among `checks`, as their catalogue names (a name outside the catalogue is
/// left out, so the label set stays the one created at start).
fn catalogue_names(checks: &[CheckResult]) -> Vec<&'static str> {
    checks
        .iter()
        .filter(|check| check.is_fail())
        .filter_map(|check| {
            RELEASE_CHECKS
                .iter()
                .chain(REVIEW_CHECKS.iter())
                .find(|name| **name == check.name)
                .copied()
        })
        .collect()
}

/// A session step's request: it names its session.
trait NamesSession {
    fn session_id(&self) -> &str;
}

macro_rules! names_session {
    ($($request:ty),*) => {
        $(impl NamesSession for $request {
            fn session_id(&self) -> &str {
                &self.session_id
            }
        })*
    };
}

names_session!(pb::AttestRequest, pb::ProveRequest, pb::TokenRequest);
