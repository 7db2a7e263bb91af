//! Containers: run, list, start/stop/restart/remove, inspect, find the IP, wait until
//! healthy. Failures name the container, the host and what the engine said.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, HealthStatusEnum, HostConfig, PortBinding,
    RestartPolicy,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use serde::{Deserialize, Serialize};

use super::client::{Docker, status_of};
use crate::error::{Error, Result};

/// A command given as one line (split like a shell would, no shell runs) or as an argv.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CommandSpec {
    Line(String),
    Argv(Vec<String>),
}

impl CommandSpec {
    pub fn argv(&self) -> Result<Vec<String>> {
        match self {
            CommandSpec::Argv(a) => Ok(a.clone()),
            CommandSpec::Line(l) => shlex::split(l)
                .ok_or_else(|| Error::usage(format!("cannot split the command `{l}` into words"))),
        }
    }
}

/// A container's environment as a script writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EnvSpec {
    /// Values may be secrets: they go to the engine in the request body, never in argv.
    Map(std::collections::BTreeMap<String, crate::sensitive::SecretOr>),
    List(Vec<String>),
}

/// Options of `d.run`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOpts {
    #[serde(default)]
    pub name: Option<String>,
    /// `"8080:80"`, `"127.0.0.1:8080:80"`, `"53:53/udp"`, `"80"` (any free host port).
    #[serde(default)]
    pub ports: Vec<String>,
    /// `#{KEY: "value"}` (values may be secrets) or `["KEY=value"]`.
    #[serde(default)]
    pub env: Option<EnvSpec>,
    /// `"/host/dir:/in/container[:ro]"` or `"volume-name:/in/container"`.
    #[serde(default)]
    pub volumes: Vec<String>,
    #[serde(default)]
    pub network: Option<String>,
    /// `no`, `always`, `unless-stopped`, `on-failure[:N]`.
    #[serde(default)]
    pub restart: Option<String>,
    #[serde(default)]
    pub command: Option<CommandSpec>,
    #[serde(default)]
    pub entrypoint: Option<CommandSpec>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Options of `d.ps`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsOpts {
    /// Include stopped containers.
    #[serde(default)]
    pub all: bool,
    /// `"key"` or `"key=value"` (or several).
    #[serde(default)]
    pub label: Option<OneOrMany>,
    /// Containers whose name contains this.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// One row of `d.ps()`.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: String,
    pub status: String,
    pub ports: String,
    pub labels: BTreeMap<String, String>,
}

/// Options of `d.rm`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmOpts {
    /// Remove a running container (killing it).
    #[serde(default)]
    pub force: bool,
    /// Also remove its anonymous volumes.
    #[serde(default)]
    pub volumes: bool,
}

impl Docker {
    /// Create and start a container; returns its id.
    pub async fn run(&self, image: &str, opts: &RunOpts) -> Result<String> {
        self.audited("run", format!("run {image}{}", opts.name.as_ref().map(|n| format!(" --name {n}")).unwrap_or_default()), |w| async move {
        let what = match &opts.name {
            Some(n) => format!("cannot run {image} as {n}"),
            None => format!("cannot run {image}"),
        };
        let body = container_body(image, opts).map_err(|e| {
            let m = format!("{what}: {}", e.message);
            Error::usage(m)
        })?;
        let mut copts = CreateContainerOptionsBuilder::default();
        if let Some(n) = &opts.name {
            copts = copts.name(n);
        }
        let created = match w.create_container(Some(copts.build()), body).await {
            Ok(c) => c,
            Err(e) if status_of(&e) == Some(404) => {
                return Err(self.fail(&what, e).hint(format!(
                    "build it (d.build) or pull it (d.pull(\"{image}\")) first"
                )));
            }
            Err(e) if status_of(&e) == Some(409) => {
                return Err(self
                    .fail(&what, e)
                    .hint("remove the old container first (d.rm(name, #{force: true})) or pick another name"));
            }
            Err(e) => return Err(self.fail(&what, e)),
        };
        if let Err(e) = w.start_container(&created.id, None).await {
            // A container that never started is only in the way of the next attempt (same
            // name): remove it, unlike `docker run` which leaves it behind.
            let _ = w.remove_container(
                    &created.id,
                    Some(RemoveContainerOptionsBuilder::default().force(true).build()),
                )
                .await;
            let mut err = self.fail(&what, e);
            if err.message.contains("address already in use")
                || err.message.contains("port is already allocated")
            {
                err = err.hint(format!(
                    "a published port is taken on {}: pick another host port or stop what uses it",
                    self.host_name()
                ));
            }
            return Err(err);
        }
        Ok(created.id)
        }).await
    }

