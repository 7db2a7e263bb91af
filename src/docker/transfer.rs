//! `docker().send(image, h)`: move an image from one engine to another without a registry
//! (Kamal's most asked-for mode), through the target's forwarded socket — hoist's SSH
//! connection. Only the layers the target lacks travel: the image is saved to a private temp
//! file, its `manifest.json` read, and the tar given to the target's `load` without the layer
//! files whose chain the target already has (the engine's loader takes a layer it has by its
//! chain ID and never opens that file).

use std::collections::HashSet;
use std::io::{Read, Seek};

use bollard::query_parameters::{ImportImageOptions, ListImagesOptions};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::Digest;

use super::client::Docker;
use super::progress::Progress;
use crate::error::{Error, Result};

/// What a send moved.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sent {
    /// Layers written to the target.
    pub layers_sent: usize,
    /// Layers the target had already (by chain ID), not sent.
    pub layers_skipped: usize,
    /// Bytes of the tar the target loaded.
    pub bytes: u64,
    /// The target had the image already: nothing was sent.
    pub up_to_date: bool,
}

/// Chain IDs of a layer stack (diff IDs, base first), as the engine names stacked layers.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for (i, d) in diff_ids.iter().enumerate() {
        let id = if i == 0 {
            d.clone()
        } else {
            let h = sha2::Sha256::digest(format!("{} {d}", out[i - 1]).as_bytes());
            format!("sha256:{}", hex::encode(h))
        };
        out.push(id);
    }
    out
}

impl Docker {
    /// The image's id and layer diff IDs, or None when this engine does not have it.
    async fn layers_of(&self, image: &str) -> Result<Option<(String, Vec<String>)>> {
        match self.api().inspect_image(image).await {
            Ok(i) => Ok(Some((
                i.id.unwrap_or_default(),
                i.root_fs.and_then(|r| r.layers).unwrap_or_default(),
            ))),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.fail(format!("inspect image {image}"), e)),
        }
    }

    /// Every layer chain this engine holds (from all its images).
    async fn chains(&self) -> Result<HashSet<String>> {
        let list = self
            .api()
            .list_images(Some(ListImagesOptions {
                all: false,
                ..Default::default()
            }))
            .await
            .map_err(|e| self.fail("list images", e))?;
        let mut have = HashSet::new();
        for img in list {
            if let Some((_, layers)) = self.layers_of(&img.id).await? {
                have.extend(chain_ids(&layers));
            }
        }
        Ok(have)
    }

    /// Send `image` from this engine to `to`'s, only the layers it lacks.
    pub async fn send(&self, image: &str, to: &Docker) -> Result<Sent> {
        let Some((id, layers)) = self.layers_of(image).await? else {
            // A dry run plans the build before it: the image it would send is not there yet.
            if to.services().effects().planning() {
                let detail = format!(
                    "send {image} from {} (an image this run builds or pulls first)",
                    self.host_name()
                );
                let _ = to.perform("send", detail, |_| async { Ok(0u64) }).await?;
                return Ok(Sent::default());
            }
            return Err(Error::usage(format!(
                "{image} is not an image of {}'s engine: build or pull it there first",
                self.host_name()
            )));
        };
        if let Some((there, _)) = to.layers_of(image).await?
            && there == id
        {
            return Ok(Sent {
                up_to_date: true,
                layers_skipped: layers.len(),
                ..Default::default()
            });
        }
        let have = to.chains().await?;
        let chains = chain_ids(&layers);
        let skip: Vec<bool> = chains.iter().map(|c| have.contains(c)).collect();
        let sending = skip.iter().filter(|s| !**s).count();
        let detail = format!(
            "send {image} from {} ({sending} of {} layers; the others are there)",
            self.host_name(),
            layers.len()
        );
        let done = to
            .perform("send", detail, |w| self.send_layers(w, image, to, &skip))
            .await?;
        let crate::effect::Performed::Done(bytes) = done else {
            return Ok(Sent {
                layers_sent: sending,
                layers_skipped: layers.len() - sending,
                ..Default::default()
            });
        };
        Ok(Sent {
            layers_sent: sending,
            layers_skipped: layers.len() - sending,
            bytes,
            up_to_date: false,
        })
    }

    /// Save to a private temp file, then load the tar into `to` without the skipped layers.
    async fn send_layers(
        &self,
        w: crate::docker::Writes,
        image: &str,
        to: &Docker,
        skip: &[bool],
    ) -> Result<u64> {
        let progress = Progress::start(to.services(), to.host_name(), format!("send {image}"));
        let dir = tempfile::Builder::new().prefix("hoist-send-").tempdir()?;
        let saved = dir.path().join("image.tar");
        {
            use tokio::io::AsyncWriteExt;
            let mut f = tokio::fs::File::create(&saved).await?;
            let mut stream = self.api().export_image(image);
            let mut n: i64 = 0;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.fail(format!("save {image}"), e))?;
                n += chunk.len() as i64;
                f.write_all(&chunk).await?;
                progress.update("save", "saving", Some(n), None);
            }
            f.flush().await?;
        }
        // Which files of the tar are layers the target has (manifest.json names them in
        // the image's layer order).
        let saved2 = saved.clone();
        let skip = skip.to_vec();
        let skipped: HashSet<String> = tokio::task::spawn_blocking(move || {
            let manifest = read_entry(&saved2, "manifest.json")?;
            let m: serde_json::Value = serde_json::from_slice(&manifest)
                .map_err(|e| Error::failed(format!("the saved image's manifest.json: {e}")))?;
            let files: Vec<String> = m[0]["Layers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Ok::<_, Error>(
                files
                    .into_iter()
                    .zip(skip.iter().copied().chain(std::iter::repeat(false)))
                    .filter(|(_, s)| *s)
                    .map(|(f, _)| f)
                    .collect(),
            )
        })
        .await
        .map_err(|e| Error::failed(format!("reading the saved image: {e}")))??;
        // The filtered tar, written by a blocking thread into a channel the upload reads.
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(8);
        let writer = tokio::task::spawn_blocking(move || filter_tar(&saved, &skipped, tx));
        let body = tokio_stream_from(rx);
        let mut load = w.import_image_stream(
            ImportImageOptions {
                quiet: true,
                ..Default::default()
            },
            body,
            None,
        );
        while let Some(r) = load.next().await {
            let info = r.map_err(|e| to.fail(format!("load {image}"), e))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(
                    Error::failed(format!("load {image} on {}: {err}", to.host_name()))
                        .host(to.host_name()),
                );
            }
        }
        let bytes = writer
            .await
            .map_err(|e| Error::failed(format!("sending {image}: {e}")))??;
        progress.update("load", "loaded", Some(bytes as i64), Some(bytes as i64));
        progress.done();
        drop(dir);
        Ok(bytes)
    }
}

