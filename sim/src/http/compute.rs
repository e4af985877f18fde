//! Compute Engine REST (`/compute/v1/...`): instances get/getShieldedInstanceIdentity/setMetadata/
//! stop/start/attachDisk/detachDisk, disks get/createSnapshot, snapshots get, images, projects
//! get/setCommonInstanceMetadata, zonal and global operations. Reads write `data_access` entries
//! when the scenario turns Data Access logs on.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use super::apply_fault;
use crate::audit::AuditResource;
use crate::compute_links::COMPUTE_BASE;
use crate::faults::Api;
use crate::google_error::{ComputeError, json_response};
use crate::handle::SimHandle;
use crate::resources::{disk, image, instance, project, shielded};
use crate::world::{AttachRequest, MetadataUpdate};

#[derive(Debug, Deserialize)]
struct SnapshotBody {
    #[serde(default)]
    name: String,
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ComputeError> {
    serde_json::from_slice(body).map_err(|e| {
        ComputeError::bad_request("parseError", format!("Invalid JSON payload received. {e}"))
    })
}

/// The value of `name` in a query string (`deviceName=persistent-disk-1&alt=json`).
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

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
    query: &str,
    body: &[u8],
) -> Response {
    if let Some(status) = apply_fault(handle, Api::Compute).await {
        return ComputeError::injected(status).into_response();
    }
    match route(handle, method, rest, query, body) {
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
    query: &str,
    body: &[u8],
) -> Result<Value, ComputeError> {
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let get = method == Method::GET;
    let post = method == Method::POST;
    let now = Utc::now();
    let mut world = handle.lock();
    match segments.as_slice() {
        ["projects", p] if get => {
            let value = world
                .project(p)
                .map(project::project)
                .ok_or_else(|| ComputeError::not_found(&format!("projects/{p}")))?;
            let resource = AuditResource::Project {
                project: p.to_string(),
            };
            world.record_read("v1.compute.projects.get", resource, now);
            Ok(value)
        }
        ["projects", p, "setCommonInstanceMetadata"] if post => {
            let update = parse_metadata(body)?;
            world.set_common_metadata(p, &update, now)
        }
        ["projects", p, "zones", z, "instances", vm] if get => {
            let state = world
                .vm_at(p, z, vm)
                .ok_or_else(|| instance_not_found(p, z, vm))?;
            let (value, resource) = (
                instance::instance(state),
                AuditResource::instance(&state.spec),
            );
            world.record_read("v1.compute.instances.get", resource, now);
            Ok(value)
        }
        [
            "projects",
            p,
            "zones",
            z,
            "instances",
            vm,
            "getShieldedInstanceIdentity",
        ] if get => {
            let state = world
                .vm_at(p, z, vm)
                .ok_or_else(|| instance_not_found(p, z, vm))?;
            let value = shielded::shielded_identity(state);
            let resource = AuditResource::instance(&state.spec);
            world.record_read(
                "v1.compute.instances.getShieldedInstanceIdentity",
                resource,
                now,
            );
            Ok(value)
        }
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
        ["projects", p, "zones", z, "instances", vm, "attachDisk"] if post => {
            let request: AttachRequest = parse_body(body)?;
            world.attach_disk(p, z, vm, &request, now)
        }
        ["projects", p, "zones", z, "instances", vm, "detachDisk"] if post => {
            let device = query_value(query, "deviceName").ok_or_else(|| {
                ComputeError::bad_request(
                    "required",
                    "Required parameter 'deviceName' not specified".to_string(),
                )
            })?;
            world.detach_disk(p, z, vm, device, now)
        }
        ["projects", p, "zones", z, "disks", d] if get => {
            let state = world.vm_with_boot_disk(p, z, d)?;
            let (value, resource) = (disk::boot_disk(state), state.disk.audit_resource());
            world.record_read("v1.compute.disks.get", resource, now);
            Ok(value)
        }
        ["projects", p, "zones", z, "disks", d, "createSnapshot"] if post => {
            let request: SnapshotBody = parse_body(body)?;
            world.create_snapshot(p, z, d, &request.name, now)
        }
        ["projects", p, "global", "snapshots", name] if get => world.snapshot(p, name),
        ["projects", p, "global", "images", i] if get => {
            let url = format!("{COMPUTE_BASE}projects/{p}/global/images/{i}");
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
