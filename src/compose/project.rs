//! A compose project on a host: a directory with the compose file(s), env files, profiles
//! and variables. Reading and rendering happen in hoist (see render.rs); what needs the files
//! (`up`, `run`, `stop`, `rm` ...) is one argv command of the host's compose tool, run through
//! `host.run` with the project directory as working directory. The day-2 verbs of a running
//! project (`ps`, `logs`, `exec`, `down`) need only its name: they go through the Engine API
//! by its containers' labels (labels.rs, logs.rs, down.rs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::Deserialize;

use super::down::{self, Removed};
use super::labels::{self, Which};
use super::logs::{self, LogsOptions};
use super::model::ComposeFile;
use super::ps::{self, ContainerState, Health};
use super::render::{self, Rendered, Source};
use super::tool::{self, Tool};
use super::validate::Referenced;
use crate::command::{Command, Value, quote_path};
use crate::docker::Docker;
use crate::effect::Change;
use crate::env_file;
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host, MkdirOpts, Output};
use crate::interpolate::Mode;

/// What one read of the project on its host gives.
struct Snapshot {
    host_env: IndexMap<String, String>,
    /// (path, text) of the env files that exist.
    env_files: Vec<(String, String)>,
    /// (file as named, text if it exists) of the compose files asked for.
    compose: Vec<(String, Option<String>)>,
}

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
    /// How unused `${A:-default}` branches are read: eagerly, erroring as compose v2.40 and
    /// earlier do (the default), or lazily (compose-go since 2026).
    pub interpolation: Mode,
    /// Texts that stand in for files of the directory when the project is read (by name
    /// relative to it; `None`: absent): a release's files, rendered and checked before they
    /// are put in place.
    pub overlay: IndexMap<String, Option<String>>,
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
    /// Its named volumes and its containers' anonymous ones go too (their data is lost).
    #[serde(default)]
    pub volumes: bool,
    /// Accepted for compose's sake: down removes every container with the project's label,
    /// orphans included.
    #[serde(default)]
    pub remove_orphans: bool,
    /// Only the services the active profiles run (stopped and removed; networks and the
    /// other services stay), instead of the whole project.
    #[serde(default)]
    pub active_only: bool,
}

/// `p.rm()` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmOptions {
    /// Stop running containers first (else running ones are refused by compose).
    #[serde(default)]
    pub stop: bool,
    /// Also remove their anonymous volumes.
    #[serde(default)]
    pub volumes: bool,
}

/// `p.run()` options: a one-shot container of a service, in the foreground.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Remove the container when it exits.
    #[serde(default)]
    pub rm: bool,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub env: IndexMap<String, String>,
    #[serde(default)]
    pub workdir: Option<String>,
    /// Do not start the services it depends on.
    #[serde(default)]
    pub no_deps: bool,
    /// Throw on a non-zero exit (default true).
    #[serde(default)]
    pub check: Option<bool>,
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
    /// Read the files as the host has them, past a dry run's planned writes (what the
    /// running containers were started from; see [`Project::as_on_host`]).
    on_host_only: bool,
    /// Unset variables already warned about: a run renders a project several times (plan,
    /// checks, up) and says so once.
    warned: std::sync::Mutex<Vec<String>>,
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

