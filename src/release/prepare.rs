//! Preparing a release, read-only: the files it will run, what pins its image on the host,
//! which services run it, its configuration and its record. Nothing changes on the host, so
//! a recipe can prepare on every host before it changes anything anywhere.

use std::sync::{Arc, Mutex};

use indexmap::IndexMap;

use super::engine::{Candidate, CandidateInner, NewFiles, Release, Stage, now};
use super::history::History;
use super::layout;
use super::record::{Outcome, PinKind, Record};
use crate::command::Value as EnvValue;
use crate::docker::ImageRef;
use crate::error::{Error, Result};
use crate::report::Level;

/// A digest-long placeholder for what a dry run cannot know yet (the digest an image will
/// have once the planned pull brings it): the plan's file sizes are the run's.
fn unknown_digest() -> String {
    format!("sha256:{}", "?".repeat(64))
}

impl Release {
    /// What pins `image` on the host once it is there: `repo@sha256:…` (its RepoDigests entry
    /// for its repository), else its image ID. `sent`: it comes over SSH (no registry).
    pub async fn resolve_pin(&self, image: &str, sent: bool) -> Result<(String, PinKind)> {
        if image.contains("@sha256:") {
            return Ok((image.to_string(), PinKind::Digest));
        }
        if image.starts_with("sha256:") {
            return Ok((image.to_string(), PinKind::ImageId));
        }
        let h = &self.inner.host;
        let repo = ImageRef::parse(image).repository();
        match self.inner.docker.api().inspect_image(image).await {
            Ok(i) => {
                let digest = i
                    .repo_digests
                    .unwrap_or_default()
                    .into_iter()
                    .find(|d| ImageRef::parse(d).repository() == repo);
                Ok(match digest {
                    Some(d) => (d, PinKind::Digest),
                    None => (i.id.unwrap_or_default(), PinKind::ImageId),
                })
            }
            Err(_) if h.services().effects().planning() => {
                let effects = h.services().effects();
                if sent {
                    effects.assume(
                        h.name(),
                        format!("{image} is pinned by its image ID once sent (sha256:???…)"),
                    );
                    Ok((unknown_digest(), PinKind::ImageId))
                } else {
                    effects.assume(
                        h.name(),
                        format!("{image} is pinned by the digest it has on the host once pulled (@sha256:???…)"),
                    );
                    Ok((format!("{repo}@{}", unknown_digest()), PinKind::Digest))
                }
            }
            Err(e) => Err(Error::failed(format!(
                "{}: {image} is not in the host's engine: nothing to pin ({e})",
                h.name()
            ))
            .host(h.name())),
        }
    }

    /// The services of the project's compose file (as it is on the host) that run `image`'s
    /// repository — none is an error, before anything changes.
    pub async fn pinned_services(&self, image: &str) -> Result<Vec<String>> {
        let file = self.compose_file_on_host().await?.ok_or_else(|| {
            Error::failed(format!(
                "{}: no compose file in {}: nothing to release, nothing was changed",
                self.inner.host.name(),
                self.inner.dir
            ))
            .host(self.inner.host.name())
        })?;
        self.check_overrides().await?;
        let config = self
            .project(
                &self.inner.env_files,
                &self.inner.profiles,
                IndexMap::from([(layout::PIN_FILE.to_string(), None)]),
                vec![("IMAGE".into(), EnvValue::Plain(image.to_string()))],
            )?
            .config()
            .await?;
        let pinned = layout::pinned_services(&config, image);
        if pinned.is_empty() {
            return Err(self.no_service_runs(&file, image));
        }
        Ok(pinned)
    }

    fn no_service_runs(&self, file: &str, image: &str) -> Error {
        let h = &self.inner.host;
        Error::failed(format!(
            "{}: no service of {}/{file} runs {} (as ${{IMAGE}} or by name): nothing to release, nothing was changed",
            h.name(),
            self.inner.dir,
            ImageRef::parse(image).repository()
        ))
        .host(h.name())
    }

