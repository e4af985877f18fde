//! HTTP front ends: the API listener (Compute, Logging, JWKS, admin) and per-VM metadata servers.
//! Routing is on the path only (query parameters such as `alt`/`$alt` are ignored), so unknown
//! paths get Google's own error shapes rather than a framework default.

mod admin;
mod compute;
pub(crate) mod error_pages;
mod jwks;
mod logging;
mod metadata;
mod sinks;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

use crate::google_error::ComputeError;
use crate::handle::SimHandle;

/// The API listener's router.
pub(crate) fn api_router(handle: SimHandle) -> Router {
    Router::new().fallback(dispatch).with_state(handle)
}

/// A VM's metadata-server router.
pub(crate) fn metadata_router(handle: SimHandle, vm: String) -> Router {
    Router::new()
        .fallback(metadata::serve)
        .with_state(metadata::MetadataState { handle, vm })
}

async fn dispatch(
    State(handle): State<SimHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    tracing::debug!(%method, %path, "api request");
    if let Some(id) = crate::traffic::method_id(&method, &path) {
        let latency = handle.record_request(&id);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
    if let Some(rest) = path.strip_prefix("/compute/v1/") {
        return compute::handle(&handle, &method, rest, uri.query().unwrap_or(""), &body).await;
    }
    if let Some(rest) = path.strip_prefix("/v2/projects/") {
        return sinks::handle(&handle, &method, rest, uri.query().unwrap_or(""), &body);
    }
    if path == "/v2/entries:list" {
        return logging::list(&handle, &method, &body).await;
    }
    if path == "/oauth2/v3/certs" {
        return jwks::certs(&handle, &method).await;
    }
    if let Some(rest) = path.strip_prefix("/admin/v1/") {
        return admin::handle(&handle, &method, rest, &headers, &body).await;
    }
    use axum::response::IntoResponse;
    ComputeError {
        code: 404,
        reason: "notFound",
        message: format!("The requested URL {path} was not found on this server."),
        location: None,
    }
    .into_response()
}

/// Applies an injected fault's latency; returns its status if the request must fail.
async fn apply_fault(handle: &SimHandle, api: crate::faults::Api) -> Option<u16> {
    let action = handle.take_fault(api)?;
    if !action.latency.is_zero() {
        tokio::time::sleep(action.latency).await;
    }
    action.status
}