/// The bytes of one entry of a tar file.
fn read_entry(tar_path: &std::path::Path, name: &str) -> Result<Vec<u8>> {
    let mut a = tar::Archive::new(std::fs::File::open(tar_path)?);
    for e in a.entries()? {
        let mut e = e?;
        if e.path()?.to_string_lossy() == name {
            let mut v = Vec::new();
            e.read_to_end(&mut v)?;
            return Ok(v);
        }
    }
    Err(Error::failed(format!(
        "the saved image has no {name} (an engine too old to save in this format?)"
    )))
}

/// Copy the tar at `src` into `tx` without the entries named in `skip`; the bytes sent.
fn filter_tar(
    src: &std::path::Path,
    skip: &HashSet<String>,
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
) -> Result<u64> {
    struct ChannelWriter {
        tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
        sent: u64,
    }
    impl std::io::Write for ChannelWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.tx
                .blocking_send(Ok(bytes::Bytes::copy_from_slice(buf)))
                .map_err(|_| std::io::Error::other("the target stopped reading"))?;
            self.sent += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut file = std::fs::File::open(src)?;
    file.rewind()?;
    let mut a = tar::Archive::new(file);
    let w = std::io::BufWriter::with_capacity(1 << 20, ChannelWriter { tx, sent: 0 });
    let mut out = tar::Builder::new(w);
    for e in a.entries()? {
        let mut e = e?;
        let path = e.path()?.to_string_lossy().into_owned();
        if skip.contains(&path) {
            continue;
        }
        let mut header = e.header().clone();
        out.append_data(&mut header, &path, &mut e)?;
    }
    let w = out.into_inner()?;
    let w = w
        .into_inner()
        .map_err(|e| Error::failed(format!("sending the image: {}", e.error())))?;
    Ok(w.sent)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_stack_like_the_engine_s() {
        let c = chain_ids(&["sha256:a".into(), "sha256:b".into()]);
        assert_eq!(c[0], "sha256:a");
        let want = hex::encode(sha2::Sha256::digest(b"sha256:a sha256:b"));
        assert_eq!(c[1], format!("sha256:{want}"));
    }
}
