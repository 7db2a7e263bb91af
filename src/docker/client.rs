//! Connecting to an engine and negotiating the API version (the engine here may speak only
//! API 1.41, older than bollard's default), and turning the engine's failures into hoist
//! errors that name the host and say what the engine said.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::endpoint::{self, Endpoint};
use super::reads::Writes;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::{ForwardTarget, Host, Tunnel};
use crate::services::Services;

/// The engine socket on an SSH host: one probe lists the candidates in order and whether
/// this user can use each (a socket it may write to).
async fn remote_socket(host: &Host) -> Result<String> {
    let probe = r#"for s in "${DOCKER_HOST#unix://}" /var/run/docker.sock "${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/docker.sock"; do
  case "$s" in ''|*://*) continue;; esac
  if [ -S "$s" ] && [ -w "$s" ]; then echo "ok $s"; elif [ -S "$s" ]; then echo "denied $s"; else echo "missing $s"; fi
done"#;
    let out = host.run(&Command::shell(probe).quiet().probe()).await?;
    let mut tried = vec![];
    for line in out.stdout.lines() {
        match line.split_once(' ') {
            Some(("ok", s)) => return Ok(s.to_string()),
            Some((why, s)) if !tried.iter().any(|t: &String| t.starts_with(s)) => {
                tried.push(format!(
                    "{s} ({})",
                    if why == "denied" {
                        "no permission"
                    } else {
                        "missing"
                    }
                ))
            }
            _ => {}
        }
    }
    Err(Error::failed(format!(
        "no docker engine socket this user can use: tried {}",
        tried.join(", ")
    ))
    .host(host.name())
    .hint("start dockerd (or a rootless engine), or add the user to the `docker` group"))
}

/// Seconds a single Engine API request may take (image pulls and builds stream longer).
const TIMEOUT_S: u64 = 600;

/// A handle on one engine. Cheap to clone; clones share the connection (and tunnel).
#[derive(Clone)]
pub struct Docker {
    api: bollard::Docker,
    /// The host this engine belongs to: where its credentials live and where `login` runs.
    on: Host,
    /// Where requests go: the socket path or URL (shown in errors; tests check the tunnel).
    endpoint: String,
    tunnel: Option<Arc<Mutex<Tunnel>>>,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Docker({} via {})", self.on.name(), self.endpoint)
    }
}

impl Docker {
    /// The local engine; `DOCKER_HOST`, `DOCKER_CONTEXT` and the current docker context are
    /// honoured as the docker CLI does (an `ssh://` engine needs a runtime: see
    /// [`crate::runtime::Runtime::docker`]).
    pub async fn local() -> Result<Docker> {
        Self::local_on(Host::local(Services::silent())).await
    }

    async fn local_on(on: Host) -> Result<Docker> {
        let r = endpoint::resolve()?;
        Self::at(on, &r).await
    }

    /// Connect to a resolved unix or tcp endpoint on behalf of `on`.
    pub(crate) async fn at(on: Host, r: &endpoint::Resolved) -> Result<Docker> {
        let v = bollard::API_DEFAULT_VERSION;
        let name = on.name().to_string();
        let fail = |what: String| {
            let name = name.clone();
            move |e: bollard::errors::Error| Error::wrap(what, e).host(&name)
        };
        let (api, shown) = match &r.endpoint {
            Endpoint::Unix(p) => (
                bollard::Docker::connect_with_unix(p, TIMEOUT_S, v).map_err(fail(format!(
                    "cannot reach the docker engine at {p} ({})",
                    r.source
                )))?,
                format!("unix://{p}"),
            ),
            Endpoint::Tcp { addr, tls: None } => (
                bollard::Docker::connect_with_http(addr, TIMEOUT_S, v)
                    .map_err(fail(format!("cannot use tcp://{addr} ({})", r.source)))?,
                format!("tcp://{addr}"),
            ),
            Endpoint::Tcp {
                addr,
                tls: Some(dir),
            } => (
                bollard::Docker::connect_with_ssl(
                    addr,
                    &dir.join("key.pem"),
                    &dir.join("cert.pem"),
                    &dir.join("ca.pem"),
                    TIMEOUT_S,
                    v,
                )
                .map_err(fail(format!(
                    "cannot use tcp://{addr} with TLS from {} ({})",
                    dir.display(),
                    r.source
                )))?,
                format!("tcp://{addr} (TLS)"),
            ),
            Endpoint::Ssh(spec) => {
                return Err(Error::usage(format!(
                    "{}: an ssh:// engine ({}) is reached through a runtime's SSH host",
                    r.source, spec.host
                )));
            }
        };
        Self::negotiated(api, on, shown, None).await
    }

