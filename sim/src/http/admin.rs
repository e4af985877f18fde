//! The admin API under `/admin/v1/` (JSON in, JSON out): key rotation, an impostor key under the
//! current kid, faults, audit entries, minted identity tokens, EK (and EK certificate) replacement,
//! a same-name replacement of an instance, principal, Data Access logging of reads, requests per
//! Google method (`GET stats`) and injected latency per method (`latency`). Mirrors the
//! `SimHandle` methods.

use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::SimError;
use crate::faults::{Api, FaultSpec};
use crate::google_error::{RpcError, json_response};
use crate::handle::{AuditEntryInput, MintTokenRequest, SimHandle};
use crate::traffic::LatencySpec;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    #[serde(default)]
    drop_previous: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClearFaultsRequest {
    #[serde(default)]
    api: Option<Api>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EkRequest {
    /// The EK public key PEM (`pem` is the older name of this field).
    #[serde(rename = "ekPub", alias = "pem")]
    ek_pub: String,
    /// The EK certificate PEM; absent: the VM serves no `ekCert`.
    #[serde(rename = "ekCert", default)]
    ek_cert: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataAccessReadsRequest {
    enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalRequest {
    email: String,
}

fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, RpcError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_required(body)
}

fn parse_required<T: DeserializeOwned>(body: &[u8]) -> Result<T, RpcError> {
    serde_json::from_slice(body)
        .map_err(|e| RpcError::invalid_argument(format!("Invalid JSON payload received. {e}")))
}

fn sim_error(error: SimError) -> RpcError {
    let code = match error {
        SimError::UnknownVm(_) | SimError::UnknownProject(_) => 404,
        SimError::InvalidRequest(_) => 400,
        _ => 500,
    };
    RpcError {
        code,
        message: error.to_string(),
    }
}

pub(super) async fn handle(
    handle: &SimHandle,
    method: &Method,
    rest: &str,
    _headers: &HeaderMap,
    body: &[u8],
) -> Response {
    match route(handle, method, rest, body) {
        Ok(value) => json_response(200, &value),
        Err(error) => error.into_response(),
    }
}

fn route(handle: &SimHandle, method: &Method, rest: &str, body: &[u8]) -> Result<Value, RpcError> {
    let post = method == Method::POST;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        ["keys:rotate"] if post => {
            let request: RotateRequest = parse(body)?;
            let result = handle
                .rotate_keys(request.drop_previous)
                .map_err(sim_error)?;
            Ok(json!(result))
        }
        ["keys:addImpostor"] if post => {
            let result = handle.add_impostor_key().map_err(sim_error)?;
            Ok(json!(result))
        }
        ["instances", vm, "replacement"] if post => {
            let id = handle.replace_instance(vm).map_err(sim_error)?;
            Ok(json!({ "id": id.to_string() }))
        }
        ["faults"] if post => {
            let spec: FaultSpec = parse_required(body)?;
            handle.inject_fault(spec).map_err(sim_error)?;
            Ok(json!({}))
        }
        ["stats"] if method == Method::GET => Ok(json!(handle.traffic())),
        ["latency"] if post => {
            let spec: LatencySpec = parse_required(body)?;
            handle.set_latency(&spec);
            Ok(json!(handle.traffic().latency_ms))
        }
        ["faults:clear"] if post => {
            let request: ClearFaultsRequest = parse(body)?;
            handle.clear_faults(request.api);
            Ok(json!({}))
        }
        ["auditEntries"] if post => {
            let input: AuditEntryInput = parse_required(body)?;
            handle.add_audit_entry(input).map_err(sim_error)?;
            Ok(json!({}))
        }
        ["identityTokens"] if post => {
            let request: MintTokenRequest = parse_required(body)?;
            let token = handle.mint_identity_token(&request).map_err(sim_error)?;
            Ok(json!({ "token": token }))
        }
        ["instances", vm, "ek"] if post => {
            let request: EkRequest = parse_required(body)?;
            handle
                .set_ek(vm, &request.ek_pub, request.ek_cert.as_deref())
                .map_err(sim_error)?;
            Ok(json!({}))
        }
        ["dataAccessReads"] if post => {
            let request: DataAccessReadsRequest = parse_required(body)?;
            handle.set_data_access_reads(request.enabled);
            Ok(json!({}))
        }
        ["principal"] if post => {
            let request: PrincipalRequest = parse_required(body)?;
            handle.set_principal(&request.email);
            Ok(json!({}))
        }
        _ => Err(RpcError {
            code: 404,
            message: format!(
                "unknown admin endpoint {method} /admin/v1/{rest}; see `gcpsim --help` or sim/README.md"
            ),
        }),
    }
}
