//! `compute#project` JSON with `commonInstanceMetadata`.

use serde_json::{Value, json};

use super::instance::metadata_items;
use super::{COMPUTE_BASE, compute_time};
use crate::world::ProjectState;

pub fn project(project: &ProjectState) -> Value {
    let s = &project.spec;
    json!({
        "kind": "compute#project",
        "id": s.number.to_string(),
        "creationTimestamp": compute_time(s.created),
        "name": s.id,
        "commonInstanceMetadata": {
            "kind": "compute#metadata",
            "fingerprint": project.metadata_fingerprint,
            "items": metadata_items(&project.metadata),
        },
        "quotas": [],
        "selfLink": format!("{COMPUTE_BASE}projects/{}", s.id),
        "defaultServiceAccount": format!("{}-compute@developer.gserviceaccount.com", s.number),
        "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
        "defaultNetworkTier": "PREMIUM",
        "vmDnsSetting": "ZONAL_ONLY",
    })
}
