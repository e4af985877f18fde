//! Pure mapping from the Compute API's model types (`google_cloud_compute_v1::model`) to the evidence
//! types of `tokendist-core`. No I/O: unit-tested on real Google JSON fixtures.

use std::collections::BTreeMap;

use base64::Engine as _;
// Google serves bytes fields (fingerprints) as URL-safe base64 with padding (`o-P3cNLV6_Q=`).
use base64::engine::general_purpose::URL_SAFE as BASE64;
use chrono::{DateTime, Utc};
use google_cloud_compute_v1::model::{Disk, Image, Instance, Project, ShieldedInstanceIdentity};
use serde::{Deserialize, Serialize};
use tokendist_core::evidence::{
    DiskEvidence, FetchError, InstanceEvidence, ProjectEvidence, ShieldedConfig, ShieldedIdentity,
};

use crate::fetch_error::malformed;

/// API names used in [`FetchError::api`].
pub const API_INSTANCES_GET: &str = "compute.instances.get";
pub const API_SHIELDED_IDENTITY: &str = "compute.instances.getShieldedInstanceIdentity";
pub const API_DISKS_GET: &str = "compute.disks.get";
pub const API_IMAGES_GET: &str = "compute.images.get";
pub const API_PROJECTS_GET: &str = "compute.projects.get";

/// `compute.images.get`, reduced to what the console shows about a boot image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageEvidence {
    pub name: String,
    /// Numeric image id as a decimal string.
    pub image_id: Option<String>,
    pub family: Option<String>,
    pub self_link: Option<String>,
    /// `READY`, `DEPRECATED`...
    pub status: Option<String>,
    pub licenses: Vec<String>,
    pub description: Option<String>,
}

/// Maps `instances.get`. `project` and `zone` come from the instance's own `zone` URL
/// (`.../projects/P/zones/Z`), so the evidence says where Google says the VM is.
pub fn instance_evidence(instance: &Instance) -> Result<InstanceEvidence, FetchError> {
    let api = API_INSTANCES_GET;
    let instance_id = instance
        .id
        .ok_or_else(|| malformed(api, "the instance has no id"))?
        .to_string();
    let name = instance
        .name
        .clone()
        .ok_or_else(|| malformed(api, "the instance has no name"))?;
    let zone_url = instance
        .zone
        .as_deref()
        .ok_or_else(|| malformed(api, "the instance has no zone"))?;
    let (project, zone) = project_and_zone(zone_url).ok_or_else(|| {
        malformed(
            api,
            format!("the instance zone {zone_url:?} is not a projects/P/zones/Z URL"),
        )
    })?;
    let created = instance
        .creation_timestamp
        .as_deref()
        .ok_or_else(|| malformed(api, "the instance has no creationTimestamp"))?;
    let creation_timestamp = parse_rfc3339(created).ok_or_else(|| {
        malformed(
            api,
            format!("the instance creationTimestamp {created:?} is not RFC 3339"),
        )
    })?;
    let fingerprint = instance
        .fingerprint
        .as_ref()
        .map(|f| BASE64.encode(f))
        .ok_or_else(|| malformed(api, "the instance has no fingerprint"))?;
    let metadata_fingerprint = instance
        .metadata
        .as_ref()
        .and_then(|m| m.fingerprint.as_ref())
        .map(|f| BASE64.encode(f))
        .unwrap_or_default();
    let metadata: BTreeMap<String, String> = instance
        .metadata
        .iter()
        .flat_map(|m| m.items.iter())
        .filter_map(|item| Some((item.key.clone()?, item.value.clone().unwrap_or_default())))
        .collect();
    let shielded =
        instance
            .shielded_instance_config
            .as_ref()
            .map_or_else(ShieldedConfig::default, |s| ShieldedConfig {
                secure_boot: s.enable_secure_boot.unwrap_or(false),
                vtpm: s.enable_vtpm.unwrap_or(false),
                integrity_monitoring: s.enable_integrity_monitoring.unwrap_or(false),
            });
    Ok(InstanceEvidence {
        instance_id,
        name,
        project,
        zone,
        status: instance
            .status
            .as_ref()
            .and_then(|s| s.name())
            .unwrap_or("UNKNOWN")
            .to_owned(),
        creation_timestamp,
        fingerprint,
        metadata_fingerprint,
        metadata,
        service_accounts: instance
            .service_accounts
            .iter()
            .filter_map(|sa| sa.email.clone())
            .collect(),
        internal_ips: instance
            .network_interfaces
            .iter()
            .filter_map(|n| n.network_ip.clone())
            .collect(),
        nat_ips: instance
            .network_interfaces
            .iter()
            .flat_map(|n| n.access_configs.iter())
            .filter_map(|a| a.nat_ip.clone())
            .collect(),
        boot_disk_source: instance
            .disks
            .iter()
            .find(|d| d.boot == Some(true))
            .and_then(|d| d.source.clone()),
        machine_type: instance
            .machine_type
            .as_deref()
            .map(last_segment)
            .unwrap_or_default()
            .to_owned(),
        cpu_platform: instance.cpu_platform.clone(),
        shielded,
        confidential_compute: instance
            .confidential_instance_config
            .as_ref()
            .and_then(|c| c.enable_confidential_compute)
            .unwrap_or(false),
    })
}

