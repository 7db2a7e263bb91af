//! The release engine of one app on one host: [`Release`], opened by `h.release(app, opts)`,
//! and the [`Candidate`] release it prepares, proves and puts live. The recipes only
//! orchestrate these steps; every decision — what is live, what a rollback restores, whether
//! a release may take traffic — is made here, each failure a `Result` that cannot be
//! dropped:
//!
//! 1. [`Release::prepare`] / [`Release::prepare_back`]: the release, read-only (its files,
//!    what pins its image, which services run it, its record).
//! 2. [`Release::preflight`] (preflight.rs): proven beside the live release, which keeps
//!    serving untouched whatever happens.
//! 3. [`Release::cutover`] (cutover.rs): put in place behind a host-side guard that puts the
//!    live release back — files, records, containers — if anything fails or the run is lost.
//! 4. [`Release::watch`] (watch.rs): watched for a while; one that turns unhealthy is rolled
//!    back.

use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde::Deserialize;

use super::guard;
use super::history::History;
use super::layout;
use super::record::Record;
use super::store::Store;
use crate::command::Value as EnvValue;
use crate::compose::model::ComposeFile;
use crate::compose::{ComposeOptions, Project};
use crate::docker::Docker;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::report::{Event, Level};

/// `h.release(app, opts)`: how the app is released on a host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseOptions {
    /// Project directory on the host (none: ~/apps/APP).
    #[serde(default)]
    pub dir: Option<String>,
    /// Env files relative to it, given to compose (none: the live release's; [] : `.env`).
    #[serde(default)]
    pub env_files: Option<Vec<String>>,
    /// Compose profiles (none: the live release's).
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    /// The recipe making the releases (kept in their records).
    #[serde(default)]
    pub recipe: String,
    /// Host port of an HTTP check of the release (0: its containers' health only).
    #[serde(default)]
    pub health_port: u16,
    /// Path of that HTTP check.
    #[serde(default = "root_path")]
    pub health_path: String,
    /// Seconds each check may take.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Services recreated one after another, each checked ([]: all at once).
    #[serde(default)]
    pub services: Vec<String>,
    /// How many releases keep their files (the live and confirmed ones always do).
    #[serde(default = "default_keep")]
    pub keep_releases: usize,
    /// Host names (comma-separated) the host's front proxy routes to the app: releases switch
    /// behind it (routing.rs). None: the live release's, else none (published ports).
    #[serde(default)]
    pub domain: Option<String>,
    /// Path prefix of the route (none: every path; none given: the live release's).
    #[serde(default)]
    pub path: Option<String>,
    /// `auto` or `internal` (none given: the live release's).
    #[serde(default)]
    pub tls: Option<String>,
    /// The routed service's container port (0: from the compose file or the image, else 80).
    #[serde(default)]
    pub app_port: u16,
    /// Seconds requests in flight to the old release may take after the switch.
    #[serde(default = "default_drain")]
    pub drain: u64,
    /// The proxy's image, when the host has none yet (default caddy:2).
    #[serde(default)]
    pub proxy_image: Option<String>,
    #[serde(default = "default_http_port")]
    pub proxy_http_port: u16,
    #[serde(default = "default_https_port")]
    pub proxy_https_port: u16,
}

fn default_drain() -> u64 {
    30
}
fn default_http_port() -> u16 {
    80
}
fn default_https_port() -> u16 {
    443
}

fn root_path() -> String {
    "/".into()
}
fn default_timeout() -> u64 {
    120
}
fn default_keep() -> usize {
    10
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            dir: None,
            env_files: None,
            profiles: None,
            recipe: String::new(),
            health_port: 0,
            health_path: root_path(),
            timeout: default_timeout(),
            services: Vec::new(),
            keep_releases: default_keep(),
            domain: None,
            path: None,
            tls: None,
            app_port: 0,
            drain: default_drain(),
            proxy_image: None,
            proxy_http_port: default_http_port(),
            proxy_https_port: default_https_port(),
        }
    }
}

/// `r.prepare(image, opts)`: what a new release brings besides its image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFiles {
    /// The compose file's text (none: the project's own, as it is on the host).
    #[serde(default)]
    pub compose: Option<String>,
    /// Env files to put beside it: name → text (written mode 0600).
    #[serde(default)]
    pub env_files: IndexMap<String, String>,
    /// The recipe's parameters, kept in the record (never secrets).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The image came over SSH (no registry): it is pinned by its image ID.
    #[serde(default)]
    pub sent: bool,
}

/// Where a candidate release stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Prepared,
    /// Passed its pre-flight (or had no live release to be proven beside).
    Proven,
    Live,
    Failed,
}

/// A release about to go live: a new one, or a recorded one gone back to.
#[derive(Clone)]
pub struct Candidate {
    pub(super) inner: Arc<CandidateInner>,
}

