//! Google's JSON error envelopes: Compute's (`errors[]` with domain/reason) and the newer
//! `google.rpc.Status` style Cloud Logging uses (`status: INVALID_ARGUMENT`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A Compute API error: HTTP code, `errors[].reason`, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComputeError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `(location, locationType)` for precondition errors.
    pub location: Option<(&'static str, &'static str)>,
}

impl ComputeError {
    pub(crate) fn not_found(resource_path: &str) -> ComputeError {
        ComputeError {
            code: 404,
            reason: "notFound",
            message: format!("The resource '{resource_path}' was not found"),
            location: None,
        }
    }

    pub(crate) fn stale_fingerprint() -> ComputeError {
        ComputeError {
            code: 412,
            reason: "conditionNotMet",
            message: "Supplied fingerprint does not match current metadata fingerprint."
                .to_string(),
            location: Some(("If-Match", "header")),
        }
    }

    pub(crate) fn bad_request(reason: &'static str, message: impl Into<String>) -> ComputeError {
        ComputeError {
            code: 400,
            reason,
            message: message.into(),
            location: None,
        }
    }

    /// The error an injected fault returns for `code` (503 is Compute's `backendError`).
    pub(crate) fn injected(code: u16) -> ComputeError {
        let (reason, message) = match code {
            503 => (
                "backendError",
                "Internal error. Please try again or contact Google Support. (Code: 'gcpsim-injected-fault')",
            ),
            500 => ("internalError", "Internal error encountered."),
            429 => ("rateLimitExceeded", "Rate Limit Exceeded"),
            403 => (
                "forbidden",
                "Required permission denied (gcpsim injected fault)",
            ),
            404 => (
                "notFound",
                "The resource was not found (gcpsim injected fault)",
            ),
            412 => (
                "conditionNotMet",
                "Supplied fingerprint does not match current metadata fingerprint.",
            ),
            409 => (
                "resourceNotReady",
                "The resource is not ready (gcpsim injected fault)",
            ),
            _ => ("badRequest", "Injected fault (gcpsim)"),
        };
        ComputeError {
            code,
            reason,
            message: message.to_string(),
            location: None,
        }
    }

    /// The JSON body, shaped like `compute-error-*.json`.
    pub(crate) fn body(&self) -> Value {
        let mut item = json!({
            "message": self.message,
            "domain": "global",
            "reason": self.reason,
        });
        if let (Some((location, location_type)), Some(map)) = (self.location, item.as_object_mut())
        {
            map.insert("location".into(), json!(location));
            map.insert("locationType".into(), json!(location_type));
        }
        json!({ "error": { "code": self.code, "message": self.message, "errors": [item] } })
    }
}

impl IntoResponse for ComputeError {
    fn into_response(self) -> Response {
        json_response(self.code, &self.body())
    }
}

/// A `google.rpc.Status` style error (Cloud Logging, OAuth endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RpcError {
    pub code: u16,
    pub message: String,
}

impl RpcError {
    pub(crate) fn invalid_argument(message: impl Into<String>) -> RpcError {
        RpcError {
            code: 400,
            message: message.into(),
        }
    }

    /// Google's canonical status name for an HTTP code.
    pub(crate) fn status_name(code: u16) -> &'static str {
        match code {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ABORTED",
            412 => "FAILED_PRECONDITION",
            429 => "RESOURCE_EXHAUSTED",
            500 => "INTERNAL",
            501 => "UNIMPLEMENTED",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            _ => "UNKNOWN",
        }
    }

    pub(crate) fn injected(code: u16) -> RpcError {
        let message = match code {
            503 => "The service is currently unavailable.",
            429 => "Quota exceeded (gcpsim injected fault).",
            _ => "Injected fault (gcpsim).",
        };
        RpcError {
            code,
            message: message.to_string(),
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "error": {
            "code": self.code,
            "message": self.message,
            "status": RpcError::status_name(self.code),
        }})
    }
}

impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        json_response(self.code, &self.body())
    }
}

/// A JSON response with Google's content type.
pub(crate) fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}
