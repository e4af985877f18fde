//! Compute Engine's encodings that both the world and the resource JSON need: the API's URL prefix,
//! instance and disk self links, and Compute's timestamp format.

use chrono::{DateTime, FixedOffset, Offset as _, Utc};

/// Prefix of every Compute self link.
pub(crate) const COMPUTE_BASE: &str = "https://www.googleapis.com/compute/v1/";

/// Compute's timestamp format: RFC 3339 with milliseconds in US Pacific (fixed -07:00 here).
pub(crate) fn compute_time(time: DateTime<Utc>) -> String {
    let offset = FixedOffset::west_opt(7 * 3600).unwrap_or_else(|| Utc.fix());
    time.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// Self link of the instance `projects/P/zones/Z/instances/NAME`.
pub(crate) fn instance_link(project: &str, zone: &str, name: &str) -> String {
    format!("{COMPUTE_BASE}projects/{project}/zones/{zone}/instances/{name}")
}

/// Self link of the disk `projects/P/zones/Z/disks/NAME`.
pub(crate) fn disk_link(project: &str, zone: &str, name: &str) -> String {
    format!("{COMPUTE_BASE}projects/{project}/zones/{zone}/disks/{name}")
}
