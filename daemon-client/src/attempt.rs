//! One attempt, start to finish, on a fresh connection with a fresh identity token per RPC:
//! BeginSession → (when the server wants the TPM and this VM has one) Attest with the EK and an AK →
//! ActivateCredential → Quote over the session nonce and PCR selection → ProveAttestation →
//! GetToken; otherwise BeginSession → GetToken. Every step after BeginSession names the session and
//! carries a token for the session's audience (single-use tokens, DESIGN §4). Then every secret is opened. [`AttemptError`] says
//! what failed and [`AttemptError::disposition`] whether to retry.

use std::collections::HashMap;

use tokendist_core::tpm::marshal::{tpm2b, tpm2b_content};
use tokendist_gcp::MetadataError;
use tokendist_proto::v1 as pb;
use tonic::Code;

use crate::identity::TokenSource;
use crate::secrets::import_blob::bank_of;
use crate::secrets::{OpenContext, SecretError, SecretValue, open_secret};
use crate::transport::{ConnectError, ServerEndpoint, ServiceClient};
use tokendist_tpm::{AkInfo, PcrBank, TpmError, TpmHandle};

/// The client version sent in BeginSession.
pub const CLIENT_VERSION: &str = concat!("tokenclient/", env!("CARGO_PKG_VERSION"));

/// What a successful attempt brings back.
#[derive(Debug)]
pub struct Release {
    pub secrets: Vec<SecretValue>,
    /// The server's release event id (its receipt).
    pub receipt_event_id: Option<String>,
    /// Whether the TPM attestation steps ran.
    pub attested: bool,
}

/// What the retry loop does with a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again after the backoff.
    Retry,
    /// Stop with this exit code: retrying cannot help.
    Fatal(i32),
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("metadata server: {0}")]
    Metadata(#[from] MetadataError),
    #[error("{rpc}: {code:?}: {message}")]
    Rpc {
        rpc: &'static str,
        code: Code,
        message: String,
        /// The failed check names the server sent (PERMISSION_DENIED; UNAUTHENTICATED names its
        /// one failed `identity.*` check in `message` only).
        failed_checks: Vec<String>,
        pending_approval: bool,
    },
    #[error("the server's {rpc} answer is unusable: {reason}")]
    Protocol { rpc: &'static str, reason: String },
    #[error("TPM: {0}")]
    Tpm(#[from] TpmError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl AttemptError {
    fn rpc(rpc: &'static str, status: tonic::Status) -> Self {
        let denial = tokendist_proto::denial_of(&status);
        AttemptError::Rpc {
            rpc,
            code: status.code(),
            message: status.message().to_string(),
            failed_checks: denial
                .as_ref()
                .map(tokendist_proto::failed_check_names)
                .unwrap_or_default(),
            pending_approval: denial.is_some_and(|d| d.pending_approval),
        }
    }

    /// Retry or stop (and with which exit code).
    pub fn disposition(&self) -> Disposition {
        use tokendist_daemon_kit::exit;
        match self {
            AttemptError::Connect(ConnectError::Untrusted { .. }) => {
                Disposition::Fatal(exit::BAD_CONFIG)
            }
            AttemptError::Rpc {
                code: Code::InvalidArgument,
                ..
            } => Disposition::Fatal(exit::PROTOCOL),
            _ => Disposition::Retry,
        }
    }

    /// True when the server refused this VM (as opposed to being unreachable or failing): the
    /// secrets it holds must go.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            AttemptError::Rpc {
                code: Code::PermissionDenied | Code::Unauthenticated,
                ..
            }
        )
    }

    /// True when secrets delivered earlier must be removed: the server refused this VM, or the TPM
    /// no longer unseals them (its PCRs left the approved state).
    pub fn withdraws_secrets(&self) -> bool {
        self.is_refusal() || matches!(self, AttemptError::Secret(SecretError::PcrMismatch { .. }))
    }

    /// True when the server asked this VM to slow down (RESOURCE_EXHAUSTED).
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            AttemptError::Rpc {
                code: Code::ResourceExhausted,
                ..
            }
        )
    }

    /// The failed checks, when the server sent a denial.
    pub fn failed_checks(&self) -> &[String] {
        match self {
            AttemptError::Rpc { failed_checks, .. } => failed_checks,
            _ => &[],
        }
    }

    pub fn is_pending_approval(&self) -> bool {
        matches!(
            self,
            AttemptError::Rpc {
                pending_approval: true,
                ..
            }
        )
    }
}

