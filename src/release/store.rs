//! The records and kept files of a project, on its host. Records are `.hoist/releases.jsonl`
//! (replaced atomically on every change); each release's files — its compose file and env
//! files, byte for byte — are kept under `.hoist/releases/`, named by their sha256 (mode 0600,
//! the directory 0700: env files hold secrets), so a rollback restores exactly what ran.
//! Every read is a probe and every write passes the effect gate, so a dry run plans them.

use indexmap::IndexMap;

use super::history::History;
use super::layout::{kept_dir, kept_path, records_path};
use super::legacy;
use super::record::Record;
use crate::command::{Command, quote_path};
use crate::effect::Change;
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host, MkdirOpts};

/// A project's release store on one host.
#[derive(Clone)]
pub struct Store {
    pub host: Host,
    pub dir: String,
}

const PRIVATE_FILE: FileOpts = FileOpts {
    mode: Some(0o600),
    owner: None,
    sudo: false,
};

impl Store {
    pub fn new(host: &Host, dir: &str) -> Store {
        Store {
            host: host.clone(),
            dir: dir.to_string(),
        }
    }

    fn at(&self, rel: &str) -> String {
        format!("{}/{rel}", self.dir)
    }

    /// The records, oldest first: `releases.jsonl`, else an older hoist's files read as
    /// records, else none.
    pub async fn load(&self) -> Result<History> {
        let path = records_path(&self.dir);
        if let Some(bytes) = self.host.read_bytes_if_present(&path, false).await? {
            let text = String::from_utf8_lossy(&bytes);
            let records = Record::parse_lines(&text).map_err(|e| {
                Error::failed(format!(
                    "{path} is not a list of release records ({e}); nothing was changed"
                ))
                .host(self.host.name())
                .hint("hoist reads it to decide what is live and what a rollback restores: fix or move it")
            })?;
            return Ok(History::new(records));
        }
        let read = |f: &str| {
            let p = self.at(f);
            async move { self.host.read_bytes_if_present(&p, false).await }
        };
        let current = read(".hoist/current.env").await?;
        let log = read(".hoist/releases.log").await?;
        let dot_env = if log.is_some() {
            read(".env").await?
        } else {
            None
        };
        let text =
            |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        Ok(History::new(legacy::records(
            text(&current).as_deref(),
            text(&dot_env).as_deref(),
            text(&log).as_deref(),
        )))
    }

    /// Write the records (atomically). The first write migrates an older hoist's files: they
    /// are in the records now and go, after the records are written.
    pub async fn save(&self, history: &History) -> Result<()> {
        self.host
            .mkdir(&self.at(".hoist"), &MkdirOpts::default())
            .await?;
        let old = self.legacy_files_present().await?;
        self.host
            .write(
                &records_path(&self.dir),
                &Record::to_text(&history.records),
                &FileOpts::default(),
            )
            .await?;
        for f in old {
            self.host
                .remove(&self.at(&format!(".hoist/{f}")), false)
                .await?;
        }
        Ok(())
    }

    async fn legacy_files_present(&self) -> Result<Vec<&'static str>> {
        let mut found = Vec::new();
        for f in legacy::FILES {
            if self.host.exists(&self.at(&format!(".hoist/{f}"))).await? {
                found.push(f);
            }
        }
        Ok(found)
    }

    /// Keep `files` (name, bytes) byte for byte; returns name → sha256. A file kept already
    /// (the same bytes) is not written again.
    pub async fn keep(&self, files: &[(String, Vec<u8>)]) -> Result<IndexMap<String, String>> {
        if files.is_empty() {
            return Ok(IndexMap::new());
        }
        self.host
            .mkdir(
                &kept_dir(&self.dir),
                &MkdirOpts {
                    mode: Some(0o700),
                    ..MkdirOpts::default()
                },
            )
            .await?;
        let mut out = IndexMap::new();
        for (name, bytes) in files {
            let sha = crate::effect::diff::sha256(bytes);
            self.host
                .write_bytes(&kept_path(&self.dir, &sha), bytes, &PRIVATE_FILE)
                .await?;
            out.insert(name.clone(), sha);
        }
        Ok(out)
    }

    /// The kept bytes of `sha` (None: not kept, e.g. pruned).
    pub async fn kept(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        self.host
            .read_bytes_if_present(&kept_path(&self.dir, sha), false)
            .await
    }

    /// Whether every file of `record` is kept.
    pub async fn has_files_of(&self, record: &Record) -> Result<bool> {
        if !record.keeps_files() {
            return Ok(false);
        }
        // One probe each: a dry run's planned writes count as kept.
        for sha in record.files.values() {
            if !self.host.exists(&kept_path(&self.dir, sha)).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Remove the kept files no kept release names any more (`keep` releases are kept, plus
    /// the live and every confirmed one). One listing, one removal.
    pub async fn prune(&self, history: &History, keep: usize) -> Result<usize> {
        let wanted: std::collections::HashSet<&str> = history
            .kept(keep)
            .iter()
            .flat_map(|r| r.files.values().map(String::as_str))
            .collect();
        let listing = self
            .host
            .run(
                &Command::shell(format!(
                    "cd -- {} 2>/dev/null && ls -1 || true",
                    quote_path(&kept_dir(&self.dir))
                ))
                .quiet()
                .probe(),
            )
            .await?;
        let stale: Vec<String> = listing
            .stdout
            .lines()
            .map(str::trim)
            .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|n| !wanted.contains(n))
            .map(String::from)
            .collect();
        if stale.is_empty() {
            return Ok(0);
        }
        let mut argv = vec!["rm".to_string(), "-f".to_string(), "--".to_string()];
        argv.extend(stale.iter().cloned());
        self.host
            .run(
                &Command::argv(argv)
                    .cwd(kept_dir(&self.dir))
                    .quiet()
                    .describe(Change::Command {
                        command: format!(
                            "remove {} kept release file(s) no kept release names (keep_releases = {keep}) in {}",
                            stale.len(),
                            kept_dir(&self.dir)
                        ),
                    }),
            )
            .await?;
        Ok(stale.len())
    }
}
