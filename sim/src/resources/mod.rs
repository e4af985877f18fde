//! Compute Engine resource JSON (instance, disk, image, project, shielded identity),
//! built from the world state in Google's field names and encodings.

pub(crate) mod disk;
pub(crate) mod image;
pub(crate) mod instance;
pub(crate) mod project;
pub(crate) mod shielded;

/// A stable decimal id derived from a name (for images and licences that have no scenario id).
pub(crate) fn stable_id(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 1).to_string()
}
