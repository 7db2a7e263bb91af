//! The pre-flight: a new release proven beside the live one before it takes any traffic.
//! Every service of the new configuration that runs the release's image starts as compose
//! project `APP-preflight`, beside the live containers — no published ports, no
//! container_name, its own alias (`SERVICE-preflight`) on the live containers' networks, the
//! live project's named volumes — so live traffic never reaches it. This module writes that
//! project's file from the release's configuration (pure); the engine runs it.

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
use crate::host::FileOpts;
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

impl Release {
    /// Prove `c` beside the live release before it takes any traffic: it must pass its
    /// containers' checks (health, no exit, no restart) and, when the release names one, the
    /// HTTP check on its container's address (curl on the host). The pre-flight project goes
    /// away whatever happens — its removal is the host-side guard's undo, so Ctrl-C or a lost
    /// controller cannot leave it behind. A failure leaves the live release untouched, records
    /// a new release as failed, and names the service, the probe's response and its last log
    /// lines. No live release running: nothing to protect (the cutover checks it).
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
        if !live.iter().any(|s| s.state == "running") {
            c.set_stage(Stage::Proven);
            return Ok(());
        }
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
        // Behind the proxy: the live container the route goes back to if this run is lost
        // while the pre-flight serves.
        let live_upstream = c.inner.routed.as_ref().and_then(|r| {
            live.iter()
                .find(|x| x.service == r.service && x.state == "running")
                .map(|x| format!("{}:{}", x.name, r.port))
        });
        let text = file(
            &self.inner.app,
            &c.inner.config,
            &c.inner.pinned_services,
            &networks,
        );
        let pre = Project::new(
            h,
            &self.inner.dir,
            ComposeOptions {
                project: Some(project(&self.inner.app)),
                files: vec![FILE.to_string()],
                ..ComposeOptions::default()
            },
        )?;
        let down = pre
            .compose_command(
                pre.tool().await?,
                &["down".to_string(), "--remove-orphans".to_string()],
            )
            .await?
            .render();
        // No file: the run was stopped before writing it, so nothing was started from it.
        let undo = format!(
            "{}if [ -e {f} ]; then ( {down} ) || rc=1; fi\nrm -f -- {f} || rc=1\nexit ${{rc:-0}}\n",
            live_upstream
                .as_deref()
                .map(|u| self.route_back_script(u))
                .unwrap_or_default(),
            f = crate::command::quote_path(&self.path(FILE))
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
        let written = h.write(&self.path(FILE), &text, &FileOpts::default()).await;
        let outcome = match written {
            Ok(_) => self.run_preflight(c, &pre).await,
            Err(e) => Err(e),
        };
        if let (Ok(Ok(())), Some(r)) = (&outcome, &c.inner.routed) {
            // Proven, behind the proxy: it stays to take the traffic during the cutover, which
            // retires it (its guard still removes it if this run is lost).
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
                    let _ = crate::services::shielded_async(g.fire(
                        h,
                        format!(
                            "remove the pre-flight project {} (the host's guard)",
                            project(&self.inner.app)
                        ),
                    ))
                    .await;
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
                    "its pre-flight beside the live release failed: service {}: {}",
                    failure.service, failure.reason
                );
                if !c.inner.back {
                    crate::services::shielded_async(async {
                        let next = c.inner.before.failed(rec, &why, &now());
                        self.inner.store.save(&next).await
                    })
                    .await?;
                }
                Err(Error::failed(format!(
                    "{}: the new release of service {} ({}) failed its pre-flight check beside the live release, which keeps serving untouched: {}{}",
                    h.name(),
                    failure.service,
                    rec.image,
                    failure.reason,
                    failure.details()
                ))
                .host(h.name()))
            }
            Err(e) => {
                c.set_stage(Stage::Failed);
                if !c.inner.back && !e.is_cancelled() {
                    let why = format!(
                        "its pre-flight beside the live release failed: {}",
                        e.message
                    );
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

    /// Start the pre-flight project and check it: Ok(Err(failure)) when it does not pass.
    async fn run_preflight(
        &self,
        c: &Candidate,
        pre: &Project,
    ) -> Result<std::result::Result<(), Failure>> {
        let h = &self.inner.host;
        let rec = c.record();
        let effects = h.services().effects();
        let up = pre
            .up(&UpOptions {
                force_recreate: true,
                pull: Some(crate::compose::project::PullPolicy::Named("never".into())),
                ..UpOptions::default()
            })
            .await;
        if let Err(e) = up {
            if e.is_cancelled() {
                return Err(e);
            }
            let first = c.inner.pinned_services.first().cloned().unwrap_or_default();
            let logs = check::logs_tail(&self.inner.docker, pre.name(), &service(&first), 15).await;
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
        let expected: Vec<String> = c.inner.pinned_services.iter().map(|s| service(s)).collect();
        let one_shots: Vec<String> = check::one_shots(&c.inner.config)
            .iter()
            .map(|s| service(s))
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
            f.service = f.service.trim_end_matches("-preflight").to_string();
            return Ok(Err(f));
        }
        if let Some(r) = &c.inner.routed {
            let mut f = self
                .http_check_routed(pre.name(), &service(&r.service), r)
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
        let Some(container) = seen.iter().find(|x| x.service == service(&svc)) else {
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
                f.logs = check::logs_tail(&self.inner.docker, pre.name(), &service(&svc), 15).await;
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
        let text = file("app", &config, &["web".into()], &nets);
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
}
