//! The pre-flight: a new release proven before it takes any traffic. Beside a live release,
//! every service of the new configuration that runs the release's image starts as compose
//! project `APP-preflight`, beside the live containers — no published ports, no
//! container_name, its own alias (`SERVICE-preflight`) on the live containers' networks, the
//! live project's named volumes — so live traffic never reaches it. With nothing running (a
//! first release, or one after `destroy`), the whole configuration starts alone as that
//! project — no published ports, networks of its own — and only a proven release is then
//! started on the port: a release that fails a check never answers a request. This module
//! writes that project's file from the release's configuration (pure); the engine runs it.

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::check::{self, Failure, Http};
use super::engine::{Candidate, Release, Stage, now};
use super::guard::{self, Guard};
use super::layout;
use crate::compose::model::ComposeFile;
use crate::compose::{ComposeOptions, Project, UpOptions};
use crate::error::{Error, Result};
use crate::host::{FileOpts, MkdirOpts};
use crate::report::Level;

/// The pre-flight project's file in the project directory.
pub const FILE: &str = ".hoist-preflight.yml";

/// The pre-flight project's name.
pub fn project(app: &str) -> String {
    format!("{app}-preflight")
}

/// The pre-flight service of `service`.
pub fn service(service: &str) -> String {
    format!("{service}-preflight")
}

/// Where a pre-flight runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Beside the live release, on its networks ([`file`]).
    Beside,
    /// Alone: nothing of the app runs ([`file_alone`]).
    Alone,
}

impl Scope {
    /// Where, for messages and records.
    fn where_(self) -> &'static str {
        match self {
            Scope::Beside => "beside the live release",
            Scope::Alone => "in a project of its own (nothing of the app was running)",
        }
    }
    /// What stays as it was.
    fn untouched(self) -> &'static str {
        match self {
            Scope::Beside => "which keeps serving untouched",
            Scope::Alone => "so it was never started on the app's ports",
        }
    }
}

/// Keys of a service the pre-flight drops: what would publish it, name it, tie it to other
/// services or place it — the pre-flight runs alone, beside the live release.
const DROPPED: [&str; 8] = [
    "ports",
    "container_name",
    "depends_on",
    "networks",
    "links",
    "network_mode",
    "deploy",
    "profiles",
];

/// The pre-flight project for `services` of `config` (rendered with the release's files and
/// pin, so their image is the one the release pins). `networks`: per service, the networks
/// its live containers are on (joined as external networks). The text is JSON (which YAML
/// reads); every `$` is doubled, the values being interpolated already.
pub fn file(
    app: &str,
    config: &ComposeFile,
    services: &[String],
    networks: &IndexMap<String, Vec<String>>,
    staged: &[String],
) -> String {
    let mut out_services = Map::new();
    let mut out_networks = Map::new();
    for name in services {
        let Some(svc) = config.services.get(name) else {
            continue;
        };
        let mut v = serde_json::to_value(svc).expect("a service serializes");
        let obj = v.as_object_mut().expect("a service is a map");
        for k in DROPPED {
            obj.remove(k);
        }
        read_staged(obj, staged);
        if let Some(nets) = networks.get(name).filter(|n| !n.is_empty()) {
            obj.insert("networks".into(), json!(nets));
            for n in nets {
                out_networks.insert(n.clone(), json!({"external": true, "name": n}));
            }
        }
        out_services.insert(service(name), v);
    }
    let mut doc = Map::new();
    doc.insert("services".into(), Value::Object(out_services));
    if !out_networks.is_empty() {
        doc.insert("networks".into(), Value::Object(out_networks));
    }
    // Named volumes are the live project's own: the pre-flight sees its data.
    if !config.volumes.is_empty() {
        let mut vols = Map::new();
        for (v, spec) in &config.volumes {
            let real = spec
                .as_ref()
                .and_then(|s| s.name.clone())
                .unwrap_or_else(|| format!("{app}_{v}"));
            vols.insert(v.clone(), json!({"external": true, "name": real}));
        }
        doc.insert("volumes".into(), Value::Object(vols));
    }
    if !config.secrets.is_empty() {
        doc.insert(
            "secrets".into(),
            serde_json::to_value(&config.secrets).expect("secrets"),
        );
    }
    if !config.configs.is_empty() {
        doc.insert(
            "configs".into(),
            serde_json::to_value(&config.configs).expect("configs"),
        );
    }
    serde_json::to_string_pretty(&Value::Object(doc))
        .expect("json")
        .replace('$', "$$")
}