    /// Containers, like `docker ps` (running only unless `all`).
    pub async fn ps(&self, opts: &PsOpts) -> Result<Vec<ContainerInfo>> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(l) = &opts.label {
            filters.insert("label".into(), l.items());
        }
        if let Some(n) = &opts.name {
            filters.insert("name".into(), vec![n.clone()]);
        }
        let lopts = ListContainersOptionsBuilder::default()
            .all(opts.all)
            .filters(&filters)
            .build();
        let list = self
            .api()
            .list_containers(Some(lopts))
            .await
            .map_err(|e| self.fail("cannot list containers", e))?;
        Ok(list
            .into_iter()
            .map(|c| ContainerInfo {
                id: c.id.unwrap_or_default().chars().take(12).collect(),
                name: c
                    .names
                    .unwrap_or_default()
                    .first()
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_default(),
                image: c.image.unwrap_or_default(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                status: c.status.unwrap_or_default(),
                ports: format_ports(c.ports.unwrap_or_default()),
                labels: c.labels.unwrap_or_default().into_iter().collect(),
            })
            .collect())
    }

    pub async fn start(&self, c: &str) -> Result<()> {
        self.audited("start", format!("start {c}"), |w| async move {
            w.start_container(c, None)
                .await
                .map_err(|e| self.container_fail("cannot start", c, e))
        })
        .await
    }

    /// Stop (SIGTERM, then SIGKILL after `timeout_s`, default 10 s).
    pub async fn stop(&self, c: &str, timeout_s: Option<i32>) -> Result<()> {
        self.audited("stop", format!("stop {c}"), |w| async move {
            let mut b = StopContainerOptionsBuilder::default();
            if let Some(t) = timeout_s {
                b = b.t(t);
            }
            match w.stop_container(c, Some(b.build())).await {
                Ok(()) => Ok(()),
                // 304: already stopped — the goal is reached.
                Err(e) if status_of(&e) == Some(304) => Ok(()),
                Err(e) => Err(self.container_fail("cannot stop", c, e)),
            }
        })
        .await
    }

    pub async fn restart(&self, c: &str) -> Result<()> {
        self.audited("restart", format!("restart {c}"), |w| async move {
            w.restart_container(c, Some(RestartContainerOptionsBuilder::default().build()))
                .await
                .map_err(|e| self.container_fail("cannot restart", c, e))
        })
        .await
    }

    pub async fn rm(&self, c: &str, opts: &RmOpts) -> Result<()> {
        self.audited("rm", format!("rm {c}"), |w| async move {
            let o = RemoveContainerOptionsBuilder::default()
                .force(opts.force)
                .v(opts.volumes)
                .build();
            w.remove_container(c, Some(o)).await.map_err(|e| {
                let err = self.container_fail("cannot remove", c, e);
                if err.message.contains("running") {
                    err.hint("stop it first, or pass #{force: true}")
                } else {
                    err
                }
            })
        })
        .await
    }

    /// Everything the engine knows about a container (as `docker inspect` shows it).
    pub async fn inspect(&self, c: &str) -> Result<bollard::models::ContainerInspectResponse> {
        self.api()
            .inspect_container(c, None)
            .await
            .map_err(|e| self.container_fail("cannot inspect", c, e))
    }

