//! `compute#project` JSON with `commonInstanceMetadata` (as `projects.get` serves it).

use serde_json::{Value, json};

use super::instance::metadata_items;
use crate::compute_links::{COMPUTE_BASE, compute_time};
use crate::world::ProjectState;

pub(crate) fn project(project: &ProjectState) -> Value {
    let s = &project.spec;
    // Like Google, `commonInstanceMetadata` has no `items` when nothing is set.
    let mut common = json!({
        "kind": "compute#metadata",
        "fingerprint": project.metadata_fingerprint,
    });
    if !project.metadata.is_empty() {
        common["items"] = metadata_items(&project.metadata);
    }
    json!({
        "kind": "compute#project",
        "id": s.number.to_string(),
        "creationTimestamp": compute_time(s.created),
        "name": s.id,
        "commonInstanceMetadata": common,
        "quotas": [],
        "selfLink": format!("{COMPUTE_BASE}projects/{}", s.id),
        "defaultServiceAccount": format!("{}-compute@developer.gserviceaccount.com", s.number),
        "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
        "defaultNetworkTier": "PREMIUM",
        "vmDnsSetting": "ZONAL_ONLY",
    })
}
