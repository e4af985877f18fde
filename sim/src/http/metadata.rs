//! A VM's metadata server (`/computeMetadata/v1/...`): header rules, the value tree (text leaves,
//! directory listings, `?recursive=true` JSON), identity tokens and access tokens.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::apply_fault;
use super::error_pages;
use crate::faults::Api;
use crate::fingerprint::new_token;
use crate::handle::SimHandle;
use crate::identity::IdentityRequest;
use crate::world::World;

const PREFIX: &str = "/computeMetadata/v1";

/// State of one VM's metadata listener.
#[derive(Debug, Clone)]
pub(crate) struct MetadataState {
    pub handle: SimHandle,
    pub vm: String,
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let etag = {
        let digest = Sha256::digest(body.as_bytes());
        digest[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("Metadata-Flavor", HeaderValue::from_static("Google"));
    headers.insert(
        header::SERVER,
        HeaderValue::from_static("Metadata Server for VM"),
    );
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("X-XSS-Protection", HeaderValue::from_static("0"));
    headers.insert("X-Frame-Options", HeaderValue::from_static("SAMEORIGIN"));
    if status == StatusCode::OK
        && let Ok(value) = HeaderValue::from_str(&etag)
    {
        headers.insert(header::ETAG, value);
    }
    response
}

fn html(status: StatusCode, body: String) -> Response {
    respond(status, "text/html; charset=UTF-8", body)
}

fn text(body: String) -> Response {
    respond(StatusCode::OK, "application/text", body)
}

fn json_body(value: &Value) -> Response {
    respond(StatusCode::OK, "application/json", value.to_string())
}

/// Decodes `a=b&c=d` with percent-escapes and `+` as space.
fn query_params(uri: &Uri) -> BTreeMap<String, String> {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push(high * 16 + low);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

pub(crate) async fn serve(
    State(state): State<MetadataState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    if headers.contains_key("x-forwarded-for") {
        return html(StatusCode::FORBIDDEN, error_pages::forwarded_page(&path));
    }
    let flavor_ok = headers
        .get("metadata-flavor")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Google");
    if !flavor_ok {
        return html(
            StatusCode::FORBIDDEN,
            error_pages::missing_flavor_page(&path),
        );
    }
    if let Some(status) = apply_fault(&state.handle, Api::Metadata).await {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return respond(code, "text/plain; charset=utf-8", format!("{code}\n"));
    }
    if method != Method::GET {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "Method Not Allowed\n".into(),
        );
    }
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return html(StatusCode::NOT_FOUND, error_pages::not_found_page(&path));
    };
    let rest = rest.trim_start_matches('/');
    let params = query_params(&uri);
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if let [
        "instance",
        "service-accounts",
        account,
        leaf @ ("identity" | "token"),
    ] = segments.as_slice()
    {
        return service_account_token(&state, account, leaf, &params, &path);
    }
    let tree = {
        let world = state.handle.lock();
        match tree(&world, &state.vm) {
            Some(tree) => tree,
            None => return html(StatusCode::NOT_FOUND, error_pages::not_found_page(&path)),
        }
    };
    let mut node = &tree;
    let mut parent = "";
    for segment in &segments {
        let next = match node {
            Value::Object(map) => map.get(*segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => {
                parent = segment;
                node = next;
            }
            None => return html(StatusCode::NOT_FOUND, error_pages::not_found_page(&path)),
        }
    }
    let recursive = params
        .get("recursive")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let alt_json = params.get("alt").is_some_and(|v| v == "json");
    if recursive || alt_json {
        return json_body(&camel_tree(node, parent));
    }
    text(render_text(node))
}

fn render_text(node: &Value) -> String {
    match node {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| {
                if value.is_object()
                    || value
                        .as_array()
                        .is_some_and(|a| a.iter().any(Value::is_object))
                {
                    format!("{key}/\n")
                } else {
                    format!("{key}\n")
                }
            })
            .collect(),
        Value::Array(items) if items.iter().any(Value::is_object) => {
            (0..items.len()).map(|i| format!("{i}/\n")).collect()
        }
        Value::Array(items) => items
            .iter()
            .map(|item| format!("{}\n", leaf(item)))
            .collect(),
        other => leaf(other),
    }
}

fn leaf(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `?recursive=true` keys are camelCase, except metadata attribute names and account emails.
fn camel_tree(node: &Value, parent: &str) -> Value {
    match node {
        Value::Object(map) => {
            let keep_keys = matches!(parent, "attributes" | "service-accounts");
            Value::Object(
                map.iter()
                    .map(|(key, value)| {
                        let name = if keep_keys { key.clone() } else { camel(key) };
                        (name, camel_tree(value, key))
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| camel_tree(item, "")).collect())
        }
        other => other.clone(),
    }
}

fn camel(key: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in key.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The metadata tree of one VM (kebab-case path names), reflecting the current state.
fn tree(world: &World, vm_name: &str) -> Option<Value> {
    let vm = world.vm_by_name(vm_name)?;
    let project = world.project(&vm.spec.project)?;
    let s = &vm.spec;
    let number = project.spec.number;
    let account = json!({
        "aliases": ["default"],
        "email": s.service_account,
        "scopes": s.scopes,
    });
    let mut accounts = Map::new();
    accounts.insert("default".into(), account.clone());
    accounts.insert(s.service_account.clone(), account);
    let mut access_configs = Vec::new();
    if let Some(nat_ip) = &s.nat_ip {
        access_configs.push(json!({ "external-ip": nat_ip, "type": "ONE_TO_ONE_NAT" }));
    }
    let image = s
        .boot_image
        .strip_prefix(crate::compute_links::COMPUTE_BASE)
        .unwrap_or(&s.boot_image);
    let region = s.zone.rsplit_once('-').map(|(r, _)| r).unwrap_or(&s.zone);
    Some(json!({
        "instance": {
            "attributes": vm.metadata,
            "cpu-platform": "AMD Rome",
            "description": "",
            "disks": [{ "device-name": "persistent-disk-0", "index": 0, "interface": "SCSI", "mode": "READ_WRITE", "type": "PERSISTENT" }],
            "hostname": format!("{}.{}.c.{}.internal", s.name, s.zone, s.project),
            "id": s.id,
            "image": image,
            "licenses": s.license_codes.iter().map(|code| json!({ "id": code })).collect::<Vec<_>>(),
            "machine-type": format!("projects/{number}/machineTypes/{}", s.machine_type),
            "maintenance-event": "NONE",
            "name": s.name,
            "network-interfaces": [{
                "access-configs": access_configs,
                "dns-servers": ["169.254.169.254"],
                "gateway": gateway(&s.internal_ip),
                "ip": s.internal_ip,
                "mac": "42:01:0a:80:00:02",
                "mtu": 1460,
                "network": format!("projects/{number}/networks/default"),
                "subnetmask": "255.255.240.0",
            }],
            "preempted": "FALSE",
            "scheduling": { "automatic-restart": "TRUE", "on-host-maintenance": "MIGRATE", "preemptible": "FALSE" },
            "service-accounts": accounts,
            "zone": format!("projects/{number}/zones/{}", s.zone),
            "region": format!("projects/{number}/regions/{region}"),
        },
        "project": {
            "attributes": project.metadata,
            "numeric-project-id": number,
            "project-id": project.spec.id,
        },
    }))
}

fn gateway(ip: &str) -> String {
    match ip.rsplit_once('.') {
        Some((prefix, _)) => format!("{prefix}.1"),
        None => ip.to_string(),
    }
}

fn service_account_token(
    state: &MetadataState,
    account: &str,
    leaf: &str,
    params: &BTreeMap<String, String>,
    path: &str,
) -> Response {
    let known = account == "default"
        || state
            .handle
            .lock()
            .vm_by_name(&state.vm)
            .is_some_and(|vm| vm.spec.service_account == account);
    if !known {
        return html(StatusCode::NOT_FOUND, error_pages::not_found_page(path));
    }
    if leaf == "token" {
        return json_body(&json!({
            "access_token": format!("ya29.gcpsim-{}", new_token(64)),
            "expires_in": 3599,
            "token_type": "Bearer",
        }));
    }
    let audience = params.get("audience").cloned().unwrap_or_default();
    if audience.is_empty() {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            "non-empty audience parameter required\n".to_string(),
        );
    }
    let full = params.get("format").is_some_and(|f| f == "full");
    let request = IdentityRequest {
        audience,
        full,
        licenses: full
            && params
                .get("licenses")
                .is_some_and(|l| l.eq_ignore_ascii_case("true")),
        issued_at: None,
        expires_at: None,
    };
    match state.handle.identity_token(&state.vm, &request) {
        Ok(token) => text(token),
        Err(error) => {
            tracing::error!(%error, "cannot mint identity token");
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "internal error minting the identity token\n".to_string(),
            )
        }
    }
}
