//! `compute#operation` objects (zonal and global), always `DONE`: gcsim completes work immediately.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::compute_links::{COMPUTE_BASE, compute_time};
use crate::fingerprint::{new_numeric_id, operation_name};

/// Where the operation lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    Zone { project: &'a str, zone: &'a str },
    Global { project: &'a str },
}

/// A finished operation of `operation_type` on `target_link` / `target_id`.
pub(crate) fn done(
    scope: Scope<'_>,
    operation_type: &str,
    target_link: &str,
    target_id: &str,
    user: &str,
    now: DateTime<Utc>,
) -> Value {
    let name = operation_name(now);
    let id = new_numeric_id();
    let base = match scope {
        Scope::Zone { project, zone } => {
            format!("{COMPUTE_BASE}projects/{project}/zones/{zone}/operations/")
        }
        Scope::Global { project } => format!("{COMPUTE_BASE}projects/{project}/global/operations/"),
    };
    let time = compute_time(now);
    let mut op = json!({
        "kind": "compute#operation",
        "id": id,
        "name": name,
        "operationType": operation_type,
        "targetLink": target_link,
        "targetId": target_id,
        "status": "DONE",
        "user": user,
        "progress": 100,
        "insertTime": time,
        "startTime": time,
        "endTime": time,
        "selfLink": format!("{base}{name}"),
        "selfLinkWithId": format!("{base}{id}"),
    });
    if let (Scope::Zone { project, zone }, Some(map)) = (scope, op.as_object_mut()) {
        map.insert(
            "zone".into(),
            json!(format!("{COMPUTE_BASE}projects/{project}/zones/{zone}")),
        );
    }
    op
}
