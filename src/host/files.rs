//! Files on any host, written once on top of `run`: read, write (atomic, reports whether
//! anything changed), upload, download, exists, mkdir, template.

use sha2::{Digest, Sha256};

use super::Host;
use crate::command::{Command, quote, quote_path};
use crate::error::{Error, Result};

/// Options of `write`, `upload`, `template` and `mkdir`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOpts {
    /// Octal mode, e.g. "0644" or 420.
    #[serde(default, deserialize_with = "de_mode")]
    pub mode: Option<u32>,
    /// `user` or `user:group`.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub sudo: bool,
}

/// `mkdir` takes the same options as a file.
pub type MkdirOpts = FileOpts;

/// Modes come as strings ("0644", "755") or numbers (which users mean in octal when they
/// write 644, and in decimal when they write 0o644 = 420). A number that reads as octal
/// digits is taken as octal.
pub fn de_mode<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u32>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum M {
        S(String),
        N(i64),
    }
    let m: Option<M> = serde::Deserialize::deserialize(d)?;
    let parse = |s: &str| {
        u32::from_str_radix(s.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o7777)
    };
    match m {
        None => Ok(None),
        Some(M::S(s)) => parse(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("mode `{s}` is not an octal mode like \"0644\""))
        }),
        Some(M::N(n)) => {
            let s = n.to_string();
            parse(&s)
                .or_else(|| u32::try_from(n).ok().filter(|m| *m <= 0o7777))
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("mode {n} is not a file mode")))
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl Host {
    /// Read a file as text.
    pub async fn read(&self, path: &str) -> Result<String> {
        let bytes = self.read_bytes(path, false).await?;
        String::from_utf8(bytes).map_err(|_| {
            Error::failed(format!("{path} is not UTF-8 text (use download)")).host(self.name())
        })
    }

    pub async fn read_bytes(&self, path: &str, sudo: bool) -> Result<Vec<u8>> {
        let cmd = Command::shell(format!("cat -- {}", quote_path(path)))
            .sudo(sudo)
            .quiet();
        Ok(self.run_raw(&cmd).await?.stdout)
    }

    pub async fn exists(&self, path: &str) -> Result<bool> {
        self.test(&Command::shell(format!("test -e {}", quote_path(path))).quiet())
            .await
    }

    pub async fn mkdir(&self, path: &str, opts: &MkdirOpts) -> Result<()> {
        let p = quote_path(path);
        let mut script = format!("mkdir -p -- {p}");
        if let Some(m) = opts.mode {
            script.push_str(&format!(" && chmod {m:o} -- {p}"));
        }
        if let Some(o) = &opts.owner {
            script.push_str(&format!(" && chown {} -- {p}", quote(o)));
        }
        self.run(&Command::shell(script).sudo(opts.sudo).quiet())
            .await?;
        Ok(())
    }

    /// Write `data` to `path` atomically (temp file in the same directory, then rename).
    /// Returns whether the content or mode changed; an unchanged file is not touched.
    pub async fn write_bytes(&self, path: &str, data: &[u8], opts: &FileOpts) -> Result<bool> {
        let p = quote_path(path);
        // One round trip to learn the current hash and mode (empty when absent).
        let probe = Command::shell(format!(
            "if [ -f {p} ]; then sha256sum -- {p} | cut -d' ' -f1; stat -c %a -- {p}; fi"
        ))
        .sudo(opts.sudo)
        .check(false)
        .quiet();
        let out = self.run(&probe).await?;
        let mut lines = out.stdout.lines();
        let (old_hash, old_mode) = (
            lines.next().map(str::to_string),
            lines
                .next()
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok()),
        );
        let same_content = old_hash.as_deref() == Some(sha256_hex(data).as_str());
        let same_mode = opts.mode.is_none() || opts.mode == old_mode;
        if same_content && same_mode && opts.owner.is_none() {
            return Ok(false);
        }
        if same_content && same_mode {
            // Only the owner may differ: chown is idempotent and cheap.
            let o = opts.owner.as_deref().unwrap_or_default();
            self.run(
                &Command::shell(format!("chown {} -- {p}", quote(o)))
                    .sudo(opts.sudo)
                    .quiet(),
            )
            .await?;
            return Ok(false);
        }
        let (dir, base) = match path.rsplit_once('/') {
            Some((d, b)) => (
                if d.is_empty() {
                    "/".to_string()
                } else {
                    d.to_string()
                },
                b.to_string(),
            ),
            None => (".".to_string(), path.to_string()),
        };
        let tmp = format!("{dir}/.{base}.hoist-{:08x}", rand::random::<u32>());
        let t = quote_path(&tmp);
        let mode = match (opts.mode, old_mode) {
            (Some(m), _) | (None, Some(m)) => format!(" && chmod {m:o} -- {t}"),
            (None, None) => String::new(),
        };
        let owner = opts
            .owner
            .as_ref()
            .map(|o| format!(" && chown {} -- {t}", quote(o)))
            .unwrap_or_default();
        // A directory at the destination would swallow the file (`mv` moves into it): refuse.
        let script = format!(
            "if [ -d {p} ]; then echo {msg} >&2; exit 1; fi; {{ cat > {t}{mode}{owner} && mv -f -- {t} {p}; }} || {{ rc=$?; rm -f -- {t}; exit $rc; }}",
            msg = quote(&format!("hoist: {path} is a directory"))
        );
        self.run_raw(
            &Command::shell(script)
                .stdin(data.to_vec())
                .sudo(opts.sudo)
                .quiet(),
        )
        .await?;
        Ok(true)
    }

    pub async fn write(&self, path: &str, text: &str, opts: &FileOpts) -> Result<bool> {
        self.write_bytes(path, text.as_bytes(), opts).await
    }

    /// Copy a local file to the host (atomic on the host).
    pub async fn upload(&self, local: &str, remote: &str, opts: &FileOpts) -> Result<bool> {
        let data = tokio::fs::read(local)
            .await
            .map_err(|e| Error::failed(format!("cannot read local file {local}: {e}")))?;
        self.write_bytes(remote, &data, opts).await
    }

    /// Copy a file from the host to a local path (atomic locally).
    pub async fn download(&self, remote: &str, local: &str) -> Result<()> {
        let data = self.read_bytes(remote, false).await?;
        let local_path = std::path::Path::new(local);
        let dir = local_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| Error::failed(format!("cannot write {local}: {e}")))?;
        std::io::Write::write_all(&mut tmp, &data)?;
        tmp.persist(local_path)
            .map_err(|e| Error::failed(format!("cannot write {local}: {e}")))?;
        Ok(())
    }

    /// Render a minijinja template file locally and write the result (see [`crate::template`]).
    pub async fn template(
        &self,
        src: &str,
        dest: &str,
        vars: &serde_json::Value,
        opts: &FileOpts,
    ) -> Result<bool> {
        let text = crate::template::render_file(src, vars)?;
        self.write(dest, &text, opts).await
    }
}
