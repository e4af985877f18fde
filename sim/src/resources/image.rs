//! `compute#image` JSON for images referenced by the scenario's VMs (e.g. `cos-cloud` images).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::instance::license_urls;
use super::stable_id;
use crate::compute_links::{COMPUTE_BASE, compute_time};

/// The image at `projects/{project}/global/images/{name}`, with licences of the VMs that use it.
pub(crate) fn image(
    project: &str,
    name: &str,
    license_codes: &[String],
    created: DateTime<Utc>,
) -> Value {
    // cos-stable-109-17800-147-54 -> family cos-stable, milestone 109.
    let parts: Vec<&str> = name.split('-').collect();
    let milestone_at = parts
        .iter()
        .position(|p| p.chars().all(|c| c.is_ascii_digit()));
    let (family, milestone, build) = match milestone_at {
        Some(i) if i > 0 => (
            parts[..i].join("-"),
            parts[i].to_string(),
            parts[i + 1..].join("-"),
        ),
        _ => (name.to_string(), String::new(), String::new()),
    };
    let is_cos = name.starts_with("cos-");
    let description = if is_cos {
        format!(
            "Google, Container-Optimized OS, {milestone}-{} stable, Family: {family}, supports Shielded VM features, supports Confidential VM features on N2D",
            build.replace('-', ".")
        )
    } else {
        format!("Image {name}")
    };
    let mut value = json!({
        "kind": "compute#image",
        "id": stable_id(name),
        "creationTimestamp": compute_time(created),
        "name": name,
        "description": description,
        "sourceType": "RAW",
        "status": "READY",
        "archiveSizeBytes": "1319958912",
        "diskSizeGb": "10",
        "licenses": license_urls(license_codes),
        "family": family,
        "selfLink": format!("{COMPUTE_BASE}projects/{project}/global/images/{name}"),
        "labelFingerprint": "VzjrmCgbErw=",
        "guestOsFeatures": super::instance::guest_os_features(),
    });
    if is_cos && let Some(map) = value.as_object_mut() {
        map.insert(
            "labels".into(),
            json!({ "build_number": build, "milestone": milestone }),
        );
    }
    value
}