/// Maps `disks.get`. A timestamp that is present but not RFC 3339 is malformed (never dropped).
pub fn disk_evidence(disk: &Disk) -> Result<DiskEvidence, FetchError> {
    let time = |field: &str, value: &Option<String>| -> Result<Option<DateTime<Utc>>, FetchError> {
        value
            .as_deref()
            .map(|text| {
                parse_rfc3339(text).ok_or_else(|| {
                    malformed(
                        API_DISKS_GET,
                        format!("the disk {field} {text:?} is not RFC 3339"),
                    )
                })
            })
            .transpose()
    };
    Ok(DiskEvidence {
        disk_id: disk.id.map(|id| id.to_string()),
        creation_timestamp: time("creationTimestamp", &disk.creation_timestamp)?,
        users: disk.users.clone(),
        last_attach_timestamp: time("lastAttachTimestamp", &disk.last_attach_timestamp)?,
        last_detach_timestamp: time("lastDetachTimestamp", &disk.last_detach_timestamp)?,
        name: disk
            .name
            .clone()
            .ok_or_else(|| malformed(API_DISKS_GET, "the disk has no name"))?,
        source_image: disk.source_image.clone(),
        source_image_id: disk.source_image_id.clone(),
        licenses: disk.licenses.clone(),
    })
}

/// Maps `getShieldedInstanceIdentity`: `encryptionKey` is the EK, `signingKey` the AK.
pub fn shielded_identity(identity: &ShieldedInstanceIdentity) -> ShieldedIdentity {
    ShieldedIdentity {
        ek_pub_pem: identity
            .encryption_key
            .as_ref()
            .and_then(|k| k.ek_pub.clone()),
        ek_cert_pem: identity
            .encryption_key
            .as_ref()
            .and_then(|k| k.ek_cert.clone()),
        ak_pub_pem: identity.signing_key.as_ref().and_then(|k| k.ek_pub.clone()),
        ak_cert_pem: identity
            .signing_key
            .as_ref()
            .and_then(|k| k.ek_cert.clone()),
    }
}

/// Maps `projects.get` to its `commonInstanceMetadata` (no metadata at all is an empty map).
pub fn project_evidence(project: &Project) -> Result<ProjectEvidence, FetchError> {
    let metadata = project.common_instance_metadata.as_ref();
    Ok(ProjectEvidence {
        project: project
            .name
            .clone()
            .ok_or_else(|| malformed(API_PROJECTS_GET, "the project has no name"))?,
        project_number: project.id.map(|id| id.to_string()),
        metadata_fingerprint: metadata
            .and_then(|m| m.fingerprint.as_ref())
            .map(|f| BASE64.encode(f))
            .unwrap_or_default(),
        metadata: metadata
            .iter()
            .flat_map(|m| m.items.iter())
            .filter_map(|item| Some((item.key.clone()?, item.value.clone().unwrap_or_default())))
            .collect(),
    })
}

/// Maps `images.get`.
pub fn image_evidence(image: &Image) -> Result<ImageEvidence, FetchError> {
    Ok(ImageEvidence {
        name: image
            .name
            .clone()
            .ok_or_else(|| malformed(API_IMAGES_GET, "the image has no name"))?,
        image_id: image.id.map(|id| id.to_string()),
        family: image.family.clone(),
        self_link: image.self_link.clone(),
        status: image
            .status
            .as_ref()
            .and_then(|s| s.name())
            .map(str::to_owned),
        licenses: image.licenses.clone(),
        description: image.description.clone(),
    })
}

/// `(project, zone)` from `.../projects/P/zones/Z` (full URL or partial path).
pub fn project_and_zone(url: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = url.trim_end_matches('/').split('/').collect();
    let p = segments.iter().rposition(|s| *s == "projects")?;
    match segments.get(p + 1..p + 4)? {
        [project, "zones", zone] if !project.is_empty() && !zone.is_empty() => {
            Some(((*project).to_owned(), (*zone).to_owned()))
        }
        _ => None,
    }
}

/// `(project, image)` from `.../projects/P/global/images/NAME` (full URL or partial path).
pub fn project_and_image(url: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = url.trim_end_matches('/').split('/').collect();
    let p = segments.iter().rposition(|s| *s == "projects")?;
    match segments.get(p + 1..)? {
        [project, "global", "images", image] if !project.is_empty() && !image.is_empty() => {
            Some(((*project).to_owned(), (*image).to_owned()))
        }
        _ => None,
    }
}

/// `(project, zone, disk)` from `.../projects/P/zones/Z/disks/D`.
pub fn disk_location(url: &str) -> Option<(String, String, String)> {
    let (project, zone) = project_and_zone(url.rsplit_once("/disks/")?.0)?;
    let disk = url.rsplit_once("/disks/")?.1.trim_end_matches('/');
    (!disk.is_empty() && !disk.contains('/')).then(|| (project, zone, disk.to_owned()))
}

fn last_segment(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod project_tests;