/// The override files compose merges over the default file when none is named.
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
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
                on_host_only: false,
                warned: Default::default(),
            }),
        })
    }

    /// The same project read from the host's files as they are, ignoring what a dry run
    /// planned to write into them.
    pub fn as_on_host(&self) -> Project {
        Project {
            inner: Arc::new(Inner {
                host: self.inner.host.clone(),
                dir: self.inner.dir.clone(),
                name: self.inner.name.clone(),
                opts: self.inner.opts.clone(),
                files: tokio::sync::OnceCell::new(),
                docker: tokio::sync::OnceCell::new(),
                on_host_only: true,
                warned: Default::default(),
            }),
        }
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
    /// name that exists there plus the first override file beside it (`compose.override.yaml`
    /// ...), as compose picks them, else `docker-compose.yml` (what `write` creates).
    pub async fn files(&self) -> Result<Vec<String>> {
        self.inner
            .files
            .get_or_try_init(|| async {
                if !self.inner.opts.files.is_empty() {
                    return Ok(self.inner.opts.files.clone());
                }
                let probe = Command::shell(format!(
                    "for f in {}; do if [ -f \"$f\" ]; then echo \"$f\"; break; fi; done; \
                     for f in {}; do if [ -f \"$f\" ]; then echo \"$f\"; break; fi; done",
                    DEFAULT_FILES.join(" "),
                    OVERRIDE_FILES.join(" ")
                ))
                .cwd(self.inner.dir.clone())
                .check(false)
                .quiet()
                .probe();
                let out = self.inner.host.run(&probe).await?;
                let found: Vec<String> = out.stdout.lines().map(String::from).collect();
                let has_base = found
                    .first()
                    .is_some_and(|f| DEFAULT_FILES.contains(&f.as_str()));
                if !has_base {
                    return Ok(vec!["docker-compose.yml".to_string()]);
                }
                Ok(found)
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

    /// Read `paths` (None = no such file) and the host's environment in one command on
    /// the host, with three programs whatever the number of files (`stat`, `cat`, `env`):
    /// a 1/0 line per path (exists or not), the sizes of those that exist, their bytes one
    /// after the other, then `env -0`. One round trip, over SSH as locally.
    async fn read_with_env(
        &self,
        paths: &[String],
    ) -> Result<(Vec<Option<String>>, IndexMap<String, String>)> {
        let quoted: Vec<String> = paths.iter().map(|p| quote_path(p)).collect();
        let script = if quoted.is_empty() {
            "env -0".to_string()
        } else {
            format!(
                "set --; for f in {}; do if [ -f \"$f\" ]; then set -- \"$@\" \"$f\"; echo 1; \
                 else echo 0; fi; done; if [ $# -gt 0 ]; then stat -L -c %s -- \"$@\" || exit 1; \
                 cat -- \"$@\" || exit 1; fi; env -0",
                quoted.join(" ")
            )
        };
        let out = self
            .inner
            .host
            .run_raw(&Command::shell(script).quiet().probe())
            .await?;
        let bad = || {
            Error::failed(format!("reading the compose project in {}", self.inner.dir))
                .host(self.inner.host.name())
                .stderr(&String::from_utf8_lossy(&out.stderr))
        };
        if out.code != 0 {
            return Err(bad());
        }
        let mut rest: &[u8] = &out.stdout;
        let mut line = || -> Result<String> {
            let nl = memchr::memchr(b'\n', rest).ok_or_else(bad)?;
            let text = String::from_utf8_lossy(&rest[..nl]).trim().to_string();
            rest = &rest[nl + 1..];
            Ok(text)
        };
        let exists: Vec<bool> = paths
            .iter()
            .map(|_| line().map(|l| l == "1"))
            .collect::<Result<_>>()?;
        let sizes: Vec<usize> = exists
            .iter()
            .filter(|e| **e)
            .map(|_| line().and_then(|l| l.parse().map_err(|_| bad())))
            .collect::<Result<_>>()?;
        let mut sizes = sizes.into_iter();
        let mut files = Vec::new();
        for (p, e) in paths.iter().zip(&exists) {
            if !e {
                files.push(None);
                continue;
            }
            let n = sizes.next().ok_or_else(bad)?;
            if rest.len() < n {
                return Err(bad());
            }
            let text = String::from_utf8(rest[..n].to_vec()).map_err(|_| {
                Error::usage(format!("{p} is not UTF-8 text")).host(self.inner.host.name())
            })?;
            files.push(Some(text));
            rest = &rest[n..];
        }
        // A dry run reads what its own earlier writes left (a compose file it "wrote").
        let effects = self.inner.host.services().effects();
        for (p, f) in paths
            .iter()
            .zip(files.iter_mut())
            .filter(|_| !self.inner.on_host_only)
        {
            if let Some(planned) = effects.planned_file(self.inner.host.name(), p) {
                *f = planned.map(|b| String::from_utf8_lossy(&b).into_owned());
            }
        }
        // Files that are not in place yet (a release about to be), as they will be.
        for (p, f) in paths.iter().zip(files.iter_mut()) {
            if let Some(text) = self
                .inner
                .opts
                .overlay
                .iter()
                .find(|(name, _)| self.path(name) == *p)
                .map(|(_, t)| t)
            {
                *f = text.clone();
            }
        }
        let env = String::from_utf8_lossy(rest)
            .split('\0')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| {
                !k.starts_with("HOIST_") && !["_", "PWD", "OLDPWD", "SHLVL"].contains(k)
            })
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok((files, env))
    }

    /// Env files in use: the named ones (each must exist), else `.env` if present.
    fn env_file_names(&self) -> (Vec<String>, bool) {
        if self.inner.opts.env_files.is_empty() {
            (vec![".env".to_string()], false)
        } else {
            (self.inner.opts.env_files.clone(), true)
        }
    }

    /// The `env` option as plain pairs (secrets exposed: they only reach interpolation).
    fn option_env(&self) -> IndexMap<String, String> {
        self.inner
            .opts
            .env
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Plain(s) => s.clone(),
                    Value::Secret(s) => s.expose().to_string(),
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// The env files' texts (None: absent and not required) and the host's environment,
    /// plus the compose files' texts, in one read.
    async fn snapshot(&self, compose_files: &[String]) -> Result<Snapshot> {
        let (names, required) = self.env_file_names();
        let mut paths: Vec<String> = names.iter().map(|n| self.path(n)).collect();
        paths.extend(compose_files.iter().map(|f| self.path(f)));
        let (mut texts, host_env) = self.read_with_env(&paths).await?;
        let compose_texts = texts.split_off(names.len());
        let missing = |what: &str, path: &str| {
            Error::usage(format!("{what} {path} does not exist")).host(self.inner.host.name())
        };
        let mut env_files = Vec::new();
        for (name, text) in names.iter().zip(texts) {
            match text {
                Some(t) => env_files.push((self.path(name), t)),
                None if required => return Err(missing("env file", &self.path(name))),
                None => {}
            }
        }
        let compose = compose_files
            .iter()
            .zip(compose_texts)
            .map(|(f, text)| (f.clone(), text))
            .collect();
        Ok(Snapshot {
            host_env,
            env_files,
            compose,
        })
    }

    /// The values the env files define (later files win), read as compose reads them: the
    /// `env` option and the host's environment are visible inside (`URL=http://${HOST}/`).
    /// The variables their values read while unset are added to `unset`.
    fn env_file_values(
        &self,
        snap: &Snapshot,
        unset: &mut Vec<String>,
    ) -> Result<IndexMap<String, String>> {
        let opt_env = self.option_env();
        let mut from_files = IndexMap::new();
        for (path, text) in &snap.env_files {
            let env = |k: &str| opt_env.get(k).or_else(|| snap.host_env.get(k)).cloned();
            let mode = self.inner.opts.interpolation;
            env_file::parse_with(text, &env, &mut from_files, mode, unset).map_err(|e| {
                Error::usage(format!("{path}:{}: {}", e.line, e.message))
                    .host(self.inner.host.name())
            })?;
        }
        Ok(from_files)
    }

    fn variables_of(
        &self,
        snap: &Snapshot,
        unset: &mut Vec<String>,
    ) -> Result<IndexMap<String, String>> {
        let mut vars = self.env_file_values(snap, unset)?;
        vars.extend(snap.host_env.clone());
        vars.extend(self.option_env());
        Ok(vars)
    }

    /// The variables interpolation sees, in compose's precedence:
    /// `env` option > the host's environment > env files (later files win).
    pub async fn variables(&self) -> Result<IndexMap<String, String>> {
        let snap = self.snapshot(&[]).await?;
        self.variables_of(&snap, &mut Vec::new())
    }

    /// The active profiles: the `profiles` option, else `COMPOSE_PROFILES` from the
    /// variables (as compose reads it from the environment or `.env`).
    fn profiles_from(&self, vars: &IndexMap<String, String>) -> Vec<String> {
        if !self.inner.opts.profiles.is_empty() {
            return self.inner.opts.profiles.clone();
        }
        vars.get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Interpolate, merge and validate the compose files (no compose tool involved).
    pub async fn rendered(&self) -> Result<Rendered> {
        // Without named files, the candidates compose would look for are read in the same
        // round trip as the env files and the environment, and the choice is remembered.
        let named = !self.inner.opts.files.is_empty() || self.inner.files.initialized();
        let asked: Vec<String> = if named {
            self.files().await?
        } else {
            DEFAULT_FILES
                .iter()
                .chain(OVERRIDE_FILES)
                .map(|f| f.to_string())
                .collect()
        };
        let snap = self.snapshot(&asked).await?;
        let mut unset = Vec::new();
        let vars = self.variables_of(&snap, &mut unset)?;
        let present = |f: &str| snap.compose.iter().any(|(n, t)| n == f && t.is_some());
        let chosen: Vec<String> = if named {
            asked.clone()
        } else {
            let base = DEFAULT_FILES.iter().find(|f| present(f));
            let over = OVERRIDE_FILES.iter().find(|f| present(f));
            let chosen: Vec<String> = match base {
                Some(b) => std::iter::once(b)
                    .chain(over)
                    .map(|f| f.to_string())
                    .collect(),
                None => vec!["docker-compose.yml".to_string()],
            };
            let _ = self.inner.files.set(chosen.clone());
            chosen
        };
        let mut sources = Vec::new();
        for f in &chosen {
            let name = self.path(f);
            match snap
                .compose
                .iter()
                .find(|(n, _)| n == f)
                .and_then(|(_, t)| t.clone())
            {
                Some(text) => sources.push(Source { name, text }),
                None => {
                    return Err(Error::usage(format!("compose file {name} does not exist"))
                        .host(self.inner.host.name()));
                }
            }
        }
        let profiles = self.profiles_from(&vars);
        let lookup = |k: &str| vars.get(k).cloned();
        // Files that `extends: {file}` names: one more read, only when there are some.
        let mut extends = std::collections::HashMap::new();
        let wanted = render::extends_files(&sources, &lookup);
        if !wanted.is_empty() {
            let paths: Vec<String> = wanted.iter().map(|f| self.path(f)).collect();
            let (texts, _) = self.read_with_env(&paths).await?;
            for (f, t) in wanted.into_iter().zip(texts) {
                if let Some(t) = t {
                    extends.insert(f, t);
                }
            }
        }
        let mut rendered = render::render_with_files(
            &sources,
            &lookup,
            &profiles,
            self.inner.opts.interpolation,
            &extends,
        )
        .map_err(|e| e.host(self.inner.host.name()))?;
        self.check_referenced(&rendered.files).await?;
        for u in std::mem::take(&mut rendered.unset) {
            if !unset.contains(&u) {
                unset.push(u);
            }
        }
        rendered.unset = unset;
        self.warn_unset(&rendered.unset);
        Ok(rendered)
    }

    /// compose's warning for each variable read without a default while unset (it renders
    /// as ""), through the reporter, once per project.
    fn warn_unset(&self, unset: &[String]) {
        let mut warned = self.inner.warned.lock().expect("warned lock");
        for name in unset {
            if warned.contains(name) {
                continue;
            }
            warned.push(name.clone());
            self.inner
                .host
                .services()
                .reporter
                .event(crate::report::Event::Message {
                    level: crate::report::Level::Warn,
                    text: format!(
                        "{}: compose project {}: The \"{name}\" variable is not set. Defaulting to a blank string.",
                        self.inner.host.name(),
                        self.inner.name
                    ),
                });
        }
    }

    /// compose refuses a project whose services name a missing `env_file` or `extends`
    /// file; so does hoist, with one probe on the host.
    async fn check_referenced(&self, files: &[Referenced]) -> Result<()> {
        let required: Vec<&Referenced> = files.iter().filter(|f| f.required).collect();
        if required.is_empty() {
            return Ok(());
        }
        let mut argv = vec![
            "sh".to_string(),
            "-c".to_string(),
            "for f; do [ -e \"$f\" ] || printf '%s\\n' \"$f\"; done".to_string(),
            "sh".to_string(),
        ];
        argv.extend(required.iter().map(|f| f.path.clone()));
        let probe = Command::argv(argv)
            .cwd(self.inner.dir.clone())
            .check(false)
            .quiet()
            .probe();
        let out = self.inner.host.run(&probe).await?;
        if let Some(missing) = out.stdout.lines().next()
            && let Some(r) = required.iter().find(|f| f.path == missing)
        {
            let at = if r.service.is_empty() {
                r.what.to_string()
            } else {
                format!("services.{}.{}", r.service, r.what)
            };
            return Err(Error::usage(format!(
                "{at}: {} does not exist in {} (compose refuses the project)",
                r.path, self.inner.dir
            ))
            .host(self.inner.host.name()));
        }
        Ok(())
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
        // Any service of the files: compose runs one of an inactive profile when named.
        let all = self.rendered().await?.all_services;
        for s in services {
            if !all.contains(s) {
                let known: Vec<&str> = all.iter().map(String::as_str).collect();
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
    /// (project name, the named files, env files, profiles), the directory as cwd, `env`
    /// exported. (Commands that act use [`Project::compose_command`], which also names the
    /// files compose would discover, so compose reads exactly what hoist rendered.)
    pub fn command(&self, tool: Tool, args: &[String]) -> Result<Command> {
        if tool == Tool::V1 && self.inner.opts.env_files.len() > 1 {
            return Err(Error::usage(format!(
                "{} takes one --env-file, this project names {}",
                tool.label(),
                self.inner.opts.env_files.len()
            ))
            .host(self.inner.host.name())
            .hint("p.up() and the other verbs merge them for v1; Project::command cannot"));
        }
        self.command_with(tool, args, &self.inner.opts.files, &[])
    }

    fn command_with(
        &self,
        tool: Tool,
        args: &[String],
        files: &[String],
        merged_env: &[(String, String)],
    ) -> Result<Command> {
        let o = &self.inner.opts;
        let mut argv: Vec<String> = tool.program().iter().map(|s| s.to_string()).collect();
        argv.extend(["--project-name".to_string(), self.inner.name.clone()]);
        for f in files {
            argv.extend(["--file".to_string(), f.clone()]);
        }
        // v1 takes one --env-file: with several, hoist merged them (`merged_env`).
        if !(tool == Tool::V1 && o.env_files.len() > 1) {
            for e in &o.env_files {
                argv.extend(["--env-file".to_string(), e.clone()]);
            }
        }
        for p in &o.profiles {
            argv.extend(["--profile".to_string(), p.clone()]);
        }
        argv.extend(args.iter().cloned());
        let mut c = Command::argv(argv).cwd(self.inner.dir.clone());
        // Env-file values may be passwords: they travel as secrets (redacted in plans, the
        // audit log and errors; never in an argv).
        // A name that is not a shell identifier cannot be interpolated either (`${A-B}` is A
        // with a default): such env-file lines are left to compose, not exported.
        for (k, v) in merged_env
            .iter()
            .filter(|(k, _)| crate::command::is_env_name(k))
        {
            c = c.env_secret(k.clone(), crate::secret::Secret::new(v.clone()));
        }
        for (k, v) in &o.env {
            c = match v {
                Value::Plain(s) => c.env(k.clone(), s.clone()),
                Value::Secret(s) => c.env_secret(k.clone(), s.clone()),
            };
        }
        Ok(c)
    }

    /// The command that acts: every file hoist rendered named with `--file`, and on v1 with
    /// several env files their merged values (those the host's environment and the `env`
    /// option do not set, so compose's precedence is kept) exported instead of
    /// `--env-file`.
    pub async fn compose_command(&self, tool: Tool, args: &[String]) -> Result<Command> {
        let files = self.files().await?;
        let merged = if tool == Tool::V1 && self.inner.opts.env_files.len() > 1 {
            let snap = self.snapshot(&[]).await?;
            let opt_env = self.option_env();
            self.env_file_values(&snap, &mut Vec::new())?
                .into_iter()
                .filter(|(k, _)| !snap.host_env.contains_key(k) && !opt_env.contains_key(k))
                .collect()
        } else {
            Vec::new()
        };
        self.command_with(tool, args, &files, &merged)
    }

    /// Run one compose subcommand; a failure names the host, the tool, the command, the exit
    /// code and the stderr tail.
    async fn act(&self, args: &[String], check: bool) -> Result<Output> {
        let tool = self.tool().await?;
        let cmd = self.compose_command(tool, args).await?.check(false);
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
            (Tool::V2 | Tool::V2Standalone, Some(p)) => {
                args.extend(["--pull".to_string(), p.to_string()])
            }
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
            self.act(&p, true).await?;
        }
        // A plan says what compose would do to each service, not only that `up` runs.
        let effects = self.inner.host.services().effects();
        let outcomes = if effects.planning() {
            Some(self.up_outcomes(&o.services).await?)
        } else {
            None
        };
        self.act(&args, true).await?;
        if let Some(notes) = outcomes {
            effects.annotate_last(self.inner.host.name(), notes);
        }
        if o.wait {
            self.wait(&o.services, Duration::from_secs(o.timeout.unwrap_or(120)))
                .await?;
        }
        Ok(())
    }

    /// Wait until the containers of `services` (all when empty) run and are healthy where
    /// they have a healthcheck. Done by hoist for both tools (v1 has no `--wait`).
    pub async fn wait(&self, services: &[String], timeout: Duration) -> Result<()> {
        let effects = self.inner.host.services().effects();
        if effects.planning() {
            // The containers a dry run would wait for were never started.
            effects.assume(
                self.inner.host.name(),
                format!(
                    "compose project {} becomes ready ({})",
                    self.inner.name,
                    if services.is_empty() {
                        "every service".to_string()
                    } else {
                        services.join(", ")
                    }
                ),
            );
            return Ok(());
        }
        let start = Instant::now();
        // Without names: the services the active profiles run (a one-shot of another
        // profile that ran earlier is not this `up`'s business).
        let watched: Vec<String> = if services.is_empty() {
            self.active_services().await?
        } else {
            services.to_vec()
        };
        loop {
            let states: Vec<ContainerState> = self
                .ps()
                .await?
                .into_iter()
                .filter(|c| watched.contains(&c.service))
                .collect();
            let bad: Vec<&ContainerState> = states.iter().filter(|c| c.failed()).collect();
            if let Some(c) = bad.first() {
                return Err(Error::failed(format!(
                    "service {} of compose project {} is {} ({})",
                    c.service,
                    self.inner.name,
                    if c.health == Health::Unhealthy {
                        c.health.to_string()
                    } else {
                        c.state.to_string()
                    },
                    c.status
                ))
                .host(self.inner.host.name())
                .hint("p.logs(#{service: ...}) shows why"));
            }
            let ready = !states.is_empty() && states.iter().all(ContainerState::ready);
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

    /// The services the active profiles run (all of them with `*`).
    pub async fn active_services(&self) -> Result<Vec<String>> {
        Ok(self.config().await?.services.keys().cloned().collect())
    }

    /// Take the project down: from its labels (see down.rs), so without its files; or, with
    /// `active_only`, only the services the active profiles run (that needs the files).
    pub async fn down(&self, o: &DownOptions) -> Result<Removed> {
        if o.active_only {
            if o.remove_orphans {
                return Err(Error::usage(
                    "p.down(): active_only and remove_orphans do not go together",
                ));
            }
            let services = self.active_services().await?;
            let going: Vec<String> = self
                .ps()
                .await?
                .into_iter()
                .filter(|c| services.contains(&c.service))
                .map(|c| c.name)
                .collect();
            self.rm(
                &services,
                &RmOptions {
                    stop: true,
                    volumes: o.volumes,
                },
            )
            .await?;
            return Ok(Removed {
                containers: going,
                ..Removed::default()
            });
        }
        // Everything with the project's label goes, so orphans go too: `remove_orphans`
        // changes nothing.
        let docker = self.docker().await?;
        down::down(docker, &self.inner.name, o.volumes, self.started_by_plan()).await
    }

    /// A dry run planned a compose command of this project on its host earlier (an `up`):
    /// what exists now is not all a later step of the plan would find.
    fn started_by_plan(&self) -> bool {
        let effects = self.inner.host.services().effects();
        if !effects.planning() {
            return false;
        }
        let mark = format!("--project-name {} ", self.inner.name);
        effects.plan().changes.iter().any(|c| {
            c.host == self.inner.host.name()
                && matches!(&c.change, Change::Command { command } if command.contains(&mark))
        })
    }

    async fn simple(&self, sub: &str, services: &[String]) -> Result<()> {
        self.check_services(services).await?;
        let mut args = vec![sub.to_string()];
        args.extend(services.iter().cloned());
        self.act(&args, true).await.map(|_| ())
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

    /// The argv of `rm` for `services` (all when empty).
    pub fn rm_args(services: &[String], o: &RmOptions) -> Vec<String> {
        let mut args = vec!["rm".to_string(), "--force".to_string()];
        if o.stop {
            args.push("--stop".into());
        }
        if o.volumes {
            args.push("-v".into());
        }
        args.extend(services.iter().cloned());
        args
    }

    /// Remove the containers of `services` (stopping them first with `stop`).
    pub async fn rm(&self, services: &[String], o: &RmOptions) -> Result<()> {
        self.check_services(services).await?;
        self.act(&Self::rm_args(services, o), true)
            .await
            .map(|_| ())
    }

    /// The argv of `run` (a one-shot container, no TTY, in the foreground).
    pub fn run_args(service: &str, cmd: &[String], o: &RunOptions) -> Vec<String> {
        let mut args = vec!["run".to_string(), "-T".to_string()];
        if o.rm {
            args.push("--rm".into());
        }
        if o.no_deps {
            args.push("--no-deps".into());
        }
        if let Some(u) = &o.user {
            args.extend(["--user".to_string(), u.clone()]);
        }
        for (k, v) in &o.env {
            args.extend(["-e".to_string(), format!("{k}={v}")]);
        }
        if let Some(w) = &o.workdir {
            args.extend(["--workdir".to_string(), w.clone()]);
        }
        args.push(service.to_string());
        args.extend(cmd.iter().cloned());
        args
    }

    /// Run a one-shot container of `service` (its own command when `cmd` is empty) in the
    /// foreground: its output and exit code come back; a non-zero exit throws unless
    /// `check: false`.
    pub async fn run(&self, service: &str, cmd: &[String], o: &RunOptions) -> Result<Output> {
        self.check_services(&[service.to_string()]).await?;
        self.act(&Self::run_args(service, cmd, o), o.check.unwrap_or(true))
            .await
    }

    /// Logs of the project (or one service), as text, from the Engine API by the containers'
    /// labels (no files needed): "" when it has no containers. With `follow` the lines go to
    /// the reporter as they come (host-prefixed) until the containers stop or Ctrl-C, and the
    /// call returns "".
    pub async fn logs(&self, o: &LogsOptions) -> Result<String> {
        logs::logs(self.docker().await?, &self.inner.name, o).await
    }

    /// Run `cmd` (argv) in the running container of `service` (its first, as compose's exec
    /// picks), through the Engine API: the project is found by its labels, without its files.
    pub async fn exec(&self, service: &str, cmd: &[String], o: &ExecOptions) -> Result<Output> {
        if cmd.is_empty() {
            return Err(Error::usage("p.exec(): the command is empty"));
        }
        let docker = self.docker().await?;
        let project = &self.inner.name;
        let members = labels::members(docker, project, Which::Services).await?;
        if members.is_empty() && self.started_by_plan() {
            // A dry run that planned the project's start: its container does not exist yet.
            let change = Change::Docker {
                op: "exec".into(),
                detail: format!(
                    "exec in service {service} of compose project {project}: {}",
                    crate::command::join(cmd)
                ),
            };
            let done = self
                .inner
                .host
                .services()
                .perform(self.inner.host.name(), change, async {
                    // Only a dry run gets here: the project's start is planned, not made.
                    Err::<(), _>(Error::failed(format!(
                        "compose project {project} has no containers to exec in"
                    )))
                })
                .await?;
            debug_assert!(done.planned(), "started_by_plan holds only in a dry run");
            let mut out = Output::from_raw(0, Vec::new(), Vec::new(), 0);
            out.planned = true;
            return Ok(out);
        }
        if members.is_empty() {
            return Err(labels::no_containers(docker, project).await);
        }
        let c = labels::running(docker, project, service, &members)?;
        let opts = crate::docker::ExecOpts {
            user: o.user.clone(),
            workdir: o.workdir.clone(),
            // Values reach the engine in the request body, never an argv.
            env: o
                .env
                .iter()
                .map(|(k, v)| (k.clone(), crate::secret::Secret::new(v.clone())))
                .collect(),
            stdin: None,
            check: o.check.unwrap_or(true),
        };
        docker.exec(&c.name, cmd, &opts).await
    }

    /// The project's engine (its host's), connected on first use.
    async fn docker(&self) -> Result<&Docker> {
        self.inner
            .docker
            .get_or_try_init(|| Docker::on(&self.inner.host))
            .await
    }

    /// The project's containers from the Engine API (same data for v1 and v2).
    pub async fn ps(&self) -> Result<Vec<ContainerState>> {
        ps::ps(self.docker().await?, &self.inner.name).await
    }

    /// [`Project::ps`], but a project without containers on its host is an error that names
    /// the compose projects that are there (a mistyped or directory-derived name shows).
    pub async fn require_containers(&self) -> Result<Vec<ContainerState>> {
        let found = self.ps().await?;
        if found.is_empty() {
            return Err(labels::no_containers(self.docker().await?, &self.inner.name).await);
        }
        Ok(found)
    }
}