    /// A new release of `image` (on the host already: pulled or sent). `new.compose` None:
    /// the project's own files stay (an upgrade); else they are the new compose file and env
    /// files. Read-only.
    pub async fn prepare(&self, image: &str, new: NewFiles) -> Result<Candidate> {
        let h = &self.inner.host;
        self.check_overrides().await?;
        let mut before = self.history().await?;
        let on_host = self.compose_file_on_host().await?;
        // The files the release runs: compose file first, then env files.
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let (compose_file, env_files) = match &new.compose {
            Some(text) => {
                let name = on_host
                    .clone()
                    .unwrap_or_else(|| layout::NEW_COMPOSE_FILE.to_string());
                files.push((name.clone(), text.as_bytes().to_vec()));
                // In the order compose is given them (a later file wins): the release's.
                for n in &self.inner.env_files {
                    let t = new.env_files.get(n).ok_or_else(|| {
                        Error::usage(format!(
                            "r.prepare(): env file {n} of the release has no text in opts.env_files"
                        ))
                    })?;
                    files.push((n.clone(), t.as_bytes().to_vec()));
                }
                if let Some(extra) = new
                    .env_files
                    .keys()
                    .find(|n| !self.inner.env_files.contains(n))
                {
                    return Err(Error::usage(format!(
                        "r.prepare(): opts.env_files has {extra}, which the release's env_files (h.release opts) do not name"
                    )));
                }
                (name, self.inner.env_files.clone())
            }
            None => {
                let name = on_host.clone().ok_or_else(|| {
                    Error::failed(format!(
                        "{}: no compose file in {}: nothing to upgrade (deploy it first); nothing was changed",
                        h.name(),
                        self.inner.dir
                    ))
                    .host(h.name())
                })?;
                files = self.files_on_host(&name, &self.inner.env_files).await?;
                (name, self.inner.env_files.clone())
            }
        };
        let (pinned, pin) = self.resolve_pin(image, new.sent).await?;
        let mut overlay: IndexMap<String, Option<String>> = files
            .iter()
            .map(|(n, b)| (n.clone(), Some(String::from_utf8_lossy(b).into_owned())))
            .collect();
        // Which services run the image: the new files as they will be, without a pin.
        overlay.insert(layout::PIN_FILE.to_string(), None);
        let image_env = vec![("IMAGE".to_string(), EnvValue::Plain(image.to_string()))];
        let unpinned = self
            .project(
                &env_files,
                &self.inner.profiles,
                overlay.clone(),
                image_env.clone(),
            )?
            .config()
            .await?;
        let pinned_services = layout::pinned_services(&unpinned, image);
        if pinned_services.is_empty() {
            return Err(self.no_service_runs(&compose_file, image));
        }
        // A project set up by hand (nothing recorded yet) counts what its compose file runs
        // of that repository as the live release: a failure goes back to it, --rollback finds it.
        if before.is_empty()
            && on_host.is_some()
            && let Some(found) = self.found_in_place(image).await?
        {
            before = History::new(vec![found]);
        }
        let routed = self.routed(&unpinned, &pinned_services, &pinned).await?;
        let pin_file = layout::pin_text_routed(
            &pinned_services,
            &pinned,
            image,
            routed.as_ref().map(|(_, j)| j),
        );
        overlay.insert(layout::PIN_FILE.to_string(), Some(pin_file.clone()));
        let config = self
            .project(&env_files, &self.inner.profiles, overlay, image_env)?
            .config()
            .await?;
        let t = now();
        let record = Record {
            id: before.next_id(),
            image: image.to_string(),
            pinned,
            pin,
            files: files
                .iter()
                .map(|(n, b)| (n.clone(), crate::effect::diff::sha256(b)))
                .collect(),
            env_files,
            profiles: self.inner.profiles.clone(),
            params: self.with_routing(new.params),
            recipe: self.inner.opts.recipe.clone(),
            run_id: super::lock::run_id().to_string(),
            user: crate::local_user::current_user(),
            controller: super::lock::controller_name(),
            time: t.clone(),
            changed: t,
            outcome: Outcome::Live,
            note: String::new(),
            confirmed: false,
            compose_file: Some(compose_file),
            extra: Default::default(),
        };
        Ok(Candidate {
            inner: Arc::new(CandidateInner {
                record,
                back: false,
                files,
                pinned_services,
                config,
                before,
                stage: Mutex::new(Stage::Prepared),
                pin: pin_file,
                routed: routed.map(|(r, _)| r),
                kept: Mutex::new(None),
            }),
        })
    }

