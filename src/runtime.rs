//! The run: one tokio runtime, the reporter, the inventory and vars, and one connection per
//! host. The CLI, the REPL, tests and embedding programs all start here.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::audit::Audit;
use crate::error::{Error, Result};
use crate::host::{Host, HostSpec, SshOptions};
use crate::inventory::{Environment, Inventory, Limit};
use crate::report::{SharedReporter, Silent};
use crate::secret::Redactor;
use crate::services::Services;

/// Run-wide switches from the command line.
#[derive(Clone)]
pub struct Settings {
    /// How many hosts a fan-out works on at once.
    pub forks: usize,
    /// Answer yes to every `confirm`.
    pub yes: bool,
    /// A person is at a terminal (so `confirm` may ask).
    pub interactive: bool,
    pub ssh: SshOptions,
    /// How `confirm()` asks a person (set by the CLI when a terminal is attached).
    pub confirm: Option<Confirm>,
    /// Seconds `with_lock` waits for another run's lock before refusing (`--lock-wait`).
    pub lock_wait: f64,
    /// `--limit`: only the inventory hosts these patterns match.
    pub limit: Limit,
}

pub type Confirm = Arc<dyn Fn(&str) -> Result<bool> + Send + Sync>;

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("forks", &self.forks)
            .field("yes", &self.yes)
            .field("interactive", &self.interactive)
            .field("ssh", &self.ssh)
            .field("lock_wait", &self.lock_wait)
            .field("limit", &self.limit)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            forks: 32,
            yes: false,
            interactive: false,
            ssh: SshOptions::default(),
            confirm: None,
            lock_wait: 0.0,
            limit: Limit::default(),
        }
    }
}

/// Builds a [`Runtime`].
pub struct RuntimeBuilder {
    reporter: SharedReporter,
    env: Option<String>,
    sets: Vec<(String, serde_json::Value)>,
    settings: Settings,
    inventory: Option<Inventory>,
    start_dir: Option<PathBuf>,
    audit: AuditChoice,
}

enum AuditChoice {
    Default,
    At(PathBuf),
    Off,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            reporter: Arc::new(Silent),
            env: None,
            sets: Vec::new(),
            settings: Settings::default(),
            inventory: None,
            start_dir: None,
            audit: AuditChoice::Default,
        }
    }
}

impl RuntimeBuilder {
    pub fn reporter(mut self, r: SharedReporter) -> Self {
        self.reporter = r;
        self
    }
    /// Select an environment of the inventory.
    pub fn env(mut self, env: Option<String>) -> Self {
        self.env = env;
        self
    }
    /// `--set k=v`: overrides inventory vars and recipe defaults.
    pub fn set(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.sets.push((key.into(), value));
        self
    }
    pub fn settings(mut self, s: Settings) -> Self {
        self.settings = s;
        self
    }
    /// Use this inventory instead of discovering hoist.toml.
    pub fn inventory(mut self, inv: Inventory) -> Self {
        self.inventory = Some(inv);
        self
    }
    /// Where to look for hoist.toml (default: the current directory).
    pub fn start_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.start_dir = Some(dir.into());
        self
    }
    pub fn audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit = AuditChoice::At(path.into());
        self
    }
    pub fn no_audit_log(mut self) -> Self {
        self.audit = AuditChoice::Off;
        self
    }

    pub fn build(self) -> Result<Arc<Runtime>> {
        let inventory = match self.inventory {
            Some(i) => i,
            None => {
                let start = match self.start_dir {
                    Some(d) => d,
                    None => std::env::current_dir()?,
                };
                Inventory::discover(&start)?
            }
        };
        let env_name = self
            .env
            .or_else(|| std::env::var("HOIST_ENV").ok().filter(|e| !e.is_empty()));
        let env = inventory.select(env_name.as_deref())?.cloned();
        self.settings.limit.check(env.as_ref())?;
        let mut vars = env.as_ref().map(|e| e.vars.clone()).unwrap_or_default();
        let mut overrides = serde_json::Map::new();
        for (k, v) in self.sets {
            overrides.insert(k, v);
        }
        vars.extend(overrides.clone());
        let audit = match self.audit {
            AuditChoice::Off => None,
            AuditChoice::At(p) => Some(Audit::open(&p, env.as_ref().map(|e| e.name.clone()))?),
            AuditChoice::Default => {
                let p = Audit::default_path(inventory.project_dir());
                // An unwritable default location must not stop a run; an explicit one does.
                Audit::open(&p, env.as_ref().map(|e| e.name.clone())).ok()
            }
        };
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("hoist-io")
            .build()?;
        let services = Services::new(self.reporter, Redactor::default(), audit);
        if let Some(dir) = inventory.project_dir() {
            services.set_local_dir(std::path::absolute(dir)?);
        }
        Ok(Arc::new(Runtime {
            tokio,
            services,
            inventory,
            env,
            vars,
            overrides,
            settings: self.settings,
            hosts: Mutex::new(HashMap::new()),
            dockers: Default::default(),
        }))
    }
}