/// What one attempt needs.
#[derive(Debug)]
pub struct AttemptContext<'a> {
    pub endpoint: &'a ServerEndpoint,
    pub tokens: &'a TokenSource,
    pub tpm: Option<&'a TpmHandle>,
}

/// Runs one attempt. `ak` caches the attestation key and `instance_id` this VM's id (read from the
/// metadata server on first use) between attempts.
pub async fn run(
    context: &AttemptContext<'_>,
    ak: &mut Option<AkInfo>,
    instance_id: &mut Option<String>,
) -> Result<Release, AttemptError> {
    let mut client = context.endpoint.connect().await?;
    let instance_id = match instance_id {
        Some(id) => id.clone(),
        None => {
            let id = context.tokens.metadata().instance_id().await?;
            *instance_id = Some(id.clone());
            id
        }
    };
    let begin = client
        .begin_session(
            context
                .tokens
                .authorized(pb::BeginSessionRequest {
                    client_version: CLIENT_VERSION.into(),
                })
                .await?,
        )
        .await
        .map_err(|s| AttemptError::rpc("BeginSession", s))?
        .into_inner();
    let selection = pcr_selection(&begin)?;
    let attested = match (begin.tpm_required, context.tpm) {
        (true, Some(tpm)) => {
            attest(&mut client, context.tokens, tpm, ak, &begin, &selection).await?;
            true
        }
        _ => false,
    };
    let response = client
        .get_token(
            context
                .tokens
                .authorized_in_session(
                    &begin.nonce,
                    pb::TokenRequest {
                        session_id: begin.session_id.clone(),
                    },
                )
                .await?,
        )
        .await
        .map_err(|s| AttemptError::rpc("GetToken", s))?
        .into_inner();
    let open_context = OpenContext {
        tpm: context.tpm,
        instance_id: &instance_id,
        pcrs: selection
            .as_ref()
            .map(|(bank, pcrs)| (*bank, pcrs.as_slice())),
    };
    let mut secrets = Vec::with_capacity(response.secrets.len());
    for secret in &response.secrets {
        secrets.push(open_secret(secret, open_context).await?);
    }
    Ok(Release {
        secrets,
        receipt_event_id: response.receipt.map(|r| r.event_id),
        attested,
    })
}

fn pcr_selection(
    begin: &pb::BeginSessionResponse,
) -> Result<Option<(PcrBank, Vec<u32>)>, AttemptError> {
    match &begin.pcr_selection {
        Some(selection) if !selection.pcrs.is_empty() => {
            let bank = bank_of(selection.hash_alg).ok_or_else(|| AttemptError::Protocol {
                rpc: "BeginSession",
                reason: format!("unsupported PCR bank 0x{:04x}", selection.hash_alg),
            })?;
            Ok(Some((bank, selection.pcrs.clone())))
        }
        _ => Ok(None),
    }
}

/// A TPM2B from the server, or its content when it sent the content only.
fn content_of<'a>(bytes: &'a [u8], what: &'static str) -> &'a [u8] {
    tpm2b_content(bytes, what).unwrap_or(bytes)
}

