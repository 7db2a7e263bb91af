//! The front proxy of a host: Caddy (an existing proxy, not one of hoist's) in the container
//! `hoist-proxy` on the Docker network `hoist-proxy`, listening on the host's HTTP and HTTPS
//! ports, routing each app's host names (and optional path prefix) to its live container on
//! that network. hoist configures it only through Caddy's admin API (admin.rs), reached over
//! its SSH connection and never published. Caddy saves every config it is given (autosave in
//! the `hoist-proxy-config` volume) and starts with `--resume`, and the container restarts
//! with the engine: a reboot of the host, or of Caddy, brings every route back without hoist.
//! Certificates (its internal CA, ACME accounts) live in the `hoist-proxy-data` volume.

pub mod admin;
pub mod caddy;
pub mod maintenance;
pub mod route;

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

pub use route::{Route, RouteOpts, Tls};

use crate::command::Command;
use crate::docker::Docker;
use crate::docker::RunOpts;
use crate::error::{Error, Result};
use crate::host::Host;

/// The proxy's container.
pub const CONTAINER: &str = "hoist-proxy";
/// The Docker network on which the proxy reaches the apps.
pub const NETWORK: &str = "hoist-proxy";
/// The image production runs (Docker Hub's official Caddy image).
pub const DEFAULT_IMAGE: &str = "caddy:2";
const DATA_VOLUME: &str = "hoist-proxy-data";
const CONFIG_VOLUME: &str = "hoist-proxy-config";
/// The label hoist puts on what it creates for the proxy.
const LABEL: &str = "org.hoist.proxy";
/// Host memo key: the config a dry run planned (later route changes of the run diff from it).
const PLANNED: &str = "hoist-proxy.planned-config";

/// Which proxy a host runs: its image and the host ports it listens on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProxyOptions {
    /// Any image with Caddy >= 2.6 and wget (default caddy:2).
    #[serde(default)]
    pub image: Option<String>,
    /// Host port of plain HTTP (default 80).
    #[serde(default = "http_port")]
    pub http_port: u16,
    /// Host port of HTTPS (default 443).
    #[serde(default = "https_port")]
    pub https_port: u16,
}

fn http_port() -> u16 {
    80
}
fn https_port() -> u16 {
    443
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            image: None,
            http_port: http_port(),
            https_port: https_port(),
        }
    }
}

impl ProxyOptions {
    pub fn image(&self) -> &str {
        self.image
            .as_deref()
            .filter(|i| !i.is_empty())
            .unwrap_or(DEFAULT_IMAGE)
    }
}

/// The proxy of one host. Cheap to clone.
#[derive(Clone)]
pub struct Proxy {
    host: Host,
    docker: Docker,
    opts: ProxyOptions,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({} on {})", CONTAINER, self.host.name())
    }
}

/// What `hoist proxy status` shows of a host's proxy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// `running`, `exited`, … or `absent`.
    pub state: String,
    pub image: String,
    pub routes: Vec<Route>,
    /// Caddy's upstreams: address, requests in flight, failures.
    pub upstreams: Value,
}

/// A warning to the reporter.
fn warn(host: &Host, text: String) {
    host.services()
        .reporter
        .event(crate::report::Event::Message {
            level: crate::report::Level::Warn,
            text,
        });
}

