//! `GET /oauth2/v3/certs`: the JWKS with Google's caching headers.

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::apply_fault;
use crate::faults::Api;
use crate::google_error::{RpcError, json_response};
use crate::handle::SimHandle;

pub(super) async fn certs(handle: &SimHandle, method: &Method) -> Response {
    if let Some(status) = apply_fault(handle, Api::Jwks).await {
        return RpcError::injected(status).into_response();
    }
    if method != Method::GET {
        return RpcError {
            code: 405,
            message: "Method not allowed; use GET".to_string(),
        }
        .into_response();
    }
    let (jwks, max_age) = {
        let world = handle.lock();
        (world.keys.jwks(), world.jwks_max_age_secs)
    };
    let mut response = json_response(200, &jwks);
    let expires =
        Utc::now() + chrono::Duration::seconds(i64::try_from(max_age).unwrap_or(i64::MAX / 2));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "public, max-age={max_age}, must-revalidate, no-transform"
    )) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) =
        HeaderValue::from_str(&expires.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        headers.insert(header::EXPIRES, value);
    }
    if let Ok(value) =
        HeaderValue::from_str(&Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        headers.insert(header::DATE, value);
    }
    headers.insert(
        header::SERVER,
        HeaderValue::from_static("scaffolding on HTTPServer2"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Origin,X-Origin,Referer,Accept-Encoding"),
    );
    response
}