/// Where the pre-flight finds the release's own files a service reads (`env_file`): they
/// are put in place only at its cutover, so it reads copies here (the guard removes them).
pub const STAGED: &str = ".hoist-preflight.d";

/// The release's own files (`names`, relative to the project directory) that a service of
/// `config` reads as its `env_file`: what the pre-flight copies to [`STAGED`].
pub fn env_files_read(config: &ComposeFile, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for svc in config.services.values() {
        let paths: Vec<String> = match &svc.env_file {
            Some(Value::String(p)) => vec![p.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(p) => Some(p.clone()),
                    Value::Object(o) => o.get("path").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for p in paths {
            let p = relative(&p);
            if names.contains(&p) && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// `./a.env` and `a.env` are one file.
fn relative(p: &str) -> String {
    p.trim_start_matches("./").to_string()
}

/// A service's `env_file` entries that name a `staged` file read its copy in [`STAGED`].
fn read_staged(svc: &mut Map<String, Value>, staged: &[String]) {
    let swap = |p: &mut String| {
        let r = relative(p);
        if staged.contains(&r) {
            *p = format!("{STAGED}/{r}");
        }
    };
    match svc.get_mut("env_file") {
        Some(Value::String(p)) => swap(p),
        Some(Value::Array(items)) => {
            for i in items {
                match i {
                    Value::String(p) => swap(p),
                    Value::Object(o) => {
                        if let Some(Value::String(p)) = o.get_mut("path") {
                            swap(p)
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Keys of a service the pre-flight of a release with nothing running drops: what would
/// publish it or clash with the release started after it.
const DROPPED_ALONE: [&str; 4] = ["ports", "container_name", "deploy", "profiles"];

/// The pre-flight project of a release with nothing running: every service of `config`
/// under its own name (so `depends_on`, `links` and aliases hold), with no published port,
/// no container name and not on the host's network; networks of its own (external ones are
/// joined: a front proxy's). A named volume that exists on the host (`present`: after a
/// `destroy`, named volumes stay) is used as the release will use it; one that does not is
/// the pre-flight's own, gone with it. JSON text, every `$` doubled (as [`file`]).
pub fn file_alone(
    app: &str,
    config: &ComposeFile,
    present: &[String],
    staged: &[String],
) -> String {
    let mut doc = serde_json::to_value(config).expect("a configuration serializes");
    let obj = doc.as_object_mut().expect("a configuration is a map");
    // The project is named on the command line (APP-preflight).
    obj.remove("name");
    if let Some(Value::Object(services)) = obj.get_mut("services") {
        for svc in services.values_mut() {
            let Some(svc) = svc.as_object_mut() else {
                continue;
            };
            for k in DROPPED_ALONE {
                svc.remove(k);
            }
            if svc.get("network_mode").and_then(Value::as_str) == Some("host") {
                svc.remove("network_mode");
            }
            read_staged(svc, staged);
        }
    }
    let external = |spec: &Value| spec.get("external").is_some_and(|e| e != &json!(false));
    if let Some(Value::Object(networks)) = obj.get_mut("networks") {
        for spec in networks.values_mut() {
            if !external(spec)
                && let Some(m) = spec.as_object_mut()
            {
                m.remove("name");
            }
        }
    }
    if let Some(Value::Object(volumes)) = obj.get_mut("volumes") {
        for (v, spec) in volumes.iter_mut() {
            if external(spec) {
                continue;
            }
            let real = spec
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{app}_{v}"));
            if present.contains(&real) {
                *spec = json!({"external": true, "name": real});
            } else if let Some(m) = spec.as_object_mut() {
                m.remove("name");
            }
        }
    }
    serde_json::to_string_pretty(&doc)
        .expect("json")
        .replace('$', "$$")
}

impl Release {
    /// Remove the pre-flight project through its guard (the undo runs on the host; a second
    /// signal stops the wait for it, not the removal), saying how that ended when it did not.
    pub(super) async fn remove_preflight(&self, g: &Guard) {
        let h = &self.inner.host;
        let what = project(&self.inner.app);
        let fired = crate::services::shielded_async(g.fire(
            h,
            format!("remove the pre-flight project {what} (the host's guard)"),
        ))
        .await;
        match fired {
            Ok(Some(f)) if !f.ok() => self.say(
                Level::Warn,
                format!(
                    "{}: removing the pre-flight project {what} failed (exit code {}): {}",
                    h.name(),
                    f.code,
                    f.output
                ),
            ),
            Ok(_) => {}
            Err(e) => self.say(
                Level::Warn,
                format!(
                    "{}: the host goes on removing the pre-flight project {what} on its own ({})",
                    h.name(),
                    e.message
                ),
            ),
        }
    }

    /// Prove `c` before it takes any traffic: it must pass its containers' checks (health, no
    /// exit, no restart) and, when the release names one, the HTTP check on its container's
    /// address (curl on the host) — beside the live release, or, with nothing running, alone
    /// (see the module doc). The pre-flight project goes away whatever happens — its removal
    /// is the host-side guard's undo, so Ctrl-C or a lost controller cannot leave it behind.
    /// A failure leaves what runs untouched, records a new release as failed, and names the
    /// service, the probe's response and its last log lines.
    pub async fn preflight(&self, c: &Candidate) -> Result<()> {
        let h = &self.inner.host;
        if c.stage() != Stage::Prepared {
            return Err(Error::usage(format!(
                "{}: release {} was prepared once and is {:?} now: prepare it again",
                h.name(),
                c.record().id,
                c.stage()
            )));
        }
        let rec = c.record();
        if c.inner.back {
            self.fetch_pinned(c).await?;
            if c.previous().is_some_and(|l| l.id == rec.id) {
                // Back to the live release itself: a repair, nothing new to prove.
                c.set_stage(Stage::Proven);
                return Ok(());
            }
        }
        let live = check::observe(&self.inner.docker, &self.inner.app).await?;
        let scope = if live.iter().any(|s| s.state == "running") {
            Scope::Beside
        } else {
            Scope::Alone
        };
        let names: Vec<String> = c.inner.files.iter().map(|(n, _)| n.clone()).collect();
        let staged = env_files_read(&c.inner.config, &names);
        let text = match scope {
            Scope::Beside => {
                let networks = self.live_networks(c, &live).await?;
                file(
                    &self.inner.app,
                    &c.inner.config,
                    &c.inner.pinned_services,
                    &networks,
                    &staged,
                )
            }
            Scope::Alone => {
                let present: Vec<String> = if c.inner.config.volumes.is_empty() {
                    Vec::new()
                } else {
                    let all = self.inner.docker.volumes().await?;
                    all.into_iter().map(|v| v.name).collect()
                };
                file_alone(&self.inner.app, &c.inner.config, &present, &staged)
            }
        };
        // Behind the proxy: the live container the route goes back to if this run is lost
        // while the pre-flight serves.
        let live_upstream = c.inner.routed.as_ref().and_then(|r| {
            live.iter()
                .find(|x| x.service == r.service && x.state == "running")
                .map(|x| format!("{}:{}", x.name, r.port))
        });
        let pre = Project::new(
            h,
            &self.inner.dir,
            ComposeOptions {
                project: Some(project(&self.inner.app)),
                files: vec![FILE.to_string()],
                ..ComposeOptions::default()
            },
        )?;
        let mut down = vec!["down".to_string(), "--remove-orphans".to_string()];
        if scope == Scope::Alone {
            // Its own volumes and networks go with it (external ones are never removed).
            down.push("--volumes".to_string());
        }
        let down = pre
            .compose_command(pre.tool().await?, &down)
            .await?
            .render();
        // No file: the run was stopped before writing it, so nothing was started from it.
        let undo = format!(
            "{}if [ -e {f} ]; then ( {down} ) || rc=1; fi\nrm -rf -- {f} {d} || rc=1\nexit ${{rc:-0}}\n",
            live_upstream
                .as_deref()
                .map(|u| self.route_back_script(u))
                .unwrap_or_default(),
            f = crate::command::quote_path(&self.path(FILE)),
            d = crate::command::quote_path(&self.path(STAGED)),
        );
        // Behind the proxy the pre-flight serves through the cutover: its guard waits longer.
        let deadline = match &self.inner.routing {
            Some(r) => self.inner.opts.timeout * 4 + 300 + r.drain.as_secs() * 2,
            None => self.inner.opts.timeout * 2 + 120,
        };
        let what = format!("the pre-flight of {} on {}", rec.id, h.name());
        let g = Guard::arm(
            h,
            guard::DIR,
            &format!("{}-preflight-{}", super::lock::run_id(), self.inner.app),
            &what,
            &format!("rc=0\n{undo}"),
            Some(Duration::from_secs(deadline)),
            format!(
                "arm the host's guard of {what}: the pre-flight project {} goes whatever happens",
                project(&self.inner.app)
            ),
        )
        .await?;
        // Written once the guard is armed: an interrupt before that leaves no file behind.
        let written = self.write_preflight(c, scope, &text, &staged).await;
        let outcome = match written {
            Ok(()) => self.run_preflight(c, &pre, scope).await,
            Err(e) => Err(e),
        };
        if let (Ok(Ok(())), Some(r), Scope::Beside) = (&outcome, &c.inner.routed, scope) {
            // Proven, behind the proxy: it stays to take the traffic during the cutover, which
            // retires it (its guard still removes it if this run is lost). (Alone, it goes: the
            // route stays where it was until the release is proven in its own project.)
            let upstream = if h.services().effects().planning() {
                Ok(format!(
                    "{}-{}-1",
                    project(&self.inner.app),
                    service(&r.service)
                ))
            } else {
                self.container_of(&project(&self.inner.app), &service(&r.service))
                    .await
            };
            match upstream {
                Ok(name) => {
                    *c.inner.kept.lock().expect("kept lock") = Some(super::routed::KeptPreflight {
                        guard: g,
                        upstream: format!("{name}:{}", r.port),
                    });
                    c.set_stage(Stage::Proven);
                    return Ok(());
                }
                Err(e) => {
                    // Gone between its check and now: it cannot take the traffic.
                    self.remove_preflight(&g).await;
                    c.set_stage(Stage::Failed);
                    return Err(e);
                }
            }
        }
        // The clean-up is the guard's undo, run on the host.
        self.remove_preflight(&g).await;
        match outcome {
            Ok(Ok(())) => {
                c.set_stage(Stage::Proven);
                Ok(())
            }
            Ok(Err(failure)) => {
                c.set_stage(Stage::Failed);
                let why = format!(
                    "its pre-flight {} failed: service {}: {}",
                    scope.where_(),
                    failure.service,
                    failure.reason
                );
                if !c.inner.back {
                    crate::services::shielded_async(async {
                        let next = c.inner.before.failed(rec, &why, &now());
                        self.inner.store.save(&next).await
                    })
                    .await?;
                }
                Err(Error::failed(format!(
                    "{}: the new release of service {} ({}) failed its pre-flight check {}, {}: {}{}",
                    h.name(),
                    failure.service,
                    rec.image,
                    scope.where_(),
                    scope.untouched(),
                    failure.reason,
                    failure.details()
                ))
                .host(h.name()))
            }
            Err(e) => {
                c.set_stage(Stage::Failed);
                if !c.inner.back && !e.is_cancelled() {
                    let why = format!("its pre-flight {} failed: {}", scope.where_(), e.message);
                    let _ = crate::services::shielded_async(async {
                        let next = c.inner.before.failed(rec, &why, &now());
                        self.inner.store.save(&next).await
                    })
                    .await;
                }
                Err(e)
            }
        }
    }

    /// The pre-flight project's file and the release's files it reads (into [`STAGED`]);
    /// alone, the project directory is made first (a first release has none yet).
    async fn write_preflight(
        &self,
        c: &Candidate,
        scope: Scope,
        text: &str,
        staged: &[String],
    ) -> Result<()> {
        let h = &self.inner.host;
        if scope == Scope::Alone {
            h.mkdir(&self.inner.dir, &MkdirOpts::default()).await?;
        }
        for (name, bytes) in c.inner.files.iter().filter(|(n, _)| staged.contains(n)) {
            let path = self.path(&format!("{STAGED}/{name}"));
            if let Some((parent, _)) = path.rsplit_once('/') {
                h.mkdir(parent, &MkdirOpts::default()).await?;
            }
            h.write_bytes(
                &path,
                bytes,
                &FileOpts {
                    mode: Some(0o600),
                    ..FileOpts::default()
                },
            )
            .await?;
        }
        h.write(&self.path(FILE), text, &FileOpts::default())
            .await
            .map(|_| ())
    }

    /// Per pinned service of `c`, the networks its live containers are on (behind the
    /// proxy, the routed one also on the proxy's): the pre-flight joins them.
    async fn live_networks(
        &self,
        c: &Candidate,
        live: &[super::readiness::Seen],
    ) -> Result<IndexMap<String, Vec<String>>> {
        let mut networks: IndexMap<String, Vec<String>> = IndexMap::new();
        for s in &c.inner.pinned_services {
            let mut nets = Vec::new();
            for seen in live
                .iter()
                .filter(|x| &x.service == s && x.state == "running")
            {
                let i = self.inner.docker.inspect(&seen.name).await?;
                let mut names: Vec<String> = i
                    .network_settings
                    .and_then(|n| n.networks)
                    .map(|n| n.into_keys().collect())
                    .unwrap_or_default();
                names.sort();
                for n in names {
                    if !nets.contains(&n) {
                        nets.push(n);
                    }
                }
            }
            if c.inner.routed.as_ref().is_some_and(|r| &r.service == s)
                && !nets.iter().any(|n| n == crate::proxy::NETWORK)
            {
                nets.push(crate::proxy::NETWORK.to_string());
            }
            networks.insert(s.clone(), nets);
        }
        Ok(networks)
    }

    /// Start the pre-flight project and check it: Ok(Err(failure)) when it does not pass.
    async fn run_preflight(
        &self,
        c: &Candidate,
        pre: &Project,
        scope: Scope,
    ) -> Result<std::result::Result<(), Failure>> {
        let h = &self.inner.host;
        let rec = c.record();
        let effects = h.services().effects();
        // The release's services by their names in the pre-flight project.
        let named = |s: &str| match scope {
            Scope::Beside => service(s),
            Scope::Alone => s.to_string(),
        };
        let up = pre
            .up(&UpOptions {
                force_recreate: true,
                // Beside the live release only the release's own image runs (pulled by
                // prepare); alone, its other services' images are fetched as the cutover's
                // `up` would.
                pull: (scope == Scope::Beside)
                    .then(|| crate::compose::project::PullPolicy::Named("never".into())),
                ..UpOptions::default()
            })
            .await;
        if let Err(e) = up {
            if e.is_cancelled() {
                return Err(e);
            }
            let first = c.inner.pinned_services.first().cloned().unwrap_or_default();
            let logs = check::logs_tail(&self.inner.docker, pre.name(), &named(&first), 15).await;
            return Ok(Err(Failure {
                service: first,
                reason: format!("it did not start: {}", e.brief()),
                probe: String::new(),
                logs,
            }));
        }
        if effects.planning() {
            effects.assume(
                h.name(),
                format!(
                    "the pre-flight of {} ({}) passes its checks",
                    rec.id, rec.image
                ),
            );
            return Ok(Ok(()));
        }
        let timeout = Duration::from_secs(self.inner.opts.timeout);
        let expected: Vec<String> = match scope {
            Scope::Beside => c.inner.pinned_services.iter().map(|s| service(s)).collect(),
            Scope::Alone => c.inner.config.services.keys().cloned().collect(),
        };
        let one_shots: Vec<String> = check::one_shots(&c.inner.config)
            .iter()
            .map(|s| named(s))
            .collect();
        if let Err(mut f) = check::wait_ready(
            &self.inner.docker,
            pre.name(),
            &expected,
            &one_shots,
            timeout,
        )
        .await?
        {
            if scope == Scope::Beside {
                f.service = f.service.trim_end_matches("-preflight").to_string();
            }
            return Ok(Err(f));
        }
        if let Some(r) = &c.inner.routed {
            let mut f = self
                .http_check_routed(pre.name(), &named(&r.service), r)
                .await?;
            if let Err(f) = &mut f {
                f.service = r.service.clone();
            }
            return Ok(f);
        }
        let port = self.inner.opts.health_port;
        if port == 0 {
            return Ok(Ok(()));
        }
        // The pinned service that publishes the checked port, on its container's address.
        let Some((svc, target)) = c.inner.pinned_services.iter().find_map(|s| {
            let t = layout::published_target(c.inner.config.services.get(s)?, port)?;
            Some((s.clone(), t))
        }) else {
            return Ok(Ok(()));
        };
        let seen = check::observe(&self.inner.docker, pre.name()).await?;
        let Some(container) = seen.iter().find(|x| x.service == named(&svc)) else {
            return Ok(Err(Failure {
                service: svc,
                reason: "its pre-flight container is gone".into(),
                probe: String::new(),
                logs: String::new(),
            }));
        };
        let ip = check::container_ip(&self.inner.docker, &container.name).await?;
        let url = format!("http://{ip}:{target}{}", self.inner.opts.health_path);
        match check::http(h, &Http { url }, &svc, timeout).await? {
            Ok(()) => Ok(Ok(())),
            Err(mut f) => {
                f.logs = check::logs_tail(&self.inner.docker, pre.name(), &named(&svc), 15).await;
                Ok(Err(f))
            }
        }
    }

    /// A release gone back to needs its image on the host: pulled by its digest (or tag) when
    /// missing; one pinned by image ID that is gone cannot come back.
    async fn fetch_pinned(&self, c: &Candidate) -> Result<()> {
        let rec = c.record();
        let d = &self.inner.docker;
        if d.image_exists(&rec.pinned).await? {
            return Ok(());
        }
        if rec.pin == super::record::PinKind::ImageId {
            return Err(Error::failed(format!(
                "{}: the image {} ran ({}, {}) is no longer in the host's engine and came without a registry: deploy it again",
                self.inner.host.name(),
                rec.id,
                rec.pinned,
                rec.image
            ))
            .host(self.inner.host.name()));
        }
        let _step = crate::step::enter(&format!(
            "Pull {} on {}",
            rec.pinned,
            self.inner.host.name()
        ));
        d.pull(&rec.pinned).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preflight_runs_the_pinned_services_alone_on_the_live_networks() {
        let config: ComposeFile = serde_json::from_str(
            r#"{"services": {
                "web": {"image": "reg/app@sha256:1", "ports": ["127.0.0.1:8080:80"], "container_name": "web",
                        "depends_on": ["db"], "environment": {"PRICE": "5$"}, "volumes": ["data:/data"]},
                "db": {"image": "postgres"}
            }, "volumes": {"data": null, "named": {"name": "shared"}}}"#,
        )
        .unwrap();
        let nets = IndexMap::from([("web".to_string(), vec!["app_default".to_string()])]);
        let text = file("app", &config, &["web".into()], &nets, &[]);
        let doc: Value = serde_json::from_str(&text.replace("$$", "$")).unwrap();
        let web = &doc["services"]["web-preflight"];
        assert_eq!(web["image"], "reg/app@sha256:1");
        for k in ["ports", "container_name", "depends_on"] {
            assert!(web.get(k).is_none(), "{k} kept: {text}");
        }
        assert_eq!(web["networks"], json!(["app_default"]));
        assert!(doc["services"].get("db-preflight").is_none());
        assert_eq!(doc["networks"]["app_default"]["external"], true);
        assert_eq!(doc["volumes"]["data"]["name"], "app_data");
        assert_eq!(doc["volumes"]["named"]["name"], "shared");
        assert!(text.contains("5$$"), "a literal $ stays literal: {text}");
    }

    #[test]
    fn alone_the_whole_release_runs_unpublished_on_networks_and_fresh_volumes_of_its_own() {
        let config: ComposeFile = serde_json::from_str(
            r#"{"name": "app", "services": {
                "web": {"image": "reg/app@sha256:1", "ports": ["8080:80"], "container_name": "web",
                        "depends_on": ["db"], "networks": ["back", "edge"], "env_file": ["./app.env", "host.env"],
                        "volumes": ["data:/data", "kept:/kept"], "environment": {"PRICE": "5$"}},
                "db": {"image": "postgres", "network_mode": "host", "deploy": {"replicas": 2}}
            },
            "networks": {"back": {"name": "app_back"}, "edge": {"external": true, "name": "hoist-proxy"}},
            "volumes": {"data": {"name": "app_data"}, "kept": null, "theirs": {"external": true, "name": "shared"}}}"#,
        )
        .unwrap();
        let staged = env_files_read(&config, &["compose.yml".into(), "app.env".into()]);
        assert_eq!(staged, ["app.env"]);
        let text = file_alone("app", &config, &["app_kept".into()], &staged);
        let doc: Value = serde_json::from_str(&text.replace("$$", "$")).unwrap();
        assert!(doc.get("name").is_none(), "{text}");
        let web = &doc["services"]["web"];
        for k in ["ports", "container_name"] {
            assert!(web.get(k).is_none(), "{k} kept: {text}");
        }
        // Between its own services as the release will run.
        assert_eq!(web["depends_on"], json!(["db"]));
        assert_eq!(web["networks"], json!(["back", "edge"]));
        assert_eq!(
            web["env_file"],
            json!([format!("{STAGED}/app.env"), "host.env"])
        );
        let db = &doc["services"]["db"];
        assert!(
            db.get("network_mode").is_none() && db.get("deploy").is_none(),
            "{text}"
        );
        // Its own network, the external one joined.
        assert!(doc["networks"]["back"].get("name").is_none(), "{text}");
        assert_eq!(doc["networks"]["edge"]["name"], "hoist-proxy");
        // A volume the host has is used, a missing one is the pre-flight's own.
        assert!(doc["volumes"]["data"].get("name").is_none(), "{text}");
        assert_eq!(
            doc["volumes"]["kept"],
            json!({"external": true, "name": "app_kept"})
        );
        assert_eq!(doc["volumes"]["theirs"]["name"], "shared");
        assert!(text.contains("5$$"), "a literal $ stays literal: {text}");
    }
}
