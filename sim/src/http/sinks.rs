//! Cloud Logging `projects.sinks` (v2 REST): `POST /v2/projects/P/sinks` (create,
//! `?uniqueWriterIdentity=`), `GET /v2/projects/P/sinks` (list), `GET` / `DELETE
//! /v2/projects/P/sinks/NAME`. Updates are not simulated (UNIMPLEMENTED, never a silent no-op).

use axum::http::Method;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::google_error::json_response;
use crate::handle::SimHandle;
use crate::sinks::{NewSink, SinkError};

/// The `LogSink` fields a create request may carry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogSinkBody {
    name: String,
    destination: String,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    exclusions: Vec<Value>,
    #[serde(default)]
    include_children: bool,
    /// Output-only or unused by Pub/Sub sinks; accepted and ignored like Logging does.
    #[serde(flatten)]
    _rest: serde_json::Map<String, Value>,
}

fn error_response(error: &SinkError) -> Response {
    json_response(
        error.code,
        &json!({ "error": { "code": error.code, "message": error.message, "status": error.status } }),
    )
}

fn unique_writer_identity(query: &str) -> bool {
    query.split('&').any(|pair| {
        matches!(
            pair.split_once('='),
            Some(("uniqueWriterIdentity", "true" | "True" | "1"))
        )
    })
}

/// `rest` is the path after `/v2/projects/`.
pub(super) fn handle(
    handle: &SimHandle,
    method: &Method,
    rest: &str,
    query: &str,
    body: &[u8],
) -> Response {
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let result = match (segments.as_slice(), method) {
        ([project, "sinks"], &Method::POST) => create(handle, project, query, body),
        ([project, "sinks"], &Method::GET) => {
            let world = handle.lock();
            let sinks: Vec<Value> = world
                .sinks
                .list(project)
                .iter()
                .map(|s| s.to_json())
                .collect();
            Ok(if sinks.is_empty() {
                json!({})
            } else {
                json!({ "sinks": sinks })
            })
        }
        ([project, "sinks", name], &Method::GET) => {
            handle.lock().sinks.get(project, name).map(|s| s.to_json())
        }
        ([project, "sinks", name], &Method::DELETE) => handle
            .lock()
            .sinks
            .delete(project, name)
            .map(|()| json!({})),
        ([_, "sinks", _], _) => Err(SinkError {
            code: 501,
            status: "UNIMPLEMENTED",
            message: format!(
                "gcpsim does not simulate {method} on sinks (create, get, list, delete only)"
            ),
        }),
        _ => Err(SinkError {
            code: 404,
            status: "NOT_FOUND",
            message: format!("The requested URL /v2/projects/{rest} was not found on this server."),
        }),
    };
    match result {
        Ok(value) => json_response(200, &value),
        Err(error) => error_response(&error),
    }
}

fn create(handle: &SimHandle, project: &str, query: &str, body: &[u8]) -> Result<Value, SinkError> {
    let sink: LogSinkBody = serde_json::from_slice(body)
        .map_err(|e| SinkError::invalid(format!("Invalid JSON payload received. {e}")))?;
    if !sink.exclusions.is_empty() || sink.include_children {
        return Err(SinkError::invalid(
            "gcpsim does not simulate sink exclusions or includeChildren",
        ));
    }
    let mut world = handle.lock();
    let number = world
        .project(project)
        .map(|p| p.spec.number.to_string())
        .ok_or_else(|| SinkError {
            code: 404,
            status: "NOT_FOUND",
            message: format!("Project {project} not found"),
        })?;
    let request = NewSink {
        name: sink.name,
        destination: sink.destination,
        filter: sink.filter,
        description: sink.description,
        disabled: sink.disabled,
        unique_writer_identity: unique_writer_identity(query),
    };
    world
        .sinks
        .create(project, &number, request, Utc::now())
        .map(|s| s.to_json())
}