pub struct Runtime {
    tokio: tokio::runtime::Runtime,
    pub services: Services,
    pub inventory: Inventory,
    /// The selected environment, if any.
    pub env: Option<Environment>,
    /// Inventory vars (the environment's) with `--set` applied; group and per-host vars are
    /// in [`Runtime::scoped_vars`].
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Just the `--set` values (they also beat recipe defaults).
    pub overrides: serde_json::Map<String, serde_json::Value>,
    pub settings: Settings,
    hosts: Mutex<HashMap<String, Host>>,
    /// One docker engine handle per host (and its tunnel) for the whole run.
    pub(crate) dockers: crate::docker::Cache,
}

impl Runtime {
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// Run a future to completion from a plain (non-tokio) thread: how the script engine,
    /// which runs on its own thread, calls the async primitives.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.tokio.handle().block_on(f)
    }

    pub fn handle(&self) -> tokio::runtime::Handle {
        self.tokio.handle().clone()
    }

    pub fn env_name(&self) -> Option<&str> {
        self.env.as_ref().map(|e| e.name.as_str())
    }

    pub fn project_dir(&self) -> Option<&Path> {
        self.inventory.project_dir()
    }

    /// The inventory's group and per-host vars of `host` (empty outside the inventory).
    pub fn scoped_vars(&self, host: &Host) -> serde_json::Map<String, serde_json::Value> {
        self.env
            .as_ref()
            .map(|e| e.scoped_vars(host.spec()))
            .unwrap_or_default()
    }

    /// The local machine.
    pub fn local(&self) -> Host {
        self.host(&HostSpec::local())
    }

    /// A host by spec; the same spec gives the same connection for the whole run.
    pub fn host(&self, spec: &HostSpec) -> Host {
        let key = format!("{spec:?}");
        let mut hosts = self.hosts.lock().expect("hosts lock");
        hosts
            .entry(key)
            .or_insert_with(|| {
                Host::ssh(
                    self.services.clone(),
                    spec.clone(),
                    self.settings.ssh.clone(),
                )
            })
            .clone()
    }

    /// Hosts of an inventory group (all hosts for `None`) in the selected environment.
    pub fn group(&self, group: Option<&str>) -> Result<Vec<Host>> {
        let env = self.env.as_ref().ok_or_else(|| {
            let known: Vec<_> = self.inventory.envs.keys().cloned().collect();
            if known.is_empty() {
                Error::usage("no inventory: hosts() needs a hoist.toml with [env.NAME.hosts]")
            } else {
                Error::usage("no environment selected")
                    .hint(format!("pass --env (one of: {})", known.join(", ")))
            }
        })?;
        Ok(env
            .hosts(group)?
            .iter()
            .filter(|s| self.settings.limit.allows(env, s))
            .map(|s| self.host(s))
            .collect())
    }

    /// The docker engine of `host`, connected once per run (`docker()` / `h.docker()`). The
    /// local engine follows DOCKER_HOST / DOCKER_CONTEXT / the current docker context; an
    /// `ssh://` one is that SSH host's engine, through hoist's own connection to it.
    pub async fn docker(&self, host: &Host) -> Result<crate::docker::Docker> {
        if host.is_local()
            && let crate::docker::endpoint::Endpoint::Ssh(spec) =
                crate::docker::endpoint::resolve()?.endpoint
        {
            let remote = self.host(&spec);
            return self.dockers.get(&remote).await;
        }
        self.dockers.get(host).await
    }

    /// Hosts connected so far.
    pub fn connected_hosts(&self) -> Vec<Host> {
        self.hosts
            .lock()
            .expect("hosts lock")
            .values()
            .cloned()
            .collect()
    }

    /// Close every connection (the ControlMasters exit).
    pub fn shutdown(&self) {
        self.dockers.clear();
        let hosts: Vec<Host> = self
            .hosts
            .lock()
            .expect("hosts lock")
            .drain()
            .map(|(_, h)| h)
            .collect();
        // All at once: each close waits for its master to end the connection, and a run
        // over many hosts would otherwise wait for them one after another.
        self.block_on(futures_util::future::join_all(
            hosts.iter().map(Host::close),
        ));
    }
}
