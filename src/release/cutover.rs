//! The cutover: a proven release put in place of the live one. Before the first change, a
//! host-side guard is armed whose undo puts the live release back exactly (its kept files,
//! hoist's override as it was, the records, its containers). Then the release's files, pin
//! and records go in place and compose recreates what changed; the release must pass its
//! checks. Any failure — a check, an error, Ctrl-C — fires the guard, so the undo runs on the
//! host and finishes even if hoist is stopped again or lost; success disarms it. A controller
//! that dies or is cut off mid-way leaves the guard to undo on its own.

use std::time::Duration;

use indexmap::IndexMap;

use super::check::{self, Failure, Http};
use super::engine::{Candidate, Release, Stage, now};
use super::guard::{self, Disarmed, Guard};
use super::history::History;
use super::layout;
use super::record::Record;
use super::routed::KeptPreflight;
use super::undo::{Containers, KeptFile, Restore};
use crate::compose::{Project, UpOptions};
use crate::error::{Error, Result};
use crate::host::FileOpts;
use crate::report::Level;

/// What a cutover did, for the recipe's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Switched {
    pub release: String,
    pub image: String,
    pub pinned: String,
    /// The release it replaced ("" for a first release).
    pub previous: String,
}

const ENV_MODE: u32 = 0o600;
const COMPOSE_MODE: u32 = 0o644;

