//! Connecting to an engine and negotiating the API version (the engine here may speak only
//! API 1.41, older than bollard's default).

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::host::{ForwardTarget, Host, Tunnel};

/// Seconds a single Engine API request may take (image pulls and builds stream longer).
const TIMEOUT_S: u64 = 600;

/// A handle on one engine. Cheap to clone; clones share the connection (and tunnel).
#[derive(Clone)]
pub struct Docker {
    api: bollard::Docker,
    /// The host this engine belongs to ("local" or the SSH host's name).
    host: String,
    /// Where requests go: the socket path or URL (shown in errors; tests check the tunnel).
    endpoint: String,
    tunnel: Option<Arc<Mutex<Tunnel>>>,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Docker({} via {})", self.host, self.endpoint)
    }
}

impl Docker {
    /// The local engine; `DOCKER_HOST` is honoured as the docker CLI does.
    pub async fn local() -> Result<Docker> {
        let (api, endpoint) = match std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
            Some(h) => (
                bollard::Docker::connect_with_defaults()
                    .map_err(|e| Error::wrap(format!("cannot use DOCKER_HOST={h}"), e))?,
                h,
            ),
            None => (
                bollard::Docker::connect_with_unix(
                    "/var/run/docker.sock",
                    TIMEOUT_S,
                    bollard::API_DEFAULT_VERSION,
                )
                .map_err(|e| {
                    Error::wrap("cannot reach the docker engine at /var/run/docker.sock", e)
                })?,
                "unix:///var/run/docker.sock".to_string(),
            ),
        };
        Self::negotiated(api, "local".into(), endpoint, None).await
    }

    /// The engine of `host`: local for the local host; over SSH through a forwarded socket.
    pub async fn on(host: &Host) -> Result<Docker> {
        if host.is_local() {
            return Self::local().await;
        }
        let tunnel = host
            .forward_to_local_socket(&ForwardTarget::Unix("/var/run/docker.sock".into()))
            .await?;
        let path = tunnel
            .socket_path()
            .map(|p| p.display().to_string())
            .ok_or_else(|| Error::failed("docker tunnel has no local socket"))?;
        let api =
            bollard::Docker::connect_with_unix(&path, TIMEOUT_S, bollard::API_DEFAULT_VERSION)
                .map_err(|e| {
                    Error::wrap(format!("cannot use the forwarded docker socket {path}"), e)
                        .host(host.name())
                })?;
        Self::negotiated(
            api,
            host.name().to_string(),
            format!("unix://{path}"),
            Some(Arc::new(Mutex::new(tunnel))),
        )
        .await
    }

    async fn negotiated(
        api: bollard::Docker,
        host: String,
        endpoint: String,
        tunnel: Option<Arc<Mutex<Tunnel>>>,
    ) -> Result<Docker> {
        let api = api.negotiate_version().await.map_err(|e| {
            Error::failed(format!(
                "cannot talk to the docker engine ({endpoint}): {e}"
            ))
            .host(host.clone())
            .hint("is dockerd running there, and may this user use its socket?")
        })?;
        Ok(Docker {
            api,
            host,
            endpoint,
            tunnel,
        })
    }

    /// The bollard client, for primitives built on the Engine API.
    pub fn api(&self) -> &bollard::Docker {
        &self.api
    }

    pub fn host_name(&self) -> &str {
        &self.host
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether requests travel through an SSH-forwarded socket.
    pub fn is_tunnelled(&self) -> bool {
        self.tunnel.is_some()
    }
}