    /// Going back: `to` None is `--rollback` (the release before the live one), else `--to ID`.
    /// Its files come from their kept copies; a release an older hoist recorded kept none,
    /// so only its image comes back (said as a warning). Read-only.
    pub async fn prepare_back(&self, to: Option<&str>) -> Result<Candidate> {
        let h = &self.inner.host;
        self.check_overrides().await?;
        let before = self.history().await?;
        let target = before.rollback_target(to).map_err(|e| {
            Error::failed(format!("{}: {}", h.name(), e.explain(&self.inner.app))).host(h.name())
        })?;
        let mut record = target.clone();
        let files = if self.inner.store.has_files_of(&record).await? {
            let mut files = Vec::new();
            for (name, sha) in &record.files {
                let bytes = self.inner.store.kept(sha).await?.ok_or_else(|| {
                    Error::failed(format!(
                        "{}: the kept copy of {name} of {} is gone",
                        h.name(),
                        record.id
                    ))
                    .host(h.name())
                })?;
                files.push((name.clone(), bytes));
            }
            files
        } else {
            if record.keeps_files() {
                return Err(Error::failed(format!(
                    "{}: {}",
                    h.name(),
                    super::history::NoTarget::Pruned(record.id.clone()).explain(&self.inner.app)
                ))
                .host(h.name()));
            }
            self.say(
                Level::Warn,
                format!(
                    "{}: {} was recorded without its files (by an older hoist, or set up by hand): only its image {} comes back; the compose and env files stay as they are",
                    h.name(),
                    record.id,
                    record.image
                ),
            );
            record.compose_file = None;
            Vec::new()
        };
        let env_files = record.env_files.clone();
        let profiles = record.profiles.clone();
        let mut overlay: IndexMap<String, Option<String>> = files
            .iter()
            .map(|(n, b)| (n.clone(), Some(String::from_utf8_lossy(b).into_owned())))
            .collect();
        overlay.insert(layout::PIN_FILE.to_string(), None);
        let image_env = vec![("IMAGE".to_string(), EnvValue::Plain(record.image.clone()))];
        let unpinned = self
            .project(&env_files, &profiles, overlay.clone(), image_env.clone())?
            .config()
            .await?;
        let pinned_services = layout::pinned_services(&unpinned, &record.image);
        if pinned_services.is_empty() {
            let file = record
                .compose_file
                .clone()
                .or(self.compose_file_on_host().await?)
                .unwrap_or_default();
            return Err(self.no_service_runs(&file, &record.image));
        }
        let routed = self
            .routed(&unpinned, &pinned_services, &record.pinned)
            .await?;
        let pin_file = layout::pin_text_routed(
            &pinned_services,
            &record.pinned,
            &record.image,
            routed.as_ref().map(|(_, j)| j),
        );
        overlay.insert(layout::PIN_FILE.to_string(), Some(pin_file.clone()));
        let config = self
            .project(&env_files, &profiles, overlay, image_env)?
            .config()
            .await?;
        record.outcome = Outcome::Live;
        Ok(Candidate {
            inner: Arc::new(CandidateInner {
                record,
                back: true,
                files,
                pinned_services,
                config,
                before,
                stage: Mutex::new(Stage::Prepared),
                pin: pin_file,
                routed: routed.map(|(r, _)| r),
                kept: Mutex::new(None),
            }),
        })
    }

    /// The project's files as they are on the host: the compose file, then each env file
    /// (none named: `.env` when it exists).
    pub(super) async fn files_on_host(
        &self,
        compose_file: &str,
        env_files: &[String],
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let h = &self.inner.host;
        let mut out = Vec::new();
        let main = h
            .read_bytes_if_present(&self.path(compose_file), false)
            .await?
            .unwrap_or_default();
        out.push((compose_file.to_string(), main));
        let names: Vec<String> = if env_files.is_empty() {
            vec![".env".to_string()]
        } else {
            env_files.to_vec()
        };
        for n in names {
            match h.read_bytes_if_present(&self.path(&n), false).await? {
                Some(b) => out.push((n, b)),
                None if env_files.is_empty() => {}
                None => {
                    return Err(Error::failed(format!(
                        "{}: env file {} does not exist",
                        h.name(),
                        self.path(&n)
                    ))
                    .host(h.name()));
                }
            }
        }
        Ok(out)
    }

    /// A record for what a project set up by hand runs of `image`'s repository (None: no
    /// service of the compose file names that repository literally).
    async fn found_in_place(&self, image: &str) -> Result<Option<Record>> {
        let config = self
            .project(
                &self.inner.env_files,
                &self.inner.profiles,
                IndexMap::new(),
                Vec::new(),
            )?
            .config()
            .await?;
        let repo = ImageRef::parse(image).repository();
        let Some(img) = config
            .services
            .values()
            .filter_map(|s| s.image.clone())
            .find(|i| !i.is_empty() && ImageRef::parse(i).repository() == repo)
        else {
            return Ok(None);
        };
        let (pinned, pin) = if self.inner.docker.image_exists(&img).await? {
            self.resolve_pin(&img, false).await?
        } else {
            (img.clone(), PinKind::Tag)
        };
        // Its env files: the ones this release names if they are all there, else compose's
        // default (.env).
        let mut env_files = self.inner.env_files.clone();
        for n in &self.inner.env_files {
            if !self.inner.host.exists(&self.path(n)).await? {
                env_files.clear();
                break;
            }
        }
        let t = now();
        Ok(Some(Record {
            id: "r1".into(),
            image: img,
            pinned,
            pin,
            files: Default::default(),
            env_files,
            profiles: self.inner.profiles.clone(),
            params: Default::default(),
            recipe: String::new(),
            run_id: String::new(),
            user: String::new(),
            controller: String::new(),
            time: t.clone(),
            changed: t,
            outcome: Outcome::Live,
            note: "found in place: the project was set up without hoist".into(),
            confirmed: false,
            compose_file: None,
            extra: Default::default(),
        }))
    }
}
