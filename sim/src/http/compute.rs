//! Compute Engine REST (`/compute/v1/...`): instances get/getShieldedInstanceIdentity/setMetadata/
//! stop/start, disks, images, projects get/setCommonInstanceMetadata, zonal and global operations.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use super::apply_fault;
use crate::faults::Api;
use crate::google_error::{ComputeError, json_response};
use crate::handle::SimHandle;
use crate::resources::{disk, image, instance, project, shielded};
use crate::world::MetadataUpdate;

#[derive(Debug, Deserialize)]
struct MetadataBody {
    fingerprint: Option<String>,
    #[serde(default)]
    items: Vec<ItemBody>,
}

#[derive(Debug, Deserialize)]
struct ItemBody {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

fn parse_metadata(body: &[u8]) -> Result<MetadataUpdate, ComputeError> {
    let parsed: MetadataBody = serde_json::from_slice(body).map_err(|e| {
        ComputeError::bad_request("parseError", format!("Invalid JSON payload received. {e}"))
    })?;
    Ok(MetadataUpdate {
        fingerprint: parsed.fingerprint,
        items: parsed
            .items
            .into_iter()
            .map(|item| (item.key, item.value.unwrap_or_default()))
            .collect(),
    })
}

fn ok(value: Value) -> Response {
    json_response(200, &value)
}

/// Handles `rest` = the path after `/compute/v1/`.
pub(super) async fn handle(
    handle: &SimHandle,
    method: &Method,
    rest: &str,
    body: &[u8],
) -> Response {
    if let Some(status) = apply_fault(handle, Api::Compute).await {
        return ComputeError::injected(status).into_response();
    }
    match route(handle, method, rest, body) {
        Ok(value) => ok(value),
        Err(error) => {
            tracing::debug!(code = error.code, reason = error.reason, "compute error");
            error.into_response()
        }
    }
}

fn route(
    handle: &SimHandle,
    method: &Method,
    rest: &str,
    body: &[u8],
) -> Result<Value, ComputeError> {
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let get = method == Method::GET;
    let post = method == Method::POST;
    let now = Utc::now();
    let mut world = handle.lock();
    match segments.as_slice() {
        ["projects", p] if get => world
            .project(p)
            .map(project::project)
            .ok_or_else(|| ComputeError::not_found(&format!("projects/{p}"))),
        ["projects", p, "setCommonInstanceMetadata"] if post => {
            let update = parse_metadata(body)?;
            world.set_common_metadata(p, &update, now)
        }
        ["projects", p, "zones", z, "instances", vm] if get => world
            .vm_at(p, z, vm)
            .map(instance::instance)
            .ok_or_else(|| instance_not_found(p, z, vm)),
        [
            "projects",
            p,
            "zones",
            z,
            "instances",
            vm,
            "getShieldedInstanceIdentity",
        ] if get => world
            .vm_at(p, z, vm)
            .map(shielded::shielded_identity)
            .ok_or_else(|| instance_not_found(p, z, vm)),
        ["projects", p, "zones", z, "instances", vm, "setMetadata"] if post => {
            if world.vm_at(p, z, vm).is_none() {
                return Err(instance_not_found(p, z, vm));
            }
            let update = parse_metadata(body)?;
            world.set_instance_metadata(p, z, vm, &update, now)
        }
        [
            "projects",
            p,
            "zones",
            z,
            "instances",
            vm,
            action @ ("stop" | "start"),
        ] if post => world.set_instance_running(p, z, vm, *action == "start", now),
        ["projects", p, "zones", z, "disks", d] if get => world
            .vm_at(p, z, d)
            .map(disk::boot_disk)
            .ok_or_else(|| ComputeError::not_found(&format!("projects/{p}/zones/{z}/disks/{d}"))),
        ["projects", p, "global", "images", i] if get => {
            let url = format!(
                "{}projects/{p}/global/images/{i}",
                crate::resources::COMPUTE_BASE
            );
            world
                .vms
                .iter()
                .find(|vm| vm.spec.boot_image == url)
                .map(|vm| {
                    image::image(
                        p,
                        i,
                        &vm.spec.license_codes,
                        vm.spec.created - chrono::Duration::days(30),
                    )
                })
                .ok_or_else(|| ComputeError::not_found(&format!("projects/{p}/global/images/{i}")))
        }
        ["projects", p, "zones", z, "operations", op] if get => world.operation(p, Some(z), op),
        ["projects", p, "zones", z, "operations", op, "wait"] if post => {
            world.operation(p, Some(z), op)
        }
        ["projects", p, "global", "operations", op] if get => world.operation(p, None, op),
        ["projects", p, "global", "operations", op, "wait"] if post => world.operation(p, None, op),
        _ => Err(ComputeError::not_found(rest.trim_end_matches('/'))),
    }
}

fn instance_not_found(project: &str, zone: &str, name: &str) -> ComputeError {
    ComputeError::not_found(&format!("projects/{project}/zones/{zone}/instances/{name}"))
}