pub(super) struct CandidateInner {
    /// Its record, as it reads once live.
    pub record: Record,
    /// A recorded release gone back to (`--rollback`, `--to`), not a new one.
    pub back: bool,
    /// The files it runs (compose file first, then env files), put in place at its cutover;
    /// none: the project's files stay as they are (a release an older hoist recorded).
    pub files: Vec<(String, Vec<u8>)>,
    /// The services that run its image.
    pub pinned_services: Vec<String>,
    /// Its configuration, rendered from its files and pin.
    pub config: ComposeFile,
    /// The records before it (with a record for a project found set up by hand).
    pub before: History,
    pub stage: Mutex<Stage>,
    /// hoist's override file for it (its pin, and the proxy network when routed).
    pub pin: String,
    /// Behind the proxy: the routed service and its port.
    pub routed: Option<super::routed::Routed>,
    /// Behind the proxy: its pre-flight, kept to serve during the cutover.
    pub kept: Mutex<Option<super::routed::KeptPreflight>>,
}

impl Candidate {
    pub fn record(&self) -> &Record {
        &self.inner.record
    }
    pub fn stage(&self) -> Stage {
        *self.inner.stage.lock().expect("stage lock")
    }
    pub(super) fn set_stage(&self, s: Stage) {
        *self.inner.stage.lock().expect("stage lock") = s;
    }
    /// The live release it replaces, if any.
    pub fn previous(&self) -> Option<&Record> {
        self.inner.before.live()
    }
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Release({} {} {:?})",
            self.inner.record.id,
            self.inner.record.image,
            self.stage()
        )
    }
}

/// The release engine of one app on one host. Cheap to clone.
#[derive(Clone)]
pub struct Release {
    pub(super) inner: Arc<ReleaseInner>,
}

pub(super) struct ReleaseInner {
    pub host: Host,
    pub docker: Docker,
    pub app: String,
    pub dir: String,
    pub env_files: Vec<String>,
    pub profiles: Vec<String>,
    pub opts: ReleaseOptions,
    pub store: Store,
    /// Behind the host's front proxy (`domain`).
    pub routing: Option<super::routed::Routing>,
}

impl std::fmt::Debug for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Release({} in {} on {})",
            self.inner.app,
            self.inner.dir,
            self.inner.host.name()
        )
    }
}

impl Release {
    /// The app's releases on `host`. Env files and profiles not given are the live
    /// release's (as its record keeps them). Settles what earlier runs' guards left first.
    pub async fn open(
        host: &Host,
        docker: Docker,
        app: &str,
        opts: ReleaseOptions,
    ) -> Result<Release> {
        let normal = crate::compose::project::normalize_project_name(app);
        if normal != app || app.is_empty() {
            return Err(Error::usage(format!(
                "app `{app}` is the compose project name: use lower case letters, digits, `_` and `-` (like `{normal}`)"
            )));
        }
        if opts.timeout == 0 {
            return Err(Error::usage("timeout must be at least 1 second"));
        }
        let dir = layout::project_dir(app, opts.dir.as_deref());
        let store = Store::new(host, &dir);
        settle_leftovers(host).await?;
        let history = store.load().await?;
        let live = history.live();
        let env_files = opts
            .env_files
            .clone()
            .or_else(|| live.map(|l| l.env_files.clone()))
            .unwrap_or_default();
        let profiles = opts
            .profiles
            .clone()
            .or_else(|| live.map(|l| l.profiles.clone()))
            .unwrap_or_default();
        let routing = routing_of(host, app, &docker, &opts, live).await?;
        Ok(Release {
            inner: Arc::new(ReleaseInner {
                host: host.clone(),
                docker,
                app: app.to_string(),
                dir,
                env_files,
                profiles,
                opts,
                store,
                routing,
            }),
        })
    }

    pub fn host(&self) -> &Host {
        &self.inner.host
    }
    pub fn app(&self) -> &str {
        &self.inner.app
    }
    pub fn dir(&self) -> &str {
        &self.inner.dir
    }
    pub fn options(&self) -> &ReleaseOptions {
        &self.inner.opts
    }
    pub fn env_files(&self) -> &[String] {
        &self.inner.env_files
    }
    pub fn profiles(&self) -> &[String] {
        &self.inner.profiles
    }

    /// The records, oldest first.
    pub async fn history(&self) -> Result<History> {
        self.inner.store.load().await
    }

    /// The app's compose project as a release with these env files and profiles runs it;
    /// `overlay` stands in for files not in place yet, `env` adds interpolation variables.
    pub(super) fn project(
        &self,
        env_files: &[String],
        profiles: &[String],
        overlay: IndexMap<String, Option<String>>,
        env: Vec<(String, EnvValue)>,
    ) -> Result<Project> {
        Project::new(
            &self.inner.host,
            &self.inner.dir,
            ComposeOptions {
                project: Some(self.inner.app.clone()),
                env_files: env_files.to_vec(),
                profiles: profiles.to_vec(),
                overlay,
                env,
                ..ComposeOptions::default()
            },
        )
    }

    /// A message to the reporter.
    pub(super) fn say(&self, level: Level, text: String) {
        say(&self.inner.host, level, text)
    }

