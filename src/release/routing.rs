//! A release behind the host's front proxy (`--domain`): the app publishes no port; the proxy
//! reaches its routed service on the `hoist-proxy` network, and traffic moves only by atomic
//! upstream switches of the app's route, each to a container that passed its checks:
//!
//! 1. pre-flight: the new release starts beside the live one (project APP-preflight, on the
//!    proxy network) and passes its checks — the live release serves untouched;
//! 2. the route switches to the pre-flight container; the live one drains (requests in flight
//!    finish, up to `--drain` seconds);
//! 3. the cutover recreates the app's own project with the release (no traffic reaches it),
//!    which must pass its checks; a failure puts the old release back there (the host's
//!    guard) while the proven pre-flight container keeps serving;
//! 4. the route switches to the app's container; the pre-flight drains and goes.
//!
//! At every moment the route points at a running container that passed its checks, so a
//! release that fails anywhere never answers and no request finds nothing there. The app's
//! project stays the one compose, `status`, `logs` and rollbacks know. A first release has
//! nothing to protect: its route is set once it passed its checks.

use std::time::Duration;

use super::check::{self, Failure, Http};
use super::engine::{Candidate, Release};
use super::layout::Joins;
use super::routed::{KeptPreflight, Routed, Routing};
use crate::compose::model::{ComposeFile, Port, StringOrNumber};
use crate::error::{Error, Result};
use crate::proxy::{Route, Tls};
use crate::report::Level;

/// The first port a service declares: `expose`, else a published port's target.
fn declared_port(config: &ComposeFile, service: &str) -> Option<u16> {
    let svc = config.services.get(service)?;
    let num = |v: &StringOrNumber| match v {
        StringOrNumber::Number(n) => u16::try_from(n.as_u64()?).ok(),
        StringOrNumber::String(s) => s.split(['/', '-']).next()?.parse().ok(),
    };
    if let Some(p) = svc.expose.as_ref().and_then(|e| e.iter().find_map(num)) {
        return Some(p);
    }
    svc.ports.as_ref()?.iter().find_map(|p| match p {
        Port::Short(s) => {
            let text = match s {
                StringOrNumber::Number(n) => n.to_string(),
                StringOrNumber::String(s) => s.clone(),
            };
            let (container, _) = crate::docker::parse_port(&text).ok()?;
            container.split('/').next()?.parse().ok()
        }
        Port::Long(l) => num(&l.target),
    })
}

impl Release {
    pub fn routing(&self) -> Option<&Routing> {
        self.inner.routing.as_ref()
    }

    /// The routed service of a release (its first service running the image) and its port,
    /// with how it joins the proxy network; None without routing.
    pub(super) async fn routed(
        &self,
        unpinned: &ComposeFile,
        pinned_services: &[String],
        pinned: &str,
    ) -> Result<Option<(Routed, Joins)>> {
        let Some(r) = self.routing() else {
            return Ok(None);
        };
        let Some(service) = pinned_services.first().cloned() else {
            return Ok(None);
        };
        let svc = unpinned.services.get(&service);
        if svc.is_some_and(|s| s.ports.as_ref().is_some_and(|p| !p.is_empty())) {
            self.say(
                Level::Warn,
                format!(
                    "{}: service {service} of {} publishes ports; behind the proxy it needs none (the proxy reaches it on its network)",
                    self.inner.host.name(),
                    self.inner.app
                ),
            );
        }
        let port = if r.port > 0 {
            r.port
        } else if let Some(p) = declared_port(unpinned, &service) {
            p
        } else {
            self.image_port(pinned).await.unwrap_or(80)
        };
        let keep_default = svc.is_none_or(|s| s.networks.is_none());
        Ok(Some((
            Routed {
                service: service.clone(),
                port,
            },
            Joins {
                service,
                keep_default,
            },
        )))
    }

