//! Images: tag, push, pull, list, remove. Push and pull use the credentials of the engine's
//! host (see credentials.rs) and report progress per layer.

use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptionsBuilder, PushImageOptionsBuilder,
    RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use futures_util::StreamExt;
use serde::Serialize;

use super::client::{Docker, status_of};
use super::credentials;
use super::progress::Progress;
use super::reference::ImageRef;
use crate::error::{Error, Result};

/// One row of `d.images()`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    /// Short id (12 hex digits), as `docker images` shows it.
    pub id: String,
    pub tags: Vec<String>,
    pub size_mb: f64,
    /// Unix seconds.
    pub created: i64,
}

impl Docker {
    /// Give the image `src` (name or id) another name `dst`.
    pub async fn tag(&self, src: &str, dst: &str) -> Result<()> {
        self.audited("tag", format!("tag {src} {dst}"), |w| async move {
            let r = ImageRef::parse(dst);
            let opts = TagImageOptionsBuilder::default()
                .repo(&r.name)
                .tag(r.tag_or_latest())
                .build();
            w.tag_image(src, Some(opts))
                .await
                .map_err(|e| self.fail(format!("cannot tag {src} as {dst}"), e))
        })
        .await
    }

    /// Push an image to its registry, with the engine host's credentials for it.
    pub async fn push(&self, reference: &str) -> Result<()> {
        self.audited("push", format!("push {reference}"), |w| async move {
            let r = ImageRef::parse(reference);
            let auth = credentials::lookup(self.host(), &r.credentials_key()).await?;
            let opts = PushImageOptionsBuilder::default()
                .tag(r.tag_or_latest())
                .build();
            let what = format!("push {reference}");
            let progress = Progress::start(self.services(), self.host_name(), what.clone());
            let mut stream = w.push_image(&r.name, Some(opts), auth);
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        let d = info.progress_detail.unwrap_or_default();
                        progress.update(
                            "",
                            info.status.as_deref().unwrap_or_default(),
                            d.current,
                            d.total,
                        );
                    }
                    Err(e) => {
                        let mut err = self.fail(&what, e);
                        if err.message.contains("no basic auth credentials")
                            || err.message.contains("unauthorized")
                            || err.message.contains("authentication required")
                        {
                            err = err.hint(format!(
                            "log in to {} on {} first: registry(...).login() or d.login(registry)",
                            r.credentials_key(),
                            self.host_name()
                        ));
                        } else if err.message.contains("does not exist") {
                            err = err.hint("build or tag the image under this name first");
                        }
                        return Err(err);
                    }
                }
            }
            progress.done();
            Ok(())
        })
        .await
    }

    /// Pull an image from its registry, with the engine host's credentials for it.
    pub async fn pull(&self, reference: &str) -> Result<()> {
        self.audited("pull", format!("pull {reference}"), |w| async move {
            let r = ImageRef::parse(reference);
            let auth = credentials::lookup(self.host(), &r.credentials_key()).await?;
            let mut b = CreateImageOptionsBuilder::default().from_image(&r.name);
            b = match &r.digest {
                Some(d) => b.tag(d),
                None => b.tag(r.tag_or_latest()),
            };
            let what = format!("pull {reference}");
            let progress = Progress::start(self.services(), self.host_name(), what.clone());
            let mut stream = w.create_image(Some(b.build()), None, auth);
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        let d = info.progress_detail.unwrap_or_default();
                        progress.update(
                            &info.id.unwrap_or_default(),
                            info.status.as_deref().unwrap_or_default(),
                            d.current,
                            d.total,
                        );
                    }
                    Err(e) => {
                        let mut err = self.fail(&what, e);
                        if err.message.contains("unauthorized")
                            || err.message.contains("no basic auth credentials")
                        {
                            err = err.hint(format!(
                                "log in to {} on {} first: d.login(registry)",
                                r.credentials_key(),
                                self.host_name()
                            ));
                        }
                        return Err(err);
                    }
                }
            }
            progress.done();
            Ok(())
        })
        .await
    }

    /// The images the engine has.
    pub async fn images(&self) -> Result<Vec<ImageInfo>> {
        let list = self
            .api()
            .list_images(Some(ListImagesOptionsBuilder::default().build()))
            .await
            .map_err(|e| self.fail("cannot list images", e))?;
        Ok(list
            .into_iter()
            .map(|i| ImageInfo {
                id: short_id(&i.id),
                tags: i
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                size_mb: (i.size as f64 / 1e6 * 10.0).round() / 10.0,
                created: i.created,
            })
            .collect())
    }

    /// Remove an image (name or id).
    pub async fn rmi(&self, reference: &str, force: bool) -> Result<()> {
        self.audited("rmi", format!("rmi {reference}"), |w| async move {
            let opts = RemoveImageOptionsBuilder::default().force(force).build();
            w.remove_image(reference, Some(opts), None)
                .await
                .map(|_| ())
                .map_err(|e| self.fail(format!("cannot remove image {reference}"), e))
        })
        .await
    }

    /// The full id (`sha256:…`) of an image; a clear error when there is no such image.
    pub async fn image_id(&self, reference: &str) -> Result<String> {
        match self.api().inspect_image(reference).await {
            Ok(i) => Ok(i.id.unwrap_or_default()),
            Err(e) if status_of(&e) == Some(404) => Err(Error::failed(format!(
                "no image {reference} on {}",
                self.host_name()
            ))
            .host(self.host_name())
            .hint("build it (d.build) or pull it (d.pull) first")),
            Err(e) => Err(self.fail(format!("cannot inspect image {reference}"), e)),
        }
    }

    /// Does the engine have this image?
    pub async fn image_exists(&self, reference: &str) -> Result<bool> {
        match self.api().inspect_image(reference).await {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(self.fail(format!("cannot inspect image {reference}"), e)),
        }
    }
}

/// `sha256:0123456789ab…` -> `0123456789ab`.
pub fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

/// `d.rmi(image, #{force})`, `d.remove_volume(name, #{force})`: remove even what is in use.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceOpts {
    #[serde(default)]
    pub force: bool,
}