    /// The container's IP address (on `network`, else on its first network with one).
    pub async fn ip(&self, c: &str, network: Option<&str>) -> Result<String> {
        let i = self.inspect(c).await?;
        let nets = i
            .network_settings
            .and_then(|n| n.networks)
            .unwrap_or_default();
        let found = match network {
            Some(n) => nets.get(n).and_then(|e| e.ip_address.clone()),
            None => {
                let mut names: Vec<&String> = nets.keys().collect();
                names.sort();
                names
                    .into_iter()
                    .filter_map(|n| nets[n].ip_address.clone())
                    .find(|ip| !ip.is_empty())
            }
        };
        match found.filter(|ip| !ip.is_empty()) {
            Some(ip) => Ok(ip),
            None => {
                let on: Vec<&String> = nets.keys().collect();
                let running = i.state.and_then(|s| s.running).unwrap_or(false);
                Err(Error::failed(match network {
                    Some(n) => format!(
                        "container {c} has no IP address on network {n} (its networks: {on:?})"
                    ),
                    None => format!("container {c} has no IP address"),
                })
                .host(self.host_name())
                .hint(if running {
                    "is it attached to a network?"
                } else {
                    "it is not running: start it first"
                }))
            }
        }
    }

    /// Wait until the container's health check says healthy (or, without a health check,
    /// until it runs). Fails early if it exits or turns unhealthy, with the probe's output.
    pub async fn wait_healthy(&self, c: &str, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            let i = self.inspect(c).await?;
            let state = i.state.unwrap_or_default();
            let status = state.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
            let health = state.health.as_ref();
            let health_status = health
                .and_then(|h| h.status)
                .unwrap_or(HealthStatusEnum::EMPTY);
            let probe_output = || {
                health
                    .and_then(|h| h.log.as_ref())
                    .and_then(|l| l.last())
                    .and_then(|r| r.output.clone())
                    .unwrap_or_default()
            };
            if matches!(
                status,
                ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD
            ) {
                let logs = self.logs(c, &Default::default()).await.unwrap_or_default();
                return Err(Error::failed(format!(
                    "container {c} exited (code {}) while waiting for it to be healthy",
                    state.exit_code.unwrap_or(-1)
                ))
                .host(self.host_name())
                .stderr(&logs));
            }
            match health_status {
                HealthStatusEnum::HEALTHY => return Ok(()),
                HealthStatusEnum::UNHEALTHY => {
                    return Err(Error::failed(format!("container {c} is unhealthy"))
                        .host(self.host_name())
                        .stderr(&probe_output()));
                }
                // No health check: running is as ready as it gets.
                HealthStatusEnum::EMPTY | HealthStatusEnum::NONE
                    if status == ContainerStateStatusEnum::RUNNING =>
                {
                    return Ok(());
                }
                _ => {}
            }
            if started.elapsed() >= timeout {
                return Err(Error::failed(format!(
                    "container {c} is not healthy after {:.0} s (state {status}, health {})",
                    timeout.as_secs_f64(),
                    if health_status == HealthStatusEnum::EMPTY {
                        "-".to_string()
                    } else {
                        health_status.to_string()
                    }
                ))
                .host(self.host_name())
                .stderr(&probe_output()));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A failure about one container: "no container X on HOST" for an unknown one.
    pub(crate) fn container_fail(&self, doing: &str, c: &str, e: bollard::errors::Error) -> Error {
        if status_of(&e) == Some(404) {
            return Error::failed(format!(
                "{doing} container {c}: no such container on {}",
                self.host_name()
            ))
            .host(self.host_name())
            .hint("d.ps(#{all: true}) lists the containers there");
        }
        self.fail(format!("{doing} container {c}"), e)
    }
}

fn container_body(image: &str, o: &RunOpts) -> Result<ContainerCreateBody> {
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &o.ports {
        let (key, binding) = parse_port(p)?;
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    let restart = o.restart.as_deref().map(parse_restart).transpose()?;
    Ok(ContainerCreateBody {
        image: Some(image.to_string()),
        env: o.env.as_ref().map(env_list),
        cmd: o.command.as_ref().map(CommandSpec::argv).transpose()?,
        entrypoint: o.entrypoint.as_ref().map(CommandSpec::argv).transpose()?,
        user: o.user.clone(),
        working_dir: o.workdir.clone(),
        hostname: o.hostname.clone(),
        labels: (!o.labels.is_empty()).then(|| o.labels.clone().into_iter().collect()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            binds: (!o.volumes.is_empty()).then(|| o.volumes.clone()),
            network_mode: o.network.clone(),
            restart_policy: restart,
            cap_drop: (!o.cap_drop.is_empty()).then(|| o.cap_drop.clone()),
            cap_add: (!o.cap_add.is_empty()).then(|| o.cap_add.clone()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// `env` as `KEY=value` lines.
fn env_list(env: &EnvSpec) -> Vec<String> {
    match env {
        EnvSpec::Map(m) => m
            .iter()
            .map(|(k, v)| match v {
                crate::sensitive::SecretOr::Plain(s) => format!("{k}={s}"),
                crate::sensitive::SecretOr::Secret(s) => format!("{k}={}", s.expose()),
            })
            .collect(),
        EnvSpec::List(l) => l.clone(),
    }
}

/// `[ip:]host_port:container_port[/proto]` or `container_port[/proto]`.
pub fn parse_port(spec: &str) -> Result<(String, PortBinding)> {
    let bad = || {
        Error::usage(format!(
            "bad port `{spec}`: write \"HOST:CONTAINER\", \"IP:HOST:CONTAINER\" or \"CONTAINER\" (optionally /tcp or /udp)"
        ))
    };
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto @ ("tcp" | "udp" | "sctp"))) => (p, proto),
        Some(_) => return Err(bad()),
        None => (spec, "tcp"),
    };
    let parts: Vec<&str> = ports.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => return Err(bad()),
    };
    if container.parse::<u16>().is_err() || (!host.is_empty() && host.parse::<u16>().is_err()) {
        return Err(bad());
    }
    Ok((
        format!("{container}/{proto}"),
        PortBinding {
            host_ip: (!ip.is_empty()).then(|| ip.to_string()),
            host_port: Some(host.to_string()),
        },
    ))
}

fn parse_restart(text: &str) -> Result<RestartPolicy> {
    use bollard::models::RestartPolicyNameEnum as R;
    let (name, count) = match text.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (text, None),
    };
    let name = match name {
        "no" | "" => R::NO,
        "always" => R::ALWAYS,
        "unless-stopped" => R::UNLESS_STOPPED,
        "on-failure" => R::ON_FAILURE,
        other => {
            return Err(Error::usage(format!(
                "bad restart policy `{other}`: use no, always, unless-stopped or on-failure[:N]"
            )));
        }
    };
    let maximum_retry_count = match count {
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            Error::usage(format!("bad restart policy `{text}`: N must be a number"))
        })?),
        None => None,
    };
    Ok(RestartPolicy {
        name: Some(name),
        maximum_retry_count,
    })
}

