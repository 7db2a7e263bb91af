//! The engine's read-only calls: what [`super::Docker::api`] hands out. A call that changes
//! the engine is not here: it is reachable only through the gate ([`super::Docker::audited`],
//! whose operation receives a [`Writes`]), so no primitive can change an engine around the
//! plan and the audit log.

use bollard::errors::Error;
use bollard::models::{
    Config, ContainerInspectResponse, ContainerSummary, DistributionInspect, ExecInspectResponse,
    ImageInspect, ImageSummary, Network, NetworkInspect, Node, Secret, Service, Swarm, SystemInfo,
    Task, Volume, VolumeListResponse,
};
use bollard::query_parameters as q;
use futures_util::Stream;

/// Read-only access to one engine.
#[derive(Clone, Copy)]
pub struct Reads<'a>(pub(super) &'a bollard::Docker);

/// The engine's full API, handed only to an operation the gate runs (see [`super::Docker::audited`]).
pub struct Writes(pub(super) bollard::Docker);

impl std::ops::Deref for Writes {
    type Target = bollard::Docker;
    fn deref(&self) -> &bollard::Docker {
        &self.0
    }
}

impl Reads<'_> {
    pub async fn info(&self) -> Result<SystemInfo, Error> {
        self.0.info().await
    }
    pub async fn inspect_image(&self, name: &str) -> Result<ImageInspect, Error> {
        self.0.inspect_image(name).await
    }
    pub async fn inspect_registry_image(
        &self,
        name: &str,
        credentials: Option<bollard::auth::DockerCredentials>,
    ) -> Result<DistributionInspect, Error> {
        self.0.inspect_registry_image(name, credentials).await
    }
    pub async fn list_images(
        &self,
        options: Option<q::ListImagesOptions>,
    ) -> Result<Vec<ImageSummary>, Error> {
        self.0.list_images(options).await
    }
    pub fn export_image(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<bytes::Bytes, Error>> + use<> {
        self.0.export_image(name)
    }
    pub async fn inspect_container(
        &self,
        name: &str,
        options: Option<q::InspectContainerOptions>,
    ) -> Result<ContainerInspectResponse, Error> {
        self.0.inspect_container(name, options).await
    }
    pub async fn list_containers(
        &self,
        options: Option<q::ListContainersOptions>,
    ) -> Result<Vec<ContainerSummary>, Error> {
        self.0.list_containers(options).await
    }
    pub fn logs(
        &self,
        name: &str,
        options: Option<q::LogsOptions>,
    ) -> impl Stream<Item = Result<bollard::container::LogOutput, Error>> + use<> {
        self.0.logs(name, options)
    }
    pub async fn inspect_exec(&self, id: &str) -> Result<ExecInspectResponse, Error> {
        self.0.inspect_exec(id).await
    }
    pub async fn inspect_volume(&self, name: &str) -> Result<Volume, Error> {
        self.0.inspect_volume(name).await
    }
    pub async fn list_volumes(
        &self,
        options: Option<q::ListVolumesOptions>,
    ) -> Result<VolumeListResponse, Error> {
        self.0.list_volumes(options).await
    }
    pub async fn inspect_network(
        &self,
        name: &str,
        options: Option<q::InspectNetworkOptions>,
    ) -> Result<NetworkInspect, Error> {
        self.0.inspect_network(name, options).await
    }
    pub async fn list_networks(
        &self,
        options: Option<q::ListNetworksOptions>,
    ) -> Result<Vec<Network>, Error> {
        self.0.list_networks(options).await
    }
    pub async fn inspect_swarm(&self) -> Result<Swarm, Error> {
        self.0.inspect_swarm().await
    }
    pub async fn inspect_node(&self, name: &str) -> Result<Node, Error> {
        self.0.inspect_node(name).await
    }
    pub async fn list_nodes(
        &self,
        options: Option<q::ListNodesOptions>,
    ) -> Result<Vec<Node>, Error> {
        self.0.list_nodes(options).await
    }
    pub async fn inspect_service(
        &self,
        name: &str,
        options: Option<q::InspectServiceOptions>,
    ) -> Result<Service, Error> {
        self.0.inspect_service(name, options).await
    }
    pub async fn list_services(
        &self,
        options: Option<q::ListServicesOptions>,
    ) -> Result<Vec<Service>, Error> {
        self.0.list_services(options).await
    }
    pub fn service_logs(
        &self,
        id: &str,
        options: Option<q::LogsOptions>,
    ) -> impl Stream<Item = Result<bollard::container::LogOutput, Error>> + use<> {
        self.0.service_logs(id, options)
    }
    pub async fn list_tasks(
        &self,
        options: Option<q::ListTasksOptions>,
    ) -> Result<Vec<Task>, Error> {
        self.0.list_tasks(options).await
    }
    pub async fn inspect_secret(&self, id: &str) -> Result<Secret, Error> {
        self.0.inspect_secret(id).await
    }
    pub async fn list_secrets(
        &self,
        options: Option<q::ListSecretsOptions>,
    ) -> Result<Vec<Secret>, Error> {
        self.0.list_secrets(options).await
    }
    pub async fn inspect_config(&self, id: &str) -> Result<Config, Error> {
        self.0.inspect_config(id).await
    }
    pub async fn list_configs(
        &self,
        options: Option<q::ListConfigsOptions>,
    ) -> Result<Vec<Config>, Error> {
        self.0.list_configs(options).await
    }
}
