//! Turns a Google client-library error into the operator-safe [`FetchError`] the checks carry,
//! classified by HTTP status (Compute error bodies have no `status` field, so the gRPC code alone
//! would say `Unknown`).

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Code;
use tokendist_core::evidence::{FetchError, FetchErrorKind};

/// Classifies `err` from the API call `api` (e.g. `compute.instances.get`).
pub(crate) fn from_gax(api: &str, err: &GaxError) -> FetchError {
    let (kind, detail) = classify(err);
    FetchError {
        api: api.to_owned(),
        kind,
        message: detail,
    }
}

/// A [`FetchErrorKind::Malformed`] error for a response that lacks something the checks need.
pub(crate) fn malformed(api: &str, message: impl Into<String>) -> FetchError {
    FetchError {
        api: api.to_owned(),
        kind: FetchErrorKind::Malformed,
        message: message.into(),
    }
}

fn classify(err: &GaxError) -> (FetchErrorKind, String) {
    if let Some(code) = err.http_status_code() {
        let reason = err.status().map(|s| s.message.clone()).unwrap_or_default();
        let kind = kind_for_http_status(code);
        return (kind, http_message(code, kind, &reason));
    }
    if let Some(status) = err.status() {
        let kind = match status.code {
            Code::NotFound => FetchErrorKind::NotFound,
            Code::PermissionDenied | Code::Unauthenticated => FetchErrorKind::PermissionDenied,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                FetchErrorKind::Malformed
            }
            _ => FetchErrorKind::Unavailable,
        };
        return (kind, format!("{}: {}", status.code.name(), status.message));
    }
    if err.is_deserialization() {
        return (
            FetchErrorKind::Malformed,
            format!(
                "the response could not be decoded ({err}); check the endpoint is a Google API"
            ),
        );
    }
    if err.is_authentication() {
        return (
            FetchErrorKind::PermissionDenied,
            format!(
                "could not obtain credentials ({err}); check Application Default Credentials or use anonymous credentials for gcpsim"
            ),
        );
    }
    if err.is_timeout() {
        return (
            FetchErrorKind::Unavailable,
            "the request timed out; the API is slow or unreachable, retry later".to_owned(),
        );
    }
    (
        FetchErrorKind::Unavailable,
        format!("the request failed ({err}); check the endpoint is reachable, then retry"),
    )
}

/// Maps an HTTP status to the kind of failure the checks report.
pub(crate) fn kind_for_http_status(code: u16) -> FetchErrorKind {
    match code {
        404 | 410 => FetchErrorKind::NotFound,
        401 | 403 => FetchErrorKind::PermissionDenied,
        408 | 429 | 500..=599 => FetchErrorKind::Unavailable,
        _ => FetchErrorKind::Malformed,
    }
}

fn http_message(code: u16, kind: FetchErrorKind, reason: &str) -> String {
    let advice = match kind {
        FetchErrorKind::NotFound => "the resource does not exist (any more)",
        FetchErrorKind::PermissionDenied => "grant the token server read access to this resource",
        FetchErrorKind::Unavailable => "the API is unavailable; retry later",
        FetchErrorKind::Malformed => "the API rejected the request",
    };
    if reason.is_empty() {
        format!("HTTP {code}: {advice}")
    } else {
        format!("HTTP {code}: {reason} ({advice})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_the_fetch_error_kinds_the_checks_use() {
        assert_eq!(kind_for_http_status(404), FetchErrorKind::NotFound);
        assert_eq!(kind_for_http_status(403), FetchErrorKind::PermissionDenied);
        assert_eq!(kind_for_http_status(401), FetchErrorKind::PermissionDenied);
        assert_eq!(kind_for_http_status(503), FetchErrorKind::Unavailable);
        assert_eq!(kind_for_http_status(429), FetchErrorKind::Unavailable);
        assert_eq!(kind_for_http_status(400), FetchErrorKind::Malformed);
    }

    #[test]
    fn compute_404_body_without_status_field_is_not_found() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/gce/compute-error-404-notfound-instance-assembled.json"
        ))
        .unwrap();
        let err = GaxError::http(404, Default::default(), body.into());
        let fetch = from_gax("compute.instances.get", &err);
        assert_eq!(fetch.kind, FetchErrorKind::NotFound);
        assert_eq!(fetch.api, "compute.instances.get");
        assert!(fetch.message.starts_with("HTTP 404"), "{}", fetch.message);
    }

    #[test]
    fn compute_503_backend_error_is_unavailable() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/gce/compute-error-503-backenderror.json"
        ))
        .unwrap();
        let err = GaxError::http(503, Default::default(), body.into());
        assert_eq!(
            from_gax("compute.disks.get", &err).kind,
            FetchErrorKind::Unavailable
        );
    }
}