    /// The engine of `host`: local for the local host; over SSH through a forwarded socket
    /// on the host's existing connection (its ControlMaster carries the engine traffic).
    /// The socket is the host's own: its `DOCKER_HOST` (unix://), the system socket, or a
    /// rootless engine's `$XDG_RUNTIME_DIR/docker.sock` — the first this user may use.
    /// Opens a new tunnel: scripts go through [`Cache`] so there is one per host per run.
    pub async fn on(host: &Host) -> Result<Docker> {
        if host.is_local() {
            return Self::local_on(host.clone()).await;
        }
        let socket = remote_socket(host).await?;
        let tunnel = host
            .forward_to_local_socket(&ForwardTarget::Unix(socket.clone()))
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
            host.clone(),
            format!("unix://{path}"),
            Some(Arc::new(Mutex::new(tunnel))),
        )
        .await
    }

    async fn negotiated(
        api: bollard::Docker,
        on: Host,
        endpoint: String,
        tunnel: Option<Arc<Mutex<Tunnel>>>,
    ) -> Result<Docker> {
        let api = api.negotiate_version().await.map_err(|e| {
            // The HTTP client's own message ("client error (Connect)") hides the reason: the
            // innermost cause says it (refused, unknown issuer, a bad certificate...).
            let mut why = e.to_string().trim_end().to_string();
            let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&e);
            while let Some(c) = cause {
                if c.source().is_none() {
                    why = format!("{why}: {c}");
                }
                cause = c.source();
            }
            let hint = if endpoint.starts_with("unix://") {
                "is dockerd running there, and may this user use its socket?"
            } else if endpoint.ends_with("(TLS)") {
                "is the engine listening there with TLS (dockerd --tlsverify), and did the CA in DOCKER_CERT_PATH (or the context's ca.pem) sign its certificate?"
            } else if why.contains("HTTPS") {
                "the engine speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem"
            } else {
                "is dockerd listening on that address?"
            };
            Error::failed(format!(
                "cannot talk to the docker engine ({endpoint}): {why}"
            ))
            .host(on.name())
            .hint(hint)
        })?;
        Ok(Docker {
            api,
            on,
            endpoint,
            tunnel,
        })
    }

    /// The engine's read-only calls (probes). A change goes through [`Docker::audited`].
    pub fn api(&self) -> super::reads::Reads<'_> {
        super::reads::Reads(&self.api)
    }

    pub fn host_name(&self) -> &str {
        self.on.name()
    }

    /// The host whose engine this is.
    pub fn host(&self) -> &Host {
        &self.on
    }

    pub fn services(&self) -> &Services {
        self.on.services()
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether requests travel through an SSH-forwarded socket.
    pub fn is_tunnelled(&self) -> bool {
        self.tunnel.is_some()
    }

    /// The engine refused or failed: say what we were doing, on which host, and what the
    /// engine said.
    pub(crate) fn fail(&self, doing: impl std::fmt::Display, e: bollard::errors::Error) -> Error {
        let said = engine_message(&e);
        let mut err = Error::failed(format!("{doing}: {said}")).host(self.host_name());
        if matches!(e, bollard::errors::Error::RequestTimeoutError) {
            err = err.hint(format!("the engine at {} did not answer", self.endpoint));
        }
        err
    }
}

/// The HTTP status the engine answered with, if it answered with an error status.
pub(crate) fn status_of(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// What the engine said, without bollard's wrapping.
pub(crate) fn engine_message(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error as B;
    match e {
        B::DockerResponseServerError { message, .. } => message.trim().to_string(),
        B::DockerStreamError { error } => error.trim().to_string(),
        B::DockerContainerWaitError { error, code } => format!("{error} (exit code {code})"),
        other => other.to_string(),
    }
}

/// One engine handle per host per run, so a host's tunnel is opened once (concurrent
/// callers for the same host wait for the first one to connect).
#[derive(Default)]
pub struct Cache {
    engines: tokio::sync::Mutex<HashMap<String, Docker>>,
}

impl Cache {
    pub async fn get(&self, host: &Host) -> Result<Docker> {
        let mut engines = self.engines.lock().await;
        if let Some(d) = engines.get(host.name()) {
            return Ok(d.clone());
        }
        let d = Docker::on(host).await?;
        engines.insert(host.name().to_string(), d.clone());
        Ok(d)
    }

    /// Forget every engine (their tunnels close with the hosts' connections).
    pub fn clear(&self) {
        if let Ok(mut e) = self.engines.try_lock() {
            e.clear();
        }
    }
}

impl Docker {
    /// Run one engine action that changes something, through the gate
    /// ([`Services::perform`]): a dry run records it and returns the placeholder
    /// `T::default()`; a real run makes it and audits it (what, where, how it ended). The
    /// engine's write calls are reachable only here: `op` receives them as [`Writes`].
    pub(crate) async fn audited<T: Default, F: std::future::Future<Output = Result<T>>>(
        &self,
        action: &str,
        command: String,
        op: impl FnOnce(Writes) -> F,
    ) -> Result<T> {
        self.perform(action, command, op)
            .await
            .map(crate::effect::Performed::or_placeholder)
    }

    /// [`Docker::audited`], telling the caller whether the change was made or only planned.
    pub(crate) async fn perform<T, F: std::future::Future<Output = Result<T>>>(
        &self,
        action: &str,
        command: String,
        op: impl FnOnce(Writes) -> F,
    ) -> Result<crate::effect::Performed<T>> {
        self.perform_coded(
            action,
            command,
            |w| async move { op(w).await.map(|v| (v, 0)) },
        )
        .await
    }

    /// [`Docker::perform`] for an operation with an exit code of its own (an exec).
    pub(crate) async fn perform_coded<T, F: std::future::Future<Output = Result<(T, i32)>>>(
        &self,
        action: &str,
        command: String,
        op: impl FnOnce(Writes) -> F,
    ) -> Result<crate::effect::Performed<T>> {
        let change = crate::effect::Change::Docker {
            op: action.to_string(),
            detail: command,
        };
        let writes = Writes(self.api.clone());
        self.services()
            .perform_coded(self.host_name(), change, op(writes))
            .await
    }
}
