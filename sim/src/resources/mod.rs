//! Compute Engine resource JSON (instance, disk, image, project, operation, shielded identity),
//! built from the world state in Google's field names and encodings.

pub mod disk;
pub mod image;
pub mod instance;
pub mod operation;
pub mod project;
pub mod shielded;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};

/// Prefix of every Compute self link.
pub const COMPUTE_BASE: &str = "https://www.googleapis.com/compute/v1/";

/// Compute's timestamp format: RFC 3339 with milliseconds in US Pacific (fixed -07:00 here).
pub fn compute_time(time: DateTime<Utc>) -> String {
    let offset = FixedOffset::west_opt(7 * 3600).unwrap_or_else(|| Utc.fix());
    time.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// A stable decimal id derived from a name (for images and licences that have no scenario id).
pub fn stable_id(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 1).to_string()
}