impl Proxy {
    pub fn new(host: &Host, docker: Docker, opts: ProxyOptions) -> Proxy {
        Proxy {
            host: host.clone(),
            docker,
            opts,
        }
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// `running`, `exited`, … or None when there is no proxy container (a probe).
    async fn state(&self) -> Result<Option<(String, String)>> {
        let out = self
            .host
            .run(
                &Command::argv([
                    "docker",
                    "inspect",
                    "--type",
                    "container",
                    "-f",
                    "{{.State.Status}} {{.Config.Image}}",
                    CONTAINER,
                ])
                .probe()
                .quiet()
                .check(false),
            )
            .await?;
        if !out.ok() {
            return Ok(None);
        }
        let mut it = out.stdout.trim().splitn(2, ' ');
        let state = it.next().unwrap_or_default().to_string();
        Ok(Some((state, it.next().unwrap_or_default().to_string())))
    }

    /// Whether the proxy container runs (a probe).
    pub async fn running(&self) -> Result<bool> {
        Ok(self.state().await?.is_some_and(|(s, _)| s == "running"))
    }

    async fn network_exists(&self) -> Result<bool> {
        self.host
            .test(
                &Command::argv(["docker", "network", "inspect", NETWORK])
                    .probe()
                    .quiet(),
            )
            .await
    }

    /// The proxy runs: its network, volumes and container made where missing (the image
    /// pulled when the host lacks it), a stopped one started; then its admin API answers.
    /// A proxy that runs another image than the one asked for is left as it is (with a
    /// warning): `hoist proxy reboot --proxy-image` changes it. True when something changed.
    pub async fn ensure(&self) -> Result<bool> {
        let mut changed = false;
        if !self.network_exists().await? {
            self.docker
                .ensure_network(
                    NETWORK,
                    &crate::docker::NetworkOpts {
                        labels: [(LABEL.to_string(), "1".to_string())].into(),
                        ..Default::default()
                    },
                )
                .await?;
            changed = true;
        }
        match self.state().await? {
            Some((state, image)) => {
                if image != self.opts.image() && self.opts.image.is_some() {
                    warn(
                        &self.host,
                        format!(
                            "{}: the proxy runs {image}, not {}: `hoist proxy reboot --proxy-image {}` replaces it (its routes stay)",
                            self.host.name(),
                            self.opts.image(),
                            self.opts.image()
                        ),
                    );
                }
                if state != "running" {
                    self.docker.start(CONTAINER).await?;
                    changed = true;
                }
            }
            None => {
                self.create().await?;
                changed = true;
            }
        }
        if changed {
            self.wait_admin().await?;
        }
        Ok(changed)
    }

    /// Create and start the proxy container.
    async fn create(&self) -> Result<()> {
        let image = self.opts.image();
        if !self.docker.image_exists(image).await? {
            let _step = crate::step::enter(&format!(
                "Pull the proxy image {image} on {}",
                self.host.name()
            ));
            self.docker.pull(image).await?;
        }
        let run = RunOpts {
            name: Some(CONTAINER.into()),
            ports: vec![
                format!("{}:80", self.opts.http_port),
                format!("{}:443", self.opts.https_port),
            ],
            env: Some(crate::docker::EnvSpec::List(vec![
                "XDG_CONFIG_HOME=/config".into(),
                "XDG_DATA_HOME=/data".into(),
            ])),
            volumes: vec![
                format!("{DATA_VOLUME}:/data"),
                format!("{CONFIG_VOLUME}:/config"),
            ],
            network: Some(NETWORK.into()),
            restart: Some("unless-stopped".into()),
            // --resume: the config last given through the admin API (autosaved), so a
            // restart restores every route.
            command: Some(crate::docker::CommandSpec::Argv(vec![
                "caddy".into(),
                "run".into(),
                "--resume".into(),
            ])),
            labels: [(LABEL.to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        self.docker.run(image, &run).await.map(|_| ())
    }

    /// Wait (up to 30 s) for the admin API to answer; not in a dry run.
    async fn wait_admin(&self) -> Result<()> {
        if self.host.services().effects().planning() {
            return Ok(());
        }
        let start = Instant::now();
        loop {
            match admin::get(&self.host, "/config/").await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() > Duration::from_secs(30) => {
                    let logs = self.logs(10).await.unwrap_or_default();
                    return Err(Error::failed(format!(
                        "{}: the proxy {CONTAINER} started but its admin API does not answer after 30 s: {}; its log: {}",
                        self.host.name(),
                        e.message,
                        logs.trim()
                    ))
                    .host(self.host.name()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    /// Caddy's config now (a dry run's planned one after a planned change; `{}` when the
    /// proxy is not there yet in a dry run).
    pub async fn config(&self) -> Result<Value> {
        if self.host.services().effects().planning() {
            if let Some(p) = self.host.recall(PLANNED) {
                return Ok(serde_json::from_str(&p).unwrap_or(Value::Null));
            }
            if self.state().await?.is_none() {
                return Ok(json!({}));
            }
        }
        let v = admin::get(&self.host, "/config/").await?;
        Ok(if v.is_null() { json!({}) } else { v })
    }

    /// The routes hoist gave the proxy.
    pub async fn routes(&self) -> Result<Vec<Route>> {
        Ok(caddy::routes(&self.config().await?))
    }

    /// The route of `app`, if any.
    pub async fn route(&self, app: &str) -> Result<Option<Route>> {
        Ok(self.routes().await?.into_iter().find(|r| r.app == app))
    }

    /// Load a whole config (the routes change): a change whose plan shows the diff.
    async fn load(&self, routes: &[Route], summary: String) -> Result<()> {
        let before = self.config().await?;
        let after = caddy::config(routes);
        let planned = !admin::post(
            &self.host,
            "/load",
            &after,
            summary,
            caddy::pretty(&before),
            caddy::pretty(&after),
        )
        .await?;
        if planned {
            self.host.remember(PLANNED, after.to_string());
        }
        Ok(())
    }

    /// Give `route` to its app (replacing its route). Only the upstream differs: switched in
    /// place (see [`Proxy::switch`]). False when the proxy has it already.
    pub async fn set_route(&self, route: &Route) -> Result<bool> {
        let mut routes = self.routes().await?;
        let old = routes.iter().position(|r| r.app == route.app);
        // A release does not end maintenance mode: only `live` does.
        let mut route = route.clone();
        if let Some(i) = old {
            route.maintenance = routes[i].maintenance.clone();
        }
        let route = &route;
        if let Some(i) = old {
            let o = &routes[i];
            if o == route {
                return Ok(false);
            }
            if o.domains == route.domains && o.path == route.path && o.tls == route.tls {
                self.switch(&route.app, &route.upstream).await?;
                return Ok(true);
            }
        }
        for other in routes.iter().filter(|r| r.app != route.app) {
            if other.path == route.path
                && let Some(d) = other.domains.iter().find(|d| route.domains.contains(d))
            {
                return Err(Error::usage(format!(
                    "{}: {d}{} is routed to app {} already: one host name (and path) serves one app",
                    self.host.name(),
                    route.path.as_deref().unwrap_or(""),
                    other.app
                ))
                .host(self.host.name()));
            }
        }
        match old {
            Some(i) => routes[i] = route.clone(),
            None => routes.push(route.clone()),
        }
        self.load(
            &routes,
            format!(
                "proxy on {}: route {} for {}",
                self.host.name(),
                route.describe(),
                route.app
            ),
        )
        .await?;
        Ok(true)
    }

    /// Remove the route of `app`; false when it had none.
    pub async fn remove_route(&self, app: &str) -> Result<bool> {
        let routes = self.routes().await?;
        if !routes.iter().any(|r| r.app == app) {
            return Ok(false);
        }
        let rest: Vec<Route> = routes.into_iter().filter(|r| r.app != app).collect();
        self.load(
            &rest,
            format!("proxy on {}: remove the route of {app}", self.host.name()),
        )
        .await?;
        Ok(true)
    }

    /// Put `app` in maintenance mode: its names answer 503 with `message` (its route and
    /// upstream stay, so a release may go on behind the page). False when it already showed
    /// that message.
    pub async fn maintenance(&self, app: &str, message: &str) -> Result<bool> {
        self.set_maintenance(app, Some(message.to_string())).await
    }

    /// End maintenance mode: the app's names reach the app again. False when it was live.
    pub async fn live(&self, app: &str) -> Result<bool> {
        self.set_maintenance(app, None).await
    }

    async fn set_maintenance(&self, app: &str, message: Option<String>) -> Result<bool> {
        let mut routes = self.routes().await?;
        let known: Vec<String> = routes.iter().map(|r| r.app.clone()).collect();
        let Some(r) = routes.iter_mut().find(|r| r.app == app) else {
            return Err(self.no_route(app, &known));
        };
        if r.maintenance == message {
            return Ok(false);
        }
        let summary = match &message {
            Some(m) => format!(
                "proxy on {}: {} answers 503 (maintenance: {m})",
                self.host.name(),
                r.domains.join(",")
            ),
            None => format!(
                "proxy on {}: {} reaches {app} again (maintenance over)",
                self.host.name(),
                r.domains.join(",")
            ),
        };
        r.maintenance = message;
        self.load(&routes, summary).await?;
        Ok(true)
    }

    /// The error for an app the proxy has no route for, naming those it has.
    fn no_route(&self, app: &str, known: &[String]) -> Error {
        let has = if known.is_empty() {
            "it has none".to_string()
        } else {
            format!("it routes {}", known.join(", "))
        };
        Error::usage(format!(
            "{}: the proxy has no route for {app} ({has})",
            self.host.name()
        ))
        .host(self.host.name())
        .hint("an app gets a route when it is deployed with --domain; `hoist proxy status` lists the routes")
    }

    /// Point the route of `app` at `upstream`, in place: one admin call per server, each an
    /// atomic switch (requests in flight finish on the old upstream, new ones go to the new);
    /// the other apps' routes are not touched.
    pub async fn switch(&self, app: &str, upstream: &str) -> Result<()> {
        let routes = self.routes().await?;
        let Some(old) = routes.iter().find(|r| r.app == app) else {
            return Err(Error::failed(format!(
                "{}: the proxy has no route for {app} to switch",
                self.host.name()
            ))
            .host(self.host.name()));
        };
        if old.upstream == upstream {
            return Ok(());
        }
        let before = caddy::config(&routes);
        let after_routes: Vec<Route> = routes
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r.app == app {
                    r.upstream = upstream.to_string();
                }
                r
            })
            .collect();
        let after = caddy::config(&after_routes);
        let summary = format!(
            "proxy on {}: switch {} from {} to {upstream}",
            self.host.name(),
            old.domains.join(","),
            old.upstream
        );
        let mut planned = false;
        for https in [false, true] {
            planned |= !admin::post(
                &self.host,
                &caddy::dial_path(app, https),
                &json!(upstream),
                summary.clone(),
                caddy::pretty(&before),
                caddy::pretty(&after),
            )
            .await?;
        }
        if planned {
            self.host.remember(PLANNED, after.to_string());
        }
        Ok(())
    }

    /// Wait until no request is in flight to `upstream` (or Caddy no longer lists it), at
    /// most `max`; returns how long it took. Not in a dry run.
    pub async fn drain(&self, upstream: &str, max: Duration) -> Result<Duration> {
        let start = Instant::now();
        if self.host.services().effects().planning() {
            return Ok(Duration::ZERO);
        }
        while start.elapsed() < max {
            match admin::in_flight(&self.host, upstream).await? {
                None | Some(0) => break,
                Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        Ok(start.elapsed())
    }

    /// The proxy's state, image, routes and upstreams.
    pub async fn status(&self) -> Result<Status> {
        let Some((state, image)) = self.state().await? else {
            return Ok(Status {
                state: "absent".into(),
                image: String::new(),
                routes: Vec::new(),
                upstreams: Value::Null,
            });
        };
        let (routes, upstreams) = if state == "running" {
            (
                self.routes().await?,
                admin::get(&self.host, "/reverse_proxy/upstreams").await?,
            )
        } else {
            (Vec::new(), Value::Null)
        };
        Ok(Status {
            state,
            image,
            routes,
            upstreams,
        })
    }

    /// The proxy's last `tail` log lines (stdout and stderr).
    pub async fn logs(&self, tail: u64) -> Result<String> {
        let out = self
            .host
            .run(
                &Command::argv(["docker", "logs", "--tail", &tail.to_string(), CONTAINER])
                    .probe()
                    .quiet(),
            )
            .await?;
        Ok(format!("{}{}", out.stdout, out.stderr))
    }

    /// Restart the proxy — replaced by a new container when another image is asked for —
    /// and check that it came back with the routes it had (read from its saved config).
    /// Returns the routes it serves.
    pub async fn reboot(&self) -> Result<Vec<Route>> {
        let before = match self.state().await? {
            Some((s, _)) if s == "running" => Some(self.routes().await?),
            _ => None,
        };
        match self.state().await? {
            Some((_, image)) if self.opts.image.is_some() && image != self.opts.image() => {
                self.docker
                    .rm(
                        CONTAINER,
                        &crate::docker::RmOpts {
                            force: true,
                            volumes: false,
                        },
                    )
                    .await?;
                self.create().await?;
            }
            Some(_) => self.docker.restart(CONTAINER).await?,
            None => {
                self.ensure().await?;
            }
        }
        self.wait_admin().await?;
        if self.host.services().effects().planning() {
            return Ok(before.unwrap_or_default());
        }
        let after = self.routes().await?;
        if let Some(b) = before
            && b != after
        {
            return Err(Error::failed(format!(
                "{}: the proxy came back with other routes than it had: before {:?}, now {:?}",
                self.host.name(),
                b.iter().map(Route::describe).collect::<Vec<_>>(),
                after.iter().map(Route::describe).collect::<Vec<_>>()
            ))
            .host(self.host.name()));
        }
        Ok(after)
    }
}

/// `p.logs(#{tail})`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyLogOpts {
    /// Lines from the end (default 100).
    #[serde(default)]
    pub tail: Option<u64>,
}
