//! Cloud Logging `POST /v2/entries:list`: resource names, filter, ordering and opaque page tokens.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::apply_fault;
use crate::faults::Api;
use crate::google_error::{RpcError, json_response};
use crate::handle::SimHandle;
use crate::logfilter;

/// Google's default and maximum page sizes for entries.list.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 50;
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListRequest {
    #[serde(default)]
    resource_names: Vec<String>,
    #[serde(default)]
    project_ids: Vec<String>,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    order_by: String,
    #[serde(default)]
    page_size: i64,
    #[serde(default)]
    page_token: String,
}

fn query_hash(projects: &[String], filter: &str, descending: bool) -> String {
    let digest = Sha256::digest(format!("{projects:?}|{filter}|{descending}").as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) async fn list(handle: &SimHandle, method: &Method, body: &[u8]) -> Response {
    if let Some(status) = apply_fault(handle, Api::Logging).await {
        return RpcError::injected(status).into_response();
    }
    if method != Method::POST {
        return RpcError {
            code: 404,
            message: "entries.list is POST /v2/entries:list".to_string(),
        }
        .into_response();
    }
    match list_entries(handle, body) {
        Ok(value) => json_response(200, &value),
        Err(error) => error.into_response(),
    }
}

fn list_entries(handle: &SimHandle, body: &[u8]) -> Result<Value, RpcError> {
    let request: ListRequest = serde_json::from_slice(body)
        .map_err(|e| RpcError::invalid_argument(format!("Invalid JSON payload received. {e}")))?;
    let mut projects = Vec::new();
    for name in &request.resource_names {
        match name.strip_prefix("projects/") {
            Some(project) if !project.is_empty() && !project.contains('/') => {
                projects.push(project.to_string())
            }
            _ => {
                return Err(RpcError::invalid_argument(format!(
                    "Invalid resource name \"{name}\": gcpsim supports projects/PROJECT_ID only"
                )));
            }
        }
    }
    projects.extend(request.project_ids.iter().cloned());
    if projects.is_empty() {
        return Err(RpcError::invalid_argument(
            "resourceNames must contain at least one projects/PROJECT_ID",
        ));
    }
    let filter = logfilter::parse(&request.filter)
        .map_err(|e| RpcError::invalid_argument(format!("Unparseable filter: {e}")))?;
    let descending = match request.order_by.trim() {
        "" | "timestamp" | "timestamp asc" => false,
        "timestamp desc" => true,
        other => {
            return Err(RpcError::invalid_argument(format!(
                "Invalid orderBy \"{other}\"; use \"timestamp asc\" or \"timestamp desc\""
            )));
        }
    };
    let page_size = match request.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 || n > MAX_PAGE_SIZE as i64 => {
            return Err(RpcError::invalid_argument(format!(
                "pageSize {n} is out of range; use 1..={MAX_PAGE_SIZE}"
            )));
        }
        n => usize::try_from(n).unwrap_or(DEFAULT_PAGE_SIZE),
    };
    let hash = query_hash(&projects, &request.filter, descending);
    let offset = if request.page_token.is_empty() {
        0
    } else {
        decode_token(&request.page_token, &hash)?
    };
    let mut matching: Vec<(chrono::DateTime<chrono::Utc>, u64, Value)> = {
        let world = handle.lock();
        world
            .audit
            .iter()
            .filter(|record| {
                let log_name = record.entry["logName"].as_str().unwrap_or("");
                projects
                    .iter()
                    .any(|p| log_name.starts_with(&format!("projects/{p}/logs/")))
                    && filter.matches(&record.entry)
            })
            .map(|record| (record.time, record.sequence, record.entry.clone()))
            .collect()
    };
    matching.sort_by_key(|entry| (entry.0, entry.1));
    if descending {
        matching.reverse();
    }
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|(_, _, entry)| entry.clone())
        .collect();
    let mut response = Map::new();
    if !page.is_empty() {
        response.insert("entries".into(), Value::Array(page));
    }
    if offset + page_size < matching.len() {
        let token = URL_SAFE_NO_PAD.encode(format!("gcpsim:{}:{hash}", offset + page_size));
        response.insert("nextPageToken".into(), json!(token));
    }
    Ok(Value::Object(response))
}

fn decode_token(token: &str, hash: &str) -> Result<usize, RpcError> {
    let invalid = || {
        RpcError::invalid_argument(format!(
            "Invalid page token \"{token}\" for this request; page tokens are valid only with the same resourceNames, filter and orderBy"
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("gcpsim"), Some(offset), Some(token_hash), None) if token_hash == hash => {
            offset.parse().map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}
