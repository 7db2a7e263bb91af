//! A git checkout on a host (runbook 002: `git pull` on the server).

use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;

#[derive(Debug, Clone)]
pub struct Repo {
    pub host: Host,
    pub dir: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloneOpts {
    #[serde(default)]
    pub branch: Option<String>,
}

impl Repo {
    pub fn new(host: Host, dir: impl Into<String>) -> Self {
        Repo {
            host,
            dir: dir.into(),
        }
    }

    fn git<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut argv = vec!["git".to_string(), "-C".to_string(), self.dir.clone()];
        argv.extend(args.into_iter().map(Into::into));
        // Never wait for a credential prompt on a server.
        Command::argv(argv)
            .home_paths()
            .env("GIT_TERMINAL_PROMPT", "0")
    }

    /// Clone `url` into the directory unless a checkout is already there; true if cloned.
    pub async fn clone_repo(&self, url: &str, opts: &CloneOpts) -> Result<bool> {
        if self
            .host
            .test(&self.git(["rev-parse", "--git-dir"]).quiet().probe())
            .await?
        {
            return Ok(false);
        }
        let mut argv = vec!["git".to_string(), "clone".into()];
        if let Some(b) = &opts.branch {
            argv.extend(["--branch".into(), b.clone()]);
        }
        argv.extend(["--".into(), url.to_string(), self.dir.clone()]);
        self.host
            .run(
                &Command::argv(argv)
                    .home_paths()
                    .env("GIT_TERMINAL_PROMPT", "0"),
            )
            .await?;
        Ok(true)
    }

    pub async fn head(&self) -> Result<String> {
        Ok(self
            .host
            .run(&self.git(["rev-parse", "HEAD"]).quiet().probe())
            .await?
            .stdout
            .trim()
            .to_string())
    }

    /// `git pull --ff-only`; true if HEAD moved.
    pub async fn pull(&self) -> Result<bool> {
        let before = self.head().await?;
        let pulled = self
            .host
            .run(&self.git(["pull", "--ff-only"]))
            .await
            .map_err(|e| {
                e.hint("the checkout must fast-forward; local commits or changes block a pull")
            })?;
        if pulled.planned {
            // A dry run fetches nothing: it asks the remote which commit the upstream branch
            // is at (read-only, as `git ls-remote` is) and compares.
            return Ok(self.upstream_head().await? != before);
        }
        Ok(self.head().await? != before)
    }

    /// The commit the checkout's upstream branch is at on its remote, without fetching.
    async fn upstream_head(&self) -> Result<String> {
        let upstream = self
            .host
            .run(
                &self
                    .git(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"])
                    .quiet()
                    .probe(),
            )
            .await?
            .stdout
            .trim()
            .to_string();
        let (remote, branch) = upstream.split_once('/').ok_or_else(|| {
            Error::failed(format!(
                "{}: the checkout's branch has no upstream (`{upstream}`)",
                self.dir
            ))
            .host(self.host.name())
        })?;
        let out = self
            .host
            .run(
                &self
                    .git(["ls-remote", "--", remote, &format!("refs/heads/{branch}")])
                    .quiet()
                    .probe(),
            )
            .await?;
        Ok(out
            .stdout
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string())
    }

    pub async fn checkout(&self, reference: &str) -> Result<()> {
        if reference.starts_with('-') {
            return Err(Error::usage(format!(
                "git checkout: `{reference}` is not a ref"
            )));
        }
        self.host.run(&self.git(["checkout", reference])).await?;
        Ok(())
    }

    /// Uncommitted changes (tracked or untracked)?
    pub async fn dirty(&self) -> Result<bool> {
        let out = self
            .host
            .run(&self.git(["status", "--porcelain"]).quiet().probe())
            .await?;
        Ok(!out.stdout.trim().is_empty())
    }
}