impl Release {
    /// Put `c` live (see the module doc). It must have passed its pre-flight when a release
    /// was live — the typed stage says so, a recipe cannot skip it.
    pub async fn cutover(&self, c: &Candidate) -> Result<Switched> {
        let h = &self.inner.host;
        let rec = c.record().clone();
        match c.stage() {
            Stage::Proven => {}
            Stage::Prepared if c.previous().is_none() => {}
            other => {
                return Err(Error::usage(format!(
                    "{}: release {} cannot go live from {other:?}: it must pass its pre-flight first (r.preflight)",
                    h.name(),
                    rec.id
                )));
            }
        }
        // Behind the proxy: the proven pre-flight takes the traffic before the app's own
        // project is touched; the live container drains (routing.rs).
        let kept = self.take_preflight(c);
        if let Some(k) = &kept {
            match self.route_to(&k.upstream).await {
                Ok(Some(old)) => self.drain(&old).await,
                Ok(None) => {}
                Err(e) => {
                    c.set_stage(Stage::Failed);
                    self.retire(k).await;
                    return Err(e);
                }
            }
        }
        // The live release keeps its files from now on, so going back restores them exactly.
        let (before, live) = self.keep_live_files(c).await?;
        if !c.inner.back {
            self.inner.store.keep(&c.inner.files).await?;
        }
        let next = if c.inner.back {
            before.rolled_to(&rec.id, &crate::local_user::current_user(), "", &now())
        } else {
            before.switched(&rec, &now())
        };
        let restore = self.restore_of(c, &before, live.as_ref()).await?;
        let back_to = describe(live.as_ref());
        let what = format!("the cutover to {} on {}", rec.id, h.name());
        let g = Guard::arm(
            h,
            guard::DIR,
            &self.cutover_guard_name(),
            &what,
            &restore.script(),
            Some(self.deadline()),
            format!(
                "arm the host's guard of {what}: if it fails, or this run is stopped or lost before {} is proven, the host puts {back_to} back",
                rec.id
            ),
        )
        .await?;
        let outcome = self.switch(c, &next).await;
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(f)) => Some(
                Error::failed(format!(
                    "{}: {} ({}) failed its check after the cutover: service {}: {}{}",
                    h.name(),
                    rec.id,
                    rec.image,
                    f.service,
                    f.reason,
                    f.details()
                ))
                .host(h.name()),
            ),
            Err(e) => Some(e),
        };
        if let Some(e) = failure {
            c.set_stage(Stage::Failed);
            self.undo(c, &g, &before, live.as_ref(), &e).await;
            self.route_back(c, live.as_ref(), kept.as_ref()).await;
            return Err(e);
        }
        match g
            .disarm(
                h,
                format!("disarm the host's guard of {what}: {} stands", rec.id),
            )
            .await?
        {
            Disarmed::Fired(f) => {
                c.set_stage(Stage::Failed);
                self.route_back(c, live.as_ref(), kept.as_ref()).await;
                return Err(guard::fired_error(h, &what, &f, &back_to));
            }
            Disarmed::Disarmed | Disarmed::Planned => {}
        }
        c.set_stage(Stage::Live);
        // Behind the proxy: the route goes to the app's own container, proven above; then
        // the pre-flight drains and goes.
        if let Some(r) = &c.inner.routed {
            self.route_to_app(r).await?;
            if let Some(k) = &kept {
                self.retire(k).await;
            }
        }
        let kept = self.inner.store.load().await?;
        self.inner
            .store
            .prune(&kept, self.inner.opts.keep_releases)
            .await?;
        Ok(Switched {
            release: rec.id.clone(),
            image: rec.image.clone(),
            pinned: rec.pinned.clone(),
            previous: live.map(|l| l.id).unwrap_or_default(),
        })
    }

    /// The name of this run's cutover guard of the app (the pre-flight's guard waits for it).
    pub(super) fn cutover_guard_name(&self) -> String {
        format!("{}-cutover-{}", super::lock::run_id(), self.inner.app)
    }

    /// How long the host waits for a cutover to be confirmed before it undoes it on its own
    /// (a network cut leaves hoist's session open on the host): every check's time, twice,
    /// and a margin for compose.
    pub(super) fn deadline(&self) -> Duration {
        let checks = self.inner.opts.services.len().max(1) as u64;
        Duration::from_secs(self.inner.opts.timeout * 2 * checks + 180)
    }

    /// The records before the cutover, with the live release's files kept (a release an older
    /// hoist made, or a project found set up by hand, kept none: its files are the ones on the
    /// host now). Returns them and the live record.
    async fn keep_live_files(&self, c: &Candidate) -> Result<(History, Option<Record>)> {
        let mut before = c.inner.before.clone();
        let Some(idx) = before
            .records
            .iter()
            .rposition(|r| r.outcome == super::record::Outcome::Live)
        else {
            return Ok((before, None));
        };
        let live = &before.records[idx];
        if self.inner.store.has_files_of(live).await? {
            let l = live.clone();
            return Ok((before, Some(l)));
        }
        let Some(name) = self.compose_file_on_host().await? else {
            let l = live.clone();
            return Ok((before, Some(l)));
        };
        let files = self.files_on_host(&name, &live.env_files).await?;
        let shas = self.inner.store.keep(&files).await?;
        let l = &mut before.records[idx];
        l.files = shas;
        l.compose_file = Some(name);
        let l = l.clone();
        Ok((before, Some(l)))
    }

    /// The undo of `c`'s cutover: back to `live` exactly, or, with none, the attempt's
    /// containers and files gone.
    async fn restore_of(
        &self,
        c: &Candidate,
        before: &History,
        live: Option<&Record>,
    ) -> Result<Restore> {
        let attempt = (!c.inner.back).then(|| c.record().clone());
        let port = self.inner.opts.health_port;
        let unless_finished = Some(super::undo::Finished {
            release: c.record().id.clone(),
            project: self.inner.app.clone(),
            services: c.inner.config.services.keys().cloned().collect(),
            pinned_services: c.inner.pinned_services.clone(),
            image: c.record().pinned.clone(),
            http: (port > 0)
                .then(|| format!("http://127.0.0.1:{port}{}", self.inner.opts.health_path)),
        });
        let asked = before.undone(
            attempt.as_ref(),
            "undone: it failed its checks, or the run was stopped, while it replaced the live release",
            &now(),
        );
        let lost = before.undone(
            attempt.as_ref(),
            "undone by the host: the run that made it was lost (or never confirmed it) while it replaced the live release",
            &now(),
        );
        let text = |h: &History| Record::to_text(&h.records);
        let ours: Vec<String> = c.inner.files.iter().map(|(n, _)| n.clone()).collect();
        let Some(live) = live else {
            // A first release: nothing to go back to but nothing.
            return Ok(Restore {
                dir: self.inner.dir.clone(),
                headline: format!(
                    "{} did not go live; removing its containers (there was no release before)",
                    c.record().id
                ),
                files: Vec::new(),
                remove: ours,
                pin: None,
                records_asked: text(&asked),
                records_lost: text(&lost),
                containers: Containers::Remove {
                    project: self.inner.app.clone(),
                },
                unless_finished,
            });
        };
        let files: Vec<KeptFile> = live
            .files
            .iter()
            .map(|(name, sha)| KeptFile {
                name: name.clone(),
                sha: sha.clone(),
                mode: if live.compose_file.as_deref() == Some(name) {
                    COMPOSE_MODE
                } else {
                    ENV_MODE
                },
            })
            .collect();
        let remove = ours
            .into_iter()
            .filter(|n| !live.files.contains_key(n))
            .collect();
        // hoist's override exactly as the live release has it now.
        let pin = self
            .inner
            .host
            .read_bytes_if_present(&self.path(layout::PIN_FILE), false)
            .await?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let p = self.project(&live.env_files, &live.profiles, IndexMap::new(), Vec::new())?;
        let tool = p.tool().await?;
        let mut services: Vec<String> = self.pinned_of(live).await?;
        for s in &c.inner.pinned_services {
            if !services.contains(s) {
                services.push(s.clone());
            }
        }
        let mut stop = vec!["stop".to_string()];
        stop.extend(services.iter().cloned());
        let stop = p.compose_command(tool, &stop).await?.render();
        let up = p
            .compose_command(
                tool,
                &[
                    "up".into(),
                    "--detach".into(),
                    "--no-build".into(),
                    "--remove-orphans".into(),
                ],
            )
            .await?
            .render();
        Ok(Restore {
            dir: self.inner.dir.clone(),
            headline: format!("putting {} ({}) back", live.id, live.image),
            files: if live.keeps_files() {
                files
            } else {
                Vec::new()
            },
            remove: if live.keeps_files() {
                remove
            } else {
                Vec::new()
            },
            pin,
            records_asked: text(&asked),
            records_lost: text(&lost),
            containers: Containers::Restart {
                project: self.inner.app.clone(),
                services,
                image: live.pinned.clone(),
                stop,
                up,
            },
            unless_finished,
        })
    }

    /// The services the live release runs its image in (from the files on the host now).
    async fn pinned_of(&self, live: &Record) -> Result<Vec<String>> {
        let config = self
            .project(
                &live.env_files,
                &live.profiles,
                IndexMap::from([(layout::PIN_FILE.to_string(), None)]),
                vec![(
                    "IMAGE".to_string(),
                    crate::command::Value::Plain(live.image.clone()),
                )],
            )?
            .config()
            .await?;
        Ok(layout::pinned_services(&config, &live.image))
    }

    /// Put `c` in place and check it: its files, pin and records, then compose recreates what
    /// changed (service by service when an order is given), each checked.
    async fn switch(
        &self,
        c: &Candidate,
        next: &History,
    ) -> Result<std::result::Result<(), Failure>> {
        let h = &self.inner.host;
        let rec = c.record();
        for (name, bytes) in &c.inner.files {
            let mode = if rec.compose_file.as_deref() == Some(name.as_str()) {
                None
            } else {
                Some(ENV_MODE)
            };
            h.write_bytes(
                &self.path(name),
                bytes,
                &FileOpts {
                    mode,
                    ..FileOpts::default()
                },
            )
            .await?;
        }
        // Env files of the live release this one does not use.
        if let Some(live) = c.previous()
            && live.keeps_files()
            && !c.inner.files.is_empty()
        {
            for name in live.files.keys() {
                if !c.inner.files.iter().any(|(n, _)| n == name) {
                    h.remove(&self.path(name), false).await?;
                }
            }
        }
        h.write(
            &self.path(layout::PIN_FILE),
            &c.inner.pin,
            &FileOpts::default(),
        )
        .await?;
        self.inner.store.save(next).await?;
        let p = self.project(&rec.env_files, &rec.profiles, IndexMap::new(), Vec::new())?;
        let groups: Vec<Vec<String>> = if self.inner.opts.services.is_empty() {
            vec![Vec::new()]
        } else {
            self.inner
                .opts
                .services
                .iter()
                .map(|s| vec![s.clone()])
                .collect()
        };
        for services in groups {
            let what = if services.is_empty() {
                "all services".to_string()
            } else {
                services.join(", ")
            };
            let _step = (!services.is_empty())
                .then(|| crate::step::enter(&format!("Recreate {what} on {}", h.name())));
            if let Err(f) = self.up_and_check(c, &p, &services).await? {
                return Ok(Err(f));
            }
        }
        Ok(Ok(()))
    }

    /// `up` of `services` (all: []) and their checks.
    async fn up_and_check(
        &self,
        c: &Candidate,
        p: &Project,
        services: &[String],
    ) -> Result<std::result::Result<(), Failure>> {
        let h = &self.inner.host;
        p.up(&UpOptions {
            services: services.to_vec(),
            remove_orphans: services.is_empty(),
            ..UpOptions::default()
        })
        .await?;
        let effects = h.services().effects();
        if effects.planning() {
            effects.assume(
                h.name(),
                format!(
                    "compose project {} becomes ready ({})",
                    self.inner.app,
                    if services.is_empty() {
                        "every service".to_string()
                    } else {
                        services.join(", ")
                    }
                ),
            );
            if self.inner.opts.health_port > 0 {
                effects.assume(
                    h.name(),
                    format!(
                        "the new release answers http://127.0.0.1:{}{}",
                        self.inner.opts.health_port, self.inner.opts.health_path
                    ),
                );
            }
            return Ok(Ok(()));
        }
        let expected: Vec<String> = if services.is_empty() {
            c.inner.config.services.keys().cloned().collect()
        } else {
            services.to_vec()
        };
        let timeout = Duration::from_secs(self.inner.opts.timeout);
        let one_shots = check::one_shots(&c.inner.config);
        if let Err(f) = check::wait_ready(
            &self.inner.docker,
            &self.inner.app,
            &expected,
            &one_shots,
            timeout,
        )
        .await?
        {
            return Ok(Err(f));
        }
        self.http_check(c).await
    }

    /// After a failed cutover behind the proxy: the route goes back to the app's container
    /// (the live release, put back), then the pre-flight goes. With no release before, the
    /// route stays as it was (none, or the pre-flight's until it goes).
    async fn route_back(&self, c: &Candidate, live: Option<&Record>, kept: Option<&KeptPreflight>) {
        if let (Some(r), Some(_)) = (&c.inner.routed, live)
            && let Err(e) = self.route_to_app(r).await
        {
            self.say(
                Level::Warn,
                format!(
                    "{}: the route of {} could not go back to its container: {}",
                    self.inner.host.name(),
                    self.inner.app,
                    e.message
                ),
            );
        }
        if let Some(k) = kept {
            self.retire(k).await;
        }
    }

    /// A kept pre-flight no traffic goes to any more: drained, then removed by its guard.
    async fn retire(&self, k: &KeptPreflight) {
        self.drain(&k.upstream).await;
        self.remove_preflight(&k.guard).await;
    }

    /// The release's HTTP check on its published port (none given: passes); behind the
    /// proxy, on its routed container's address and port.
    pub(super) async fn http_check(
        &self,
        c: &Candidate,
    ) -> Result<std::result::Result<(), Failure>> {
        if let Some(r) = &c.inner.routed {
            return self.http_check_routed(&self.inner.app, &r.service, r).await;
        }
        let port = self.inner.opts.health_port;
        if port == 0 {
            return Ok(Ok(()));
        }
        let service = c
            .inner
            .pinned_services
            .iter()
            .find(|s| {
                c.inner
                    .config
                    .services
                    .get(*s)
                    .is_some_and(|svc| layout::published_target(svc, port).is_some())
            })
            .or(c.inner.pinned_services.first())
            .cloned()
            .unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}{}", self.inner.opts.health_path);
        let timeout = Duration::from_secs(self.inner.opts.timeout);
        match check::http(&self.inner.host, &Http { url }, &service, timeout).await? {
            Ok(()) => Ok(Ok(())),
            Err(mut f) => {
                f.logs = check::logs_tail(&self.inner.docker, &self.inner.app, &service, 15).await;
                Ok(Err(f))
            }
        }
    }

    /// A cutover failed (or was interrupted): the guard puts the live release back on the
    /// host; hoist waits for it (deaf to the first signal), then for the live release to be
    /// ready, and records why. A second signal stops the waiting, not the undo.
    async fn undo(
        &self,
        c: &Candidate,
        g: &Guard,
        before: &History,
        live: Option<&Record>,
        why: &Error,
    ) {
        let h = &self.inner.host;
        let rec = c.record();
        let attempt = if c.inner.back {
            format!("the rollback to {}", rec.id)
        } else {
            format!("{} ({})", rec.id, rec.image)
        };
        let back_to = describe(live);
        self.say(
            Level::Warn,
            format!(
                "{}: {attempt} did not go live; rolling back to {back_to}",
                h.name()
            ),
        );
        let fired = crate::services::shielded_async(g.fire(
            h,
            format!(
                "undo the cutover to {} on {} (the host's guard puts {back_to} back)",
                rec.id,
                h.name()
            ),
        ))
        .await;
        match fired {
            Ok(Some(f)) if f.ok() => {
                let done = crate::services::shielded_async(async {
                    // The exact reason, where the host's undo could only say it was asked.
                    if !why.is_cancelled() {
                        let reason = format!("undone: {}", first_line(&why.message));
                        let next = before.undone((!c.inner.back).then_some(rec), &reason, &now());
                        self.inner.store.save(&next).await?;
                    }
                    self.settled(live).await
                })
                .await;
                match done {
                    Ok(()) => {
                        if let Some(l) = live {
                            self.say(
                                Level::Info,
                                format!("{}: {} ({}) is live again", h.name(), l.id, l.image),
                            );
                        }
                    }
                    Err(e) => self.say(
                        Level::Warn,
                        format!("{}: after the undo, {back_to}: {}", h.name(), e.message),
                    ),
                }
            }
            Ok(Some(f)) => self.say(
                Level::Warn,
                format!(
                    "{}: the undo of {attempt} did not finish cleanly (exit code {}): {}",
                    h.name(),
                    f.code,
                    f.output
                ),
            ),
            Ok(None) => {}
            Err(e) => self.say(
                Level::Warn,
                format!(
                    "{}: undo skipped here — the host goes on putting {back_to} back on its own ({}); `hoist status --app {}` shows when it is done",
                    h.name(),
                    e.message,
                    self.inner.app
                ),
            ),
        }
    }

    /// The live release is ready again after an undo (its containers' checks).
    async fn settled(&self, live: Option<&Record>) -> Result<()> {
        let Some(l) = live else { return Ok(()) };
        let config = self
            .project(&l.env_files, &l.profiles, IndexMap::new(), Vec::new())?
            .config()
            .await?;
        let expected: Vec<String> = config.services.keys().cloned().collect();
        let timeout = Duration::from_secs(self.inner.opts.timeout);
        match check::wait_ready(
            &self.inner.docker,
            &self.inner.app,
            &expected,
            &check::one_shots(&config),
            timeout,
        )
        .await?
        {
            Ok(()) => Ok(()),
            Err(f) => Err(Error::failed(format!(
                "it is back in place but not ready: service {}: {}",
                f.service, f.reason
            ))),
        }
    }
}

/// `r3 (reg/app:v3)`, or what a first release goes back to.
fn describe(live: Option<&Record>) -> String {
    match live {
        Some(l) => format!("{} ({})", l.id, l.image),
        None => "nothing (it was the first release)".to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