    /// The one port the image EXPOSEs, if it exposes exactly one.
    async fn image_port(&self, image: &str) -> Option<u16> {
        let i = self.inner.docker.api().inspect_image(image).await.ok()?;
        let v = serde_json::to_value(i.config?.exposed_ports?).ok()?;
        let keys: Vec<String> = match v {
            serde_json::Value::Object(m) => m.keys().cloned().collect(),
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        match keys.as_slice() {
            [one] => one.split('/').next()?.parse().ok(),
            _ => None,
        }
    }

    /// The running container of `service` in compose project `project`.
    pub(super) async fn container_of(&self, project: &str, service: &str) -> Result<String> {
        check::observe(&self.inner.docker, project)
            .await?
            .into_iter()
            .find(|s| s.service == service && s.state == "running")
            .map(|s| s.name)
            .ok_or_else(|| {
                Error::failed(format!(
                    "{}: no running container of service {service} in project {project}",
                    self.inner.host.name()
                ))
                .host(self.inner.host.name())
            })
    }

    /// Point the app's route at `upstream` (made when missing); returns the upstream it had.
    pub(super) async fn route_to(&self, upstream: &str) -> Result<Option<String>> {
        let r = self.routing().expect("routing");
        let old = r.proxy.route(&self.inner.app).await?;
        let route = Route::new(
            &self.inner.app,
            &r.domains,
            r.path.as_deref(),
            upstream,
            r.tls,
        )?;
        r.proxy.set_route(&route).await?;
        Ok(old.map(|o| o.upstream).filter(|u| u != upstream))
    }

    /// The route goes to the app's own container of the routed service now.
    pub(super) async fn route_to_app(&self, routed: &Routed) -> Result<Option<String>> {
        if self.inner.host.services().effects().planning() {
            let up = format!("{}-{}-1:{}", self.inner.app, routed.service, routed.port);
            return self.route_to(&up).await;
        }
        let name = self.container_of(&self.inner.app, &routed.service).await?;
        self.route_to(&format!("{name}:{}", routed.port)).await
    }

    /// Requests in flight to `upstream` finish (at most the drain time).
    pub(super) async fn drain(&self, upstream: &str) {
        let r = self.routing().expect("routing");
        match r.proxy.drain(upstream, r.drain).await {
            Ok(d) if d >= r.drain => self.say(
                Level::Warn,
                format!(
                    "{}: {upstream} still had requests in flight after the drain time ({} s)",
                    self.inner.host.name(),
                    r.drain.as_secs()
                ),
            ),
            Ok(_) => {}
            Err(e) => self.say(
                Level::Warn,
                format!(
                    "{}: could not follow the requests in flight to {upstream}: {}",
                    self.inner.host.name(),
                    e.message
                ),
            ),
        }
    }

    /// Shell text putting the app's route back to `upstream` in place, for the undo of a kept
    /// pre-flight's guard when the run is lost while the pre-flight serves: first this run's
    /// cutover settles on the host (its own guard finishes or undoes it), then `upstream`
    /// answers the HTTP check from the proxy's container (at most the check's timeout), and
    /// only then does the route leave the pre-flight. A missing route is no error there.
    pub(super) fn route_back_script(&self, upstream: &str) -> String {
        let body = serde_json::to_string(upstream).expect("json");
        let cutover = crate::command::quote_path(&super::guard::prefix_of(
            super::guard::DIR,
            &self.cutover_guard_name(),
        ));
        let ticks = self.deadline().as_secs() * 4;
        let checks = self.inner.opts.timeout * 2;
        let mut s = format!(
            "i=0; while [ -e {cutover}.sh ] && [ ! -e {cutover}.done ] && [ $i -lt {ticks} ]; do sleep 0.25 2>/dev/null || sleep 1; i=$((i + 1)); done
             i=0; until docker exec {c} wget -q -O /dev/null {url} 2>/dev/null || [ $i -ge {checks} ]; do sleep 0.5 2>/dev/null || sleep 1; i=$((i + 1)); done
",
            c = crate::proxy::CONTAINER,
            url = crate::command::quote(&format!(
                "http://{upstream}{}",
                self.inner.opts.health_path
            )),
        );
        for https in [false, true] {
            s.push_str(&format!(
                "printf '%s' {b} | docker exec -i {c} wget -q -O /dev/null --header 'Content-Type: application/json' --post-file /dev/stdin {u} 2>/dev/null || true\n",
                b = crate::command::quote(&body),
                c = crate::proxy::CONTAINER,
                u = crate::command::quote(&format!(
                    "http://127.0.0.1:2019{}",
                    crate::proxy::caddy::dial_path(&self.inner.app, https)
                )),
            ));
        }
        s
    }

    /// The HTTP check of a routed release: health_path on its container's address and port.
    pub(super) async fn http_check_routed(
        &self,
        project: &str,
        service_in_project: &str,
        routed: &Routed,
    ) -> Result<std::result::Result<(), Failure>> {
        let seen = check::observe(&self.inner.docker, project).await?;
        let Some(container) = seen
            .iter()
            .find(|x| x.service == service_in_project && x.state == "running")
        else {
            return Ok(Err(Failure {
                service: routed.service.clone(),
                reason: "its container is not running".into(),
                probe: String::new(),
                logs: check::logs_tail(&self.inner.docker, project, service_in_project, 15).await,
            }));
        };
        let ip = self
            .inner
            .docker
            .ip(&container.name, Some(crate::proxy::NETWORK))
            .await?;
        let url = format!("http://{ip}:{}{}", routed.port, self.inner.opts.health_path);
        let timeout = Duration::from_secs(self.inner.opts.timeout);
        match check::http(&self.inner.host, &Http { url }, &routed.service, timeout).await? {
            Ok(()) => Ok(Ok(())),
            Err(mut f) => {
                f.logs =
                    check::logs_tail(&self.inner.docker, project, service_in_project, 15).await;
                Ok(Err(f))
            }
        }
    }

    /// A record's params with the routing it ran behind (domain, path, tls).
    pub(super) fn with_routing(
        &self,
        mut params: serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Map<String, serde_json::Value> {
        if let Some(r) = self.routing() {
            params.insert("domain".into(), r.domains.join(",").into());
            params.insert("path".into(), r.path.clone().unwrap_or_default().into());
            params.insert(
                "tls".into(),
                match r.tls {
                    Tls::Auto => "auto",
                    Tls::Internal => "internal",
                }
                .into(),
            );
        }
        params
    }

    /// The candidate's kept pre-flight, taken (once).
    pub(super) fn take_preflight(&self, c: &Candidate) -> Option<KeptPreflight> {
        c.inner.kept.lock().expect("kept lock").take()
    }
}