async fn attest(
    client: &mut ServiceClient,
    tokens: &TokenSource,
    tpm: &TpmHandle,
    cached_ak: &mut Option<AkInfo>,
    begin: &pb::BeginSessionResponse,
    selection: &Option<(PcrBank, Vec<u32>)>,
) -> Result<(), AttemptError> {
    let (bank, pcrs) = selection.clone().ok_or_else(|| AttemptError::Protocol {
        rpc: "BeginSession",
        reason: "the server wants a TPM attestation but named no PCRs to quote".into(),
    })?;
    let ek = tpm.ek_public().await?;
    let ak = match cached_ak {
        Some(ak) => ak.clone(),
        None => {
            let created = tpm.create_ak().await?;
            *cached_ak = Some(created.clone());
            created
        }
    };
    let challenge = client
        .attest(
            tokens
                .authorized_in_session(
                    &begin.nonce,
                    pb::AttestRequest {
                        session_id: begin.session_id.clone(),
                        ek_public: ek.public.clone(),
                        ek_certificate: ek.certificate.clone().unwrap_or_default(),
                        ak_public: ak.public.clone(),
                    },
                )
                .await?,
        )
        .await
        .map_err(|s| AttemptError::rpc("Attest", s))?
        .into_inner();
    let activated = tpm
        .activate_credential(
            &ak,
            content_of(&challenge.credential_blob, "credential blob"),
            content_of(&challenge.encrypted_secret, "encrypted secret"),
        )
        .await?;
    let quote = tpm.quote(&ak, &begin.nonce, bank, &pcrs).await?;
    let quote_attest = tpm2b(&quote.attest, "quote").map_err(|e| AttemptError::Protocol {
        rpc: "Quote",
        reason: e.to_string(),
    })?;
    let pcr_values: HashMap<u32, Vec<u8>> = quote.pcr_values.clone().into_iter().collect();
    client
        .prove_attestation(
            tokens
                .authorized_in_session(
                    &begin.nonce,
                    pb::ProveRequest {
                        session_id: begin.session_id.clone(),
                        activated_secret: activated.to_vec(),
                        quote_attest,
                        quote_signature: quote.signature.clone(),
                        pcr_values,
                    },
                )
                .await?,
        )
        .await
        .map_err(|s| AttemptError::rpc("ProveAttestation", s))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc_error(code: Code) -> AttemptError {
        AttemptError::Rpc {
            rpc: "GetToken",
            code,
            message: String::new(),
            failed_checks: vec![],
            pending_approval: false,
        }
    }

    #[test]
    fn unavailable_denied_exhausted_and_unauthenticated_are_retried() {
        for code in [
            Code::Unavailable,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::DeadlineExceeded,
            Code::Internal,
        ] {
            assert_eq!(
                rpc_error(code).disposition(),
                Disposition::Retry,
                "{code:?}"
            );
        }
    }

    #[test]
    fn resource_exhausted_is_recognised_as_rate_limiting() {
        assert!(rpc_error(Code::ResourceExhausted).is_rate_limited());
        assert!(!rpc_error(Code::Unavailable).is_rate_limited());
        assert!(!rpc_error(Code::ResourceExhausted).is_refusal());
    }

    #[test]
    fn refusals_and_pcr_mismatches_withdraw_secrets_but_outages_do_not() {
        assert!(rpc_error(Code::PermissionDenied).withdraws_secrets());
        assert!(rpc_error(Code::Unauthenticated).withdraws_secrets());
        assert!(!rpc_error(Code::Unavailable).withdraws_secrets());
        let mismatch = AttemptError::Secret(SecretError::PcrMismatch { name: "s".into() });
        assert!(mismatch.withdraws_secrets());
        assert_eq!(mismatch.disposition(), Disposition::Retry);
    }

    #[test]
    fn invalid_argument_is_fatal_with_the_protocol_exit_code() {
        assert_eq!(
            rpc_error(Code::InvalidArgument).disposition(),
            Disposition::Fatal(76)
        );
    }

    #[test]
    fn an_untrusted_server_certificate_is_a_fatal_configuration_error() {
        let error = AttemptError::Connect(ConnectError::Untrusted {
            detail: "invalid peer certificate: UnknownIssuer".into(),
        });
        assert_eq!(error.disposition(), Disposition::Fatal(78));
        let refused = AttemptError::Connect(ConnectError::Unreachable {
            address: "x:1".into(),
            detail: "connection refused".into(),
        });
        assert_eq!(refused.disposition(), Disposition::Retry);
    }

    #[test]
    fn denial_details_become_failed_check_names() {
        let denial = pb::Denial {
            checks: vec![
                pb::CheckResult {
                    name: "instance.user_data".into(),
                    outcome: pb::CheckOutcome::Fail as i32,
                    reason: "hash changed".into(),
                },
                pb::CheckResult {
                    name: "auditlog.clean".into(),
                    outcome: pb::CheckOutcome::Fail as i32,
                    reason: "setMetadata".into(),
                },
            ],
            pending_approval: false,
        };
        let status = tokendist_proto::denial_status("denied", &denial);
        let error = AttemptError::rpc("GetToken", status);
        assert_eq!(
            error.failed_checks(),
            ["instance.user_data", "auditlog.clean"]
        );
        assert!(error.is_refusal());
        assert!(!error.is_pending_approval());
    }

    #[test]
    fn an_unauthenticated_refusal_has_no_check_names_but_keeps_its_message() {
        let status = tonic::Status::unauthenticated("identity token refused (identity.fresh)");
        let error = AttemptError::rpc("GetToken", status);
        assert!(error.is_refusal());
        assert!(error.failed_checks().is_empty());
        assert!(error.to_string().contains("identity.fresh"), "{error}");
    }
}
