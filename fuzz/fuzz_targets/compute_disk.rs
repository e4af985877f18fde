//! Fuzzes the Compute disk mapping (`disks.get` JSON into `google_cloud_compute_v1::model::Disk`,
//! then `gcp::compute_mapping::disk_evidence`), and on the same bytes the image and project
//! mappings (`image_evidence`, `project_evidence`) and the URL helpers (`disk_location`,
//! `project_and_image`). Never panics; evidence survives a serde round trip, and a disk location
//! read from a URL puts the same URL back together.
#![no_main]

use google_cloud_compute_v1::model::{Disk, Image, Project};
use libfuzzer_sys::fuzz_target;
use tokendist_core::evidence::{DiskEvidence, ProjectEvidence};
use tokendist_gcp::compute_mapping::{
    ImageEvidence, disk_evidence, disk_location, image_evidence, project_and_image,
    project_evidence,
};

fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_vec(value).unwrap();
    let back: T = serde_json::from_slice(&json).unwrap();
    assert_eq!(&back, value);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some((project, zone, disk)) = disk_location(text) {
            let rebuilt = format!("projects/{project}/zones/{zone}/disks/{disk}");
            assert_eq!(disk_location(&rebuilt), Some((project, zone, disk)));
        }
        let _ = project_and_image(text);
    }
    if let Ok(disk) = serde_json::from_slice::<Disk>(data)
        && let Ok(evidence) = disk_evidence(&disk)
    {
        round_trip::<DiskEvidence>(&evidence);
    }
    if let Ok(image) = serde_json::from_slice::<Image>(data)
        && let Ok(evidence) = image_evidence(&image)
    {
        round_trip::<ImageEvidence>(&evidence);
    }
    if let Ok(project) = serde_json::from_slice::<Project>(data)
        && let Ok(evidence) = project_evidence(&project)
    {
        round_trip::<ProjectEvidence>(&evidence);
    }
});
