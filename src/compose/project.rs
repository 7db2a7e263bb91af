//! A compose project on a host: a directory with the compose file(s), env files, profiles
//! and variables. Reading and rendering happen in hoist (see render.rs); everything that
//! acts (`up`, `down`, `logs`, `exec` ...) is one argv command of the host's compose tool,
//! run through `host.run` with the project directory as working directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::Deserialize;

use super::env_file;
use super::model::ComposeFile;
use super::ps::{self, ContainerState};
use super::render::{self, Rendered, Source};
use super::tool::{self, Tool};
use crate::command::{Command, Value};
use crate::docker::Docker;
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host, MkdirOpts, Output};

/// How a project is opened (`h.compose(dir, #{...})`).
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    /// The project name (default: the directory's name, normalized as compose does).
    pub project: Option<String>,
    /// Compose files relative to the directory (default: the one compose would pick).
    pub files: Vec<String>,
    /// Env files relative to the directory (default: `.env` when it exists).
    pub env_files: Vec<String>,
    pub profiles: Vec<String>,
    /// Variables for interpolation; they win over the host's environment and env files.
    pub env: Vec<(String, Value)>,
    /// Force a tool instead of detecting it.
    pub tool: Option<Tool>,
}

/// `p.up()` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpOptions {
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub build: bool,
    /// "always" | "missing" | "never" (true = "always").
    #[serde(default)]
    pub pull: Option<PullPolicy>,
    /// Wait until every started container runs and is healthy (where it has a healthcheck).
    #[serde(default)]
    pub wait: bool,
    /// Seconds `wait` may take (default 120).
    #[serde(default)]
    pub timeout: Option<u64>,
    #[serde(default)]
    pub force_recreate: bool,
    #[serde(default)]
    pub remove_orphans: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PullPolicy {
    Flag(bool),
    Named(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownOptions {
    #[serde(default)]
    pub volumes: bool,
    #[serde(default)]
    pub remove_orphans: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsOptions {
    #[serde(default)]
    pub service: Option<String>,
    /// Lines from the end of each service's log.
    #[serde(default)]
    pub tail: Option<u64>,
    /// A timestamp or a duration like "10m" (compose v2 only).
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub timestamps: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecOptions {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub env: IndexMap<String, String>,
    #[serde(default)]
    pub workdir: Option<String>,
    /// Throw on a non-zero exit (default true).
    #[serde(default)]
    pub check: Option<bool>,
}

struct Inner {
    host: Host,
    dir: String,
    name: String,
    opts: ComposeOptions,
    files: tokio::sync::OnceCell<Vec<String>>,
    docker: tokio::sync::OnceCell<Docker>,
}

/// A compose project on a host. Cheap to clone.
#[derive(Clone)]
pub struct Project {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Compose({} in {} on {})",
            self.inner.name,
            self.inner.dir,
            self.inner.host.name()
        )
    }
}

/// The files compose looks for, in its order, when none is named.
const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Compose's project-name rule: lower case, only `a-z 0-9 _ -`, starting with a letter or digit.
pub fn normalize_project_name(raw: &str) -> String {
    let s: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    s.trim_start_matches(['_', '-']).to_string()
}

impl Project {
    pub fn new(host: &Host, dir: &str, opts: ComposeOptions) -> Result<Project> {
        if dir.trim().is_empty() {
            return Err(Error::usage("h.compose(): the project directory is empty"));
        }
        let dir = dir.trim_end_matches('/').to_string();
        let dir = if dir.is_empty() { "/".to_string() } else { dir };
        let name = match &opts.project {
            Some(p) => {
                let n = normalize_project_name(p);
                if n != *p {
                    return Err(Error::usage(format!(
                        "compose project name `{p}` must be lower case letters, digits, `_` and `-` (like `{n}`)"
                    )));
                }
                n
            }
            None => {
                let base = dir.rsplit('/').next().unwrap_or_default();
                normalize_project_name(base)
            }
        };
        if name.is_empty() {
            return Err(Error::usage(format!(
                "compose: cannot derive a project name from `{dir}`; pass #{{project: \"name\"}}"
            )));
        }
        Ok(Project {
            inner: Arc::new(Inner {
                host: host.clone(),
                dir,
                name,
                opts,
                files: tokio::sync::OnceCell::new(),
                docker: tokio::sync::OnceCell::new(),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }
    pub fn dir(&self) -> &str {
        &self.inner.dir
    }
    pub fn host(&self) -> &Host {
        &self.inner.host
    }
    pub fn options(&self) -> &ComposeOptions {
        &self.inner.opts
    }

    /// The compose tool this project uses on its host.
    pub async fn tool(&self) -> Result<Tool> {
        match self.inner.opts.tool {
            Some(t) => Ok(t),
            None => tool::detect(&self.inner.host).await,
        }
    }

    fn path(&self, file: &str) -> String {
        if file.starts_with('/') || file.starts_with("~/") {
            file.to_string()
        } else {
            format!("{}/{file}", self.inner.dir)
        }
    }

    /// The compose files, relative to the directory: the named ones, else the first default
    /// name that exists there, else `docker-compose.yml` (what `write` creates).
    pub async fn files(&self) -> Result<Vec<String>> {
        self.inner
            .files
            .get_or_try_init(|| async {
                if !self.inner.opts.files.is_empty() {
                    return Ok(self.inner.opts.files.clone());
                }
                let probe = Command::shell(format!(
                    "for f in {}; do if [ -f \"$f\" ]; then echo \"$f\"; exit 0; fi; done",
                    DEFAULT_FILES.join(" ")
                ))
                .cwd(self.inner.dir.clone())
                .check(false)
                .quiet();
                let out = self.inner.host.run(&probe).await?;
                let found = out.stdout.trim();
                Ok(vec![if found.is_empty() {
                    "docker-compose.yml".to_string()
                } else {
                    found.to_string()
                }])
            })
            .await
            .cloned()
    }

    /// Put the (first) compose file into the directory (created if needed); atomic; true if
    /// it changed.
    pub async fn write(&self, text: &str) -> Result<bool> {
        let h = &self.inner.host;
        h.mkdir(&self.inner.dir, &MkdirOpts::default()).await?;
        let files = self.files().await?;
        h.write(&self.path(&files[0]), text, &FileOpts::default())
            .await
    }

    /// Render a minijinja template file (local) and write it as the compose file.
    pub async fn write_template(&self, src: &str, vars: &serde_json::Value) -> Result<bool> {
        let text = crate::template::render_file(src, vars)?;
        self.write(&text).await
    }

    /// The host's environment, as the compose tool will see it.
    async fn host_env(&self) -> Result<IndexMap<String, String>> {
        let out = self
            .inner
            .host
            .run(&Command::argv(["env", "-0"]).quiet())
            .await?;
        Ok(out
            .stdout
            .split('\0')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| {
                !k.starts_with("HOIST_") && !["_", "PWD", "OLDPWD", "SHLVL"].contains(k)
            })
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Env files in use: the named ones (each must exist), else `.env` if present.
    fn env_file_names(&self) -> (Vec<String>, bool) {
        if self.inner.opts.env_files.is_empty() {
            (vec![".env".to_string()], false)
        } else {
            (self.inner.opts.env_files.clone(), true)
        }
    }

    async fn read_file(&self, file: &str, required: bool, what: &str) -> Result<Option<String>> {
        let path = self.path(file);
        match self.inner.host.read(&path).await {
            Ok(t) => Ok(Some(t)),
            Err(e)
                if e.stderr_tail
                    .as_deref()
                    .is_some_and(|s| s.contains("No such file")) =>
            {
                if required {
                    Err(Error::usage(format!("{what} {path} does not exist"))
                        .host(self.inner.host.name()))
                } else {
                    Ok(None)
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The variables interpolation sees, in compose's precedence:
    /// `env` option > the host's environment > env files (later files win).
    pub async fn variables(&self) -> Result<IndexMap<String, String>> {
        let host_env = self.host_env().await?;
        let (names, required) = self.env_file_names();
        let mut from_files = IndexMap::new();
        for name in names {
            let Some(text) = self.read_file(&name, required, "env file").await? else {
                continue;
            };
            let env = |k: &str| host_env.get(k).cloned();
            env_file::parse(&text, &env, &mut from_files).map_err(|e| {
                Error::usage(format!("{}:{}: {}", self.path(&name), e.line, e.message))
                    .host(self.inner.host.name())
            })?;
        }
        let mut vars = from_files;
        vars.extend(host_env);
        for (k, v) in &self.inner.opts.env {
            let v = match v {
                Value::Plain(s) => s.clone(),
                Value::Secret(s) => s.expose().to_string(),
            };
            vars.insert(k.clone(), v);
        }
        Ok(vars)
    }

    /// Interpolate, merge and validate the compose files (no compose tool involved).
    pub async fn rendered(&self) -> Result<Rendered> {
        let vars = self.variables().await?;
        let mut sources = Vec::new();
        for f in self.files().await? {
            let text = self
                .read_file(&f, true, "compose file")
                .await?
                .unwrap_or_default();
            sources.push(Source {
                name: self.path(&f),
                text,
            });
        }
        render::render(&sources, &|k| vars.get(k).cloned())
            .map_err(|e| e.host(self.inner.host.name()))
    }

    /// The fully interpolated YAML.
    pub async fn render(&self) -> Result<String> {
        Ok(self.rendered().await?.yaml())
    }

    /// The typed model.
    pub async fn config(&self) -> Result<ComposeFile> {
        Ok(self.rendered().await?.model)
    }

    /// Refuse service names the project does not define, naming the ones it does.
    pub async fn check_services(&self, services: &[String]) -> Result<()> {
        if services.is_empty() {
            return Ok(());
        }
        let model = self.config().await?;
        for s in services {
            if !model.services.contains_key(s) {
                let known: Vec<&str> = model.services.keys().map(String::as_str).collect();
                return Err(Error::usage(format!(
                    "no service `{s}` in compose project {} (services: {})",
                    self.inner.name,
                    known.join(", ")
                ))
                .host(self.inner.host.name()));
            }
        }
        Ok(())
    }

    /// The command for `args` (a compose subcommand and its flags) with `tool`: global flags
    /// (project name, files, env files, profiles), the directory as cwd, `env` exported.
    pub fn command(&self, tool: Tool, args: &[String]) -> Result<Command> {
        let o = &self.inner.opts;
        let mut argv: Vec<String> = tool.program().iter().map(|s| s.to_string()).collect();
        argv.extend(["--project-name".to_string(), self.inner.name.clone()]);
        for f in &o.files {
            argv.extend(["--file".to_string(), f.clone()]);
        }
        if tool == Tool::V1 && o.env_files.len() > 1 {
            return Err(Error::usage(format!(
                "{} takes one --env-file, this project names {}",
                tool.label(),
                o.env_files.len()
            ))
            .host(self.inner.host.name())
            .hint("merge them into one file, or install the compose v2 plugin"));
        }
        for e in &o.env_files {
            argv.extend(["--env-file".to_string(), e.clone()]);
        }
        for p in &o.profiles {
            argv.extend(["--profile".to_string(), p.clone()]);
        }
        argv.extend(args.iter().cloned());
        let mut c = Command::argv(argv).cwd(self.inner.dir.clone());
        for (k, v) in &o.env {
            c = match v {
                Value::Plain(s) => c.env(k.clone(), s.clone()),
                Value::Secret(s) => c.env_secret(k.clone(), s.clone()),
            };
        }
        Ok(c)
    }

    /// Run one compose subcommand; a failure names the host, the tool, the command, the exit
    /// code and the stderr tail.
    async fn run(&self, args: &[String], check: bool) -> Result<Output> {
        let tool = self.tool().await?;
        let cmd = self.command(tool, args)?.check(false);
        let h = &self.inner.host;
        let out = h.run(&cmd).await.map_err(|e| {
            let mut e = e;
            e.message = format!("{}: {}", tool.label(), e.message);
            e
        })?;
        if check && !out.ok() {
            let display = h.services().redactor.redact(&cmd.display());
            let stderr = h.services().redactor.redact(&out.stderr);
            return Err(Error::failed(format!(
                "{} {} failed in {}",
                tool.label(),
                args.first().map(String::as_str).unwrap_or_default(),
                self.inner.dir
            ))
            .host(h.name())
            .command(display)
            .exit_code(out.code)
            .stderr(&stderr));
        }
        Ok(out)
    }

    /// The argv of `up` (after the global flags) and whether a separate `pull` must run first.
    pub fn up_args(tool: Tool, o: &UpOptions) -> Result<(Vec<String>, Option<Vec<String>>)> {
        let mut args = vec!["up".to_string(), "--detach".to_string()];
        let pull = match &o.pull {
            None | Some(PullPolicy::Flag(false)) => None,
            Some(PullPolicy::Flag(true)) => Some("always".to_string()),
            Some(PullPolicy::Named(p)) if ["always", "missing", "never"].contains(&p.as_str()) => {
                Some(p.clone())
            }
            Some(PullPolicy::Named(p)) => {
                return Err(Error::usage(format!(
                    "p.up(): pull `{p}` is not one of always, missing, never"
                )));
            }
        };
        let mut pre_pull = None;
        match (tool, pull.as_deref()) {
            (Tool::V2, Some(p)) => args.extend(["--pull".to_string(), p.to_string()]),
            // v1's `up` has no --pull: it pulls what is missing; "always" is a `pull` first.
            (Tool::V1, Some("always")) => {
                let mut p = vec!["pull".to_string()];
                p.extend(o.services.iter().cloned());
                pre_pull = Some(p);
            }
            _ => {}
        }
        if o.build {
            args.push("--build".into());
        }
        if o.force_recreate {
            args.push("--force-recreate".into());
        }
        if o.remove_orphans {
            args.push("--remove-orphans".into());
        }
        args.extend(o.services.iter().cloned());
        Ok((args, pre_pull))
    }

    pub async fn up(&self, o: &UpOptions) -> Result<()> {
        self.check_services(&o.services).await?;
        let tool = self.tool().await?;
        let (args, pre_pull) = Self::up_args(tool, o)?;
        if let Some(p) = pre_pull {
            self.run(&p, true).await?;
        }
        self.run(&args, true).await?;
        if o.wait {
            self.wait(&o.services, Duration::from_secs(o.timeout.unwrap_or(120)))
                .await?;
        }
        Ok(())
    }

    /// Wait until the containers of `services` (all when empty) run and are healthy where
    /// they have a healthcheck. Done by hoist for both tools (v1 has no `--wait`).
    pub async fn wait(&self, services: &[String], timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let states: Vec<ContainerState> = self
                .ps()
                .await?
                .into_iter()
                .filter(|c| services.is_empty() || services.contains(&c.service))
                .collect();
            let bad: Vec<&ContainerState> = states
                .iter()
                .filter(|c| {
                    matches!(c.state.as_str(), "exited" | "dead") || c.health == "unhealthy"
                })
                .collect();
            if let Some(c) = bad.first() {
                return Err(Error::failed(format!(
                    "service {} of compose project {} is {} ({})",
                    c.service,
                    self.inner.name,
                    if c.health == "unhealthy" {
                        "unhealthy"
                    } else {
                        &c.state
                    },
                    c.status
                ))
                .host(self.inner.host.name())
                .hint("p.logs(#{service: ...}) shows why"));
            }
            let ready = !states.is_empty()
                && states.iter().all(|c| {
                    c.state == "running" && (c.health.is_empty() || c.health == "healthy")
                });
            if ready {
                return Ok(());
            }
            if start.elapsed() > timeout {
                let summary: Vec<String> = states
                    .iter()
                    .map(|c| format!("{}: {} {}", c.service, c.state, c.health))
                    .collect();
                return Err(Error::failed(format!(
                    "compose project {} not ready after {}s ({})",
                    self.inner.name,
                    timeout.as_secs(),
                    summary.join(", ")
                ))
                .host(self.inner.host.name()));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn down(&self, o: &DownOptions) -> Result<()> {
        let mut args = vec!["down".to_string()];
        if o.volumes {
            args.push("--volumes".into());
        }
        if o.remove_orphans {
            args.push("--remove-orphans".into());
        }
        self.run(&args, true).await.map(|_| ())
    }

    async fn simple(&self, sub: &str, services: &[String]) -> Result<()> {
        self.check_services(services).await?;
        let mut args = vec![sub.to_string()];
        args.extend(services.iter().cloned());
        self.run(&args, true).await.map(|_| ())
    }

    pub async fn stop(&self, services: &[String]) -> Result<()> {
        self.simple("stop", services).await
    }
    pub async fn start(&self, services: &[String]) -> Result<()> {
        self.simple("start", services).await
    }
    pub async fn restart(&self, services: &[String]) -> Result<()> {
        self.simple("restart", services).await
    }
    pub async fn pull(&self, services: &[String]) -> Result<()> {
        self.simple("pull", services).await
    }

    pub fn logs_args(tool: Tool, o: &LogsOptions) -> Result<Vec<String>> {
        let mut args = vec!["logs".to_string(), "--no-color".to_string()];
        if let Some(t) = o.tail {
            args.push(format!("--tail={t}"));
        }
        if let Some(s) = &o.since {
            if tool == Tool::V1 {
                return Err(Error::usage(format!(
                    "p.logs(): `since` needs compose v2; this host has {}",
                    tool.label()
                ))
                .hint("use tail, or d.logs(container, #{since}) through the Engine API"));
            }
            args.push(format!("--since={s}"));
        }
        if o.timestamps {
            args.push("--timestamps".into());
        }
        args.extend(o.service.iter().cloned());
        Ok(args)
    }

    /// Logs of the project (or one service), as text.
    pub async fn logs(&self, o: &LogsOptions) -> Result<String> {
        if let Some(s) = &o.service {
            self.check_services(std::slice::from_ref(s)).await?;
        }
        let args = Self::logs_args(self.tool().await?, o)?;
        Ok(self.run(&args, true).await?.stdout)
    }

    pub fn exec_args(service: &str, cmd: &[String], o: &ExecOptions) -> Vec<String> {
        // -T: no TTY (hoist's commands have none); output comes back as data.
        let mut args = vec!["exec".to_string(), "-T".to_string()];
        if let Some(u) = &o.user {
            args.extend(["--user".to_string(), u.clone()]);
        }
        for (k, v) in &o.env {
            args.extend(["--env".to_string(), format!("{k}={v}")]);
        }
        if let Some(w) = &o.workdir {
            args.extend(["--workdir".to_string(), w.clone()]);
        }
        args.push(service.to_string());
        args.extend(cmd.iter().cloned());
        args
    }

    /// Run `cmd` (argv) in the running container of `service`.
    pub async fn exec(&self, service: &str, cmd: &[String], o: &ExecOptions) -> Result<Output> {
        if cmd.is_empty() {
            return Err(Error::usage("p.exec(): the command is empty"));
        }
        self.check_services(&[service.to_string()]).await?;
        let args = Self::exec_args(service, cmd, o);
        self.run(&args, o.check.unwrap_or(true)).await
    }

    /// The project's containers from the Engine API (same data for v1 and v2).
    pub async fn ps(&self) -> Result<Vec<ContainerState>> {
        let docker = self
            .inner
            .docker
            .get_or_try_init(|| Docker::on(&self.inner.host))
            .await?;
        ps::ps(docker, &self.inner.name).await
    }
}