    /// The project's compose file on the host (what compose picks first), if any.
    pub(super) async fn compose_file_on_host(&self) -> Result<Option<String>> {
        for f in layout::COMPOSE_FILES {
            if self.inner.host.exists(&self.path(f)).await? {
                return Ok(Some(f.to_string()));
            }
        }
        Ok(None)
    }

    pub(super) fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.inner.dir)
    }

    /// Refuse a project whose override files would hide hoist's pin, or whose
    /// `docker-compose.override.yml` is its own.
    pub(super) async fn check_overrides(&self) -> Result<()> {
        let h = &self.inner.host;
        for f in layout::OTHER_OVERRIDES {
            if h.exists(&self.path(f)).await? {
                return Err(Error::failed(format!(
                    "{}: {} has its own {f}, which compose reads instead of hoist's {}: hoist pins releases there; nothing was changed",
                    h.name(),
                    self.inner.dir,
                    layout::PIN_FILE
                ))
                .host(h.name())
                .hint(format!("merge {f} into the compose file (or rename it) so compose reads hoist's pin")));
            }
        }
        let pin = self.path(layout::PIN_FILE);
        if let Some(text) = h.read_bytes_if_present(&pin, false).await?
            && !String::from_utf8_lossy(&text).starts_with(layout::PIN_MARK)
        {
            return Err(Error::failed(format!(
                "{}: {pin} is the project's own override file; hoist pins releases in that file and will not overwrite it: nothing was changed",
                h.name()
            ))
            .host(h.name()));
        }
        Ok(())
    }

    /// `upgrade --confirm`: the live release is kept; a plain `--rollback` does not go past it.
    pub async fn confirm(&self) -> Result<Record> {
        let h = self.history().await?;
        let next = h.confirmed(&now()).map_err(|e| {
            Error::failed(format!(
                "{}: {}",
                self.inner.host.name(),
                e.explain(&self.inner.app)
            ))
            .host(self.inner.host.name())
        })?;
        self.inner.store.save(&next).await?;
        Ok(next.live().cloned().expect("confirmed has a live release"))
    }
}

/// The app's routing: the domain given, else the live release's (its record's params); the
/// host's proxy is started when it is not running.
async fn routing_of(
    host: &Host,
    app: &str,
    docker: &Docker,
    opts: &ReleaseOptions,
    live: Option<&Record>,
) -> Result<Option<super::routed::Routing>> {
    let given = |v: &Option<String>, key: &str| -> Option<String> {
        v.clone().filter(|s| !s.trim().is_empty()).or_else(|| {
            live.and_then(|l| l.params.get(key))
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
    };
    let proxy = crate::proxy::Proxy::new(
        host,
        docker.clone(),
        crate::proxy::ProxyOptions {
            image: opts.proxy_image.clone().filter(|i| !i.is_empty()),
            http_port: opts.proxy_http_port,
            https_port: opts.proxy_https_port,
        },
    );
    let (domains, path, tls) = match given(&opts.domain, "domain") {
        Some(domain) => {
            let domains = crate::proxy::route::domains(&domain);
            for d in &domains {
                crate::proxy::route::check_domain(d)?;
            }
            let path = crate::proxy::route::check_path(given(&opts.path, "path").as_deref())?;
            let tls = crate::proxy::Tls::parse(given(&opts.tls, "tls").as_deref().unwrap_or(""))?;
            (domains, path, tls)
        }
        None => {
            // The proxy itself knows the apps it routes (a release gone back to may predate
            // the domain).
            if !proxy.running().await? {
                return Ok(None);
            }
            match proxy.route(app).await? {
                Some(r) => (r.domains, r.path, r.tls),
                None => return Ok(None),
            }
        }
    };
    {
        let _step = crate::step::enter(&format!("Front proxy on {}", host.name()));
        proxy.ensure().await?;
    }
    Ok(Some(super::routed::Routing {
        proxy,
        domains,
        path,
        tls,
        port: opts.app_port,
        drain: std::time::Duration::from_secs(opts.drain),
    }))
}

/// The time as records keep it: UTC, RFC 3339, whole seconds (one length, so a plan's record
/// sizes are the run's).
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A message to the reporter, secrets redacted.
pub(super) fn say(host: &Host, level: Level, text: String) {
    let s = host.services();
    s.reporter.event(Event::Message {
        level,
        text: s.redactor.redact(&text),
    });
}

/// Report (and settle) what the guards of earlier runs left on this host: undos the host made
/// on its own while no run was there, or armed guards whose watcher is gone.
async fn settle_leftovers(h: &Host) -> Result<()> {
    for left in guard::reconcile(h, guard::DIR).await? {
        let tail: Vec<&str> = left.fired.output.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        say(
            h,
            Level::Warn,
            format!(
                "{}: an earlier run's guard {} {} ({}; exit code {}): {}",
                h.name(),
                left.name,
                if left.ran_now {
                    "was left armed by a run that is gone; its undo ran now"
                } else {
                    "fired while no run was there"
                },
                left.fired.why.explain(),
                left.fired.code,
                tail.join(" | ")
            ),
        );
    }
    Ok(())
}
