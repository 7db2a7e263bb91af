//! `d.build(dir, opts)`: send a local directory as the build context, stream the steps as
//! progress, and on failure say which step failed and what the engine said.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;
use serde::Deserialize;

use super::client::Docker;
use super::credentials;
use super::progress::Progress;
use super::reference::ImageRef;
use crate::error::{Error, Result};

/// Options of `d.build`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOpts {
    /// One tag (`app:blue`).
    #[serde(default)]
    pub tag: Option<String>,
    /// Several tags (`["app:blue", "app:1a2b3c"]`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The Dockerfile, relative to the context directory (default `Dockerfile`).
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The stage of a multi-stage Dockerfile to stop at.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub no_cache: bool,
    /// Always try to pull newer base images.
    #[serde(default)]
    pub pull: bool,
}

/// How many trailing output lines of a failed build the error keeps.
const KEEP_LINES: usize = 20;

impl Docker {
    /// Build an image from `dir`; returns the image id (`sha256:…`).
    pub async fn build(&self, dir: &Path, opts: &BuildOpts) -> Result<String> {
        self.audited(
            "build",
            format!("build {}", dir.display()),
            |w| async move {
                let dockerfile = opts.dockerfile.as_deref().unwrap_or("Dockerfile");
                let tags: Vec<String> = opts.tag.iter().chain(&opts.tags).cloned().collect();
                let what = match tags.first() {
                    Some(t) => format!("build {t}"),
                    None => format!("build {}", dir.display()),
                };
                if !dir.is_dir() {
                    return Err(Error::usage(format!(
                        "{what}: the build context {} is not a directory",
                        dir.display()
                    )));
                }
                let df_path = dir.join(dockerfile);
                let df_text = std::fs::read_to_string(&df_path).map_err(|e| {
                    Error::usage(format!(
                        "{what}: no Dockerfile at {}: {e}",
                        df_path.display()
                    ))
                    .hint("pass #{dockerfile: \"path/in/context\"} if it has another name")
                })?;
                let context = {
                    let dir = dir.to_path_buf();
                    let df = dockerfile.to_string();
                    tokio::task::spawn_blocking(move || super::context::tar_context(&dir, &df))
                        .await
                        .map_err(|e| Error::wrap("build context", e))??
                };

                let mut b = BuildImageOptionsBuilder::default()
                    .dockerfile(dockerfile)
                    .rm(true)
                    .forcerm(true)
                    .nocache(opts.no_cache)
                    .pull(if opts.pull { "1" } else { "" });
                if let Some(t) = tags.first() {
                    b = b.t(t);
                }
                if let Some(t) = &opts.target {
                    b = b.target(t);
                }
                let args: HashMap<String, String> = opts.build_args.clone().into_iter().collect();
                if !args.is_empty() {
                    b = b.buildargs(&args);
                }
                let labels: HashMap<String, String> = opts.labels.clone().into_iter().collect();
                if !labels.is_empty() {
                    b = b.labels(&labels);
                }
                let auth = self.base_image_credentials(&df_text).await?;

                let progress = Progress::start(self.services(), self.host_name(), what.clone());
                let mut stream =
                    w.build_image(b.build(), auth, Some(bollard::body_full(context.into())));
                let mut step = String::new();
                let mut step_n: (Option<i64>, Option<i64>) = (None, None);
                let mut recent: Vec<String> = Vec::new();
                let mut image_id: Option<String> = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(info) => {
                            if let Some(id) = info.aux.and_then(|a| a.id) {
                                image_id = Some(id);
                            }
                            if let Some(text) = info.stream {
                                // The engine paints a RUN's stderr red: keep the text, not the paint.
                                let text = strip_ansi(&text);
                                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                                    if let Some((n, total)) = parse_step(line) {
                                        step = line.trim().to_string();
                                        step_n = (Some(n), Some(total));
                                        recent.clear();
                                    } else if !is_builder_chatter(line) {
                                        recent.push(line.to_string());
                                        if recent.len() > KEEP_LINES {
                                            recent.remove(0);
                                        }
                                    }
                                    progress.update("", line, step_n.0, step_n.1);
                                }
                            }
                            if let Some(status) = info.status {
                                let d = info.progress_detail.unwrap_or_default();
                                progress.update(
                                    &info.id.unwrap_or_default(),
                                    &status,
                                    d.current,
                                    d.total,
                                );
                            }
                        }
                        Err(e) => {
                            let said = super::client::engine_message(&e);
                            let at = if step.is_empty() {
                                String::new()
                            } else {
                                format!(" at {step}")
                            };
                            return Err(Error::failed(format!("{what} failed{at}: {said}"))
                                .host(self.host_name())
                                .stderr(&recent.join("\n")));
                        }
                    }
                }
                progress.done();
                // The engine may not send the id (older engines); the first tag names it anyway.
                let id = match (image_id, tags.first()) {
                    (Some(id), _) => id,
                    (None, Some(t)) => self.image_id(t).await?,
                    (None, None) => {
                        return Err(Error::failed(format!(
                            "{what}: the engine did not say which image it built"
                        ))
                        .host(self.host_name()));
                    }
                };
                for extra in tags.iter().skip(1) {
                    self.tag(&id, extra).await?;
                }
                Ok(id)
            },
        )
        .await
    }

    /// Credentials for the registries the Dockerfile's FROM lines pull from.
    async fn base_image_credentials(
        &self,
        dockerfile: &str,
    ) -> Result<Option<HashMap<String, bollard::auth::DockerCredentials>>> {
        let mut out = HashMap::new();
        for line in dockerfile.lines() {
            let mut words = line.split_whitespace();
            if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
                continue;
            }
            let Some(image) = words.find(|w| !w.starts_with("--")) else {
                continue;
            };
            let r = ImageRef::parse(image);
            if r.registry.is_none() {
                continue;
            }
            let key = r.credentials_key();
            if let Some(c) = credentials::lookup(self.host(), &key).await? {
                out.insert(key, c);
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// The legacy builder's own bookkeeping lines (not the step's output).
fn is_builder_chatter(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("---> ") || l.starts_with("Removing intermediate container")
}

/// Text without terminal escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// "Step 3/7 : RUN make" -> (3, 7).
fn parse_step(line: &str) -> Option<(i64, i64)> {
    let rest = line.trim().strip_prefix("Step ")?;
    let (frac, _) = rest.split_once(' ')?;
    let (n, total) = frac.split_once('/')?;
    Some((n.parse().ok()?, total.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn paint_is_stripped() {
        assert_eq!(super::strip_ansi("\u{1b}[91mboom\n\u{1b}[0m"), "boom\n");
    }

    #[test]
    fn step_lines() {
        assert_eq!(super::parse_step("Step 3/7 : RUN false"), Some((3, 7)));
        assert_eq!(super::parse_step(" ---> Running in abc"), None);
    }
}
