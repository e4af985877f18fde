//! `ComputeClient`: the Compute Engine calls the checks need (`instances.get`,
//! `instances.getShieldedInstanceIdentity`, `disks.get`, `images.get`, `projects.get`), over the official
//! `google-cloud-compute-v1` client, each result mapped to core evidence or a classified `FetchError`.

use google_cloud_compute_v1::client::{Disks, Images, Instances, Projects};
use tokendist_core::evidence::{
    DiskEvidence, FetchError, Fetched, InstanceEvidence, ProjectEvidence, ShieldedIdentity,
};

use std::sync::Arc;

use crate::call_observer::{CallObserver, Observer};
use crate::client_options::configure;
use crate::compute_mapping::{
    API_DISKS_GET, API_IMAGES_GET, API_INSTANCES_GET, API_PROJECTS_GET, API_SHIELDED_IDENTITY,
    ImageEvidence, disk_evidence, image_evidence, instance_evidence, project_and_image,
    project_evidence, shielded_identity,
};
use crate::config::GcpConfig;
use crate::fetch_error::malformed;

/// Why a Google API client could not be built (bad endpoint, no Application Default Credentials).
#[derive(Debug, thiserror::Error)]
#[error(
    "could not build the {api} client for {endpoint}: {source}; check the endpoint and credentials settings"
)]
pub struct ClientBuildError {
    pub api: &'static str,
    pub endpoint: String,
    #[source]
    pub source: google_cloud_gax::client_builder::Error,
}

/// Read-only Compute Engine client. Cheap to clone (the library clients share their pools).
#[derive(Debug, Clone)]
pub struct ComputeClient {
    instances: Instances,
    disks: Disks,
    images: Images,
    projects: Projects,
    observer: Observer,
}

impl ComputeClient {
    /// Builds the clients for `config.compute_endpoint` with the configured credentials and retries.
    pub async fn new(config: &GcpConfig) -> Result<Self, ClientBuildError> {
        let endpoint = config.compute_endpoint.as_str();
        let err = |source| ClientBuildError {
            api: "compute",
            endpoint: endpoint.to_owned(),
            source,
        };
        Ok(Self {
            instances: configure(Instances::builder(), endpoint, config)
                .build()
                .await
                .map_err(err)?,
            disks: configure(Disks::builder(), endpoint, config)
                .build()
                .await
                .map_err(err)?,
            images: configure(Images::builder(), endpoint, config)
                .build()
                .await
                .map_err(err)?,
            projects: configure(Projects::builder(), endpoint, config)
                .build()
                .await
                .map_err(err)?,
            observer: Observer::default(),
        })
    }

    /// The same client telling `observer` about every call.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Observer::new(observer);
        self
    }

    /// `instances.get`, mapped to [`InstanceEvidence`].
    pub async fn instance(
        &self,
        project: &str,
        zone: &str,
        name: &str,
    ) -> Fetched<InstanceEvidence> {
        let request = self
            .instances
            .get()
            .set_project(project)
            .set_zone(zone)
            .set_instance(name)
            .send();
        let instance = self
            .observer
            .call(API_INSTANCES_GET, request, logged)
            .await?;
        instance_evidence(&instance).map_err(logged)
    }

    /// `instances.getShieldedInstanceIdentity`: Google's record of the VM's EK and AK.
    pub async fn shielded_identity(
        &self,
        project: &str,
        zone: &str,
        name: &str,
    ) -> Fetched<ShieldedIdentity> {
        let request = self
            .instances
            .get_shielded_instance_identity()
            .set_project(project)
            .set_zone(zone)
            .set_instance(name)
            .send();
        let identity = self
            .observer
            .call(API_SHIELDED_IDENTITY, request, logged)
            .await?;
        Ok(shielded_identity(&identity))
    }

    /// `disks.get`, mapped to [`DiskEvidence`].
    pub async fn disk(&self, project: &str, zone: &str, disk: &str) -> Fetched<DiskEvidence> {
        let request = self
            .disks
            .get()
            .set_project(project)
            .set_zone(zone)
            .set_disk(disk)
            .send();
        let disk = self.observer.call(API_DISKS_GET, request, logged).await?;
        disk_evidence(&disk).map_err(logged)
    }

    /// `projects.get`, mapped to [`ProjectEvidence`] (the project's common instance metadata).
    pub async fn project(&self, project: &str) -> Fetched<ProjectEvidence> {
        let request = self.projects.get().set_project(project).send();
        let project = self
            .observer
            .call(API_PROJECTS_GET, request, logged)
            .await?;
        project_evidence(&project).map_err(logged)
    }

    /// `images.get` for an image URL (`.../projects/P/global/images/NAME`, full or partial).
    pub async fn image(&self, url: &str) -> Fetched<ImageEvidence> {
        let (project, image) = project_and_image(url).ok_or_else(|| {
            malformed(
                API_IMAGES_GET,
                format!("{url:?} is not an image URL (projects/P/global/images/NAME)"),
            )
        })?;
        let request = self
            .images
            .get()
            .set_project(project)
            .set_image(image)
            .send();
        let image = self.observer.call(API_IMAGES_GET, request, logged).await?;
        image_evidence(&image).map_err(logged)
    }
}

fn logged(err: FetchError) -> FetchError {
    tracing::warn!(api = %err.api, kind = %err.kind, message = %err.message, "Compute API call failed");
    err
}