/// Ports as `docker ps` shows them: `0.0.0.0:8080->80/tcp, 443/tcp`.
fn format_ports(mut ports: Vec<bollard::models::PortSummary>) -> String {
    ports.sort_by_key(|p| (p.private_port, p.public_port));
    let mut out: Vec<String> = Vec::new();
    for p in ports {
        let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
        let item = match (p.ip, p.public_port) {
            (Some(ip), Some(pub_port)) => format!("{ip}:{pub_port}->{}/{proto}", p.private_port),
            (None, Some(pub_port)) => format!("{pub_port}->{}/{proto}", p.private_port),
            _ => format!("{}/{proto}", p.private_port),
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out.join(", ")
}

/// `d.stop(container, #{timeout})`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopOpts {
    /// Seconds to wait before SIGKILL.
    #[serde(default)]
    pub timeout: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        let (k, b) = parse_port("127.0.0.1:8080:80").unwrap();
        assert_eq!(k, "80/tcp");
        assert_eq!(
            (b.host_ip.as_deref(), b.host_port.as_deref()),
            (Some("127.0.0.1"), Some("8080"))
        );
        assert_eq!(parse_port("53:53/udp").unwrap().0, "53/udp");
        assert_eq!(parse_port("80").unwrap().1.host_port.as_deref(), Some(""));
        assert!(parse_port("http").is_err());
        assert!(parse_port("80/xtp").is_err());
    }

    #[test]
    fn restart_policies() {
        assert!(parse_restart("unless-stopped").is_ok());
        assert_eq!(
            parse_restart("on-failure:3").unwrap().maximum_retry_count,
            Some(3)
        );
        assert!(parse_restart("sometimes").is_err());
    }
}
