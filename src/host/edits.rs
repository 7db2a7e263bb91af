//! Small file jobs recipes did by hand with `echo >>`, `rm` and read-modify-write: append a
//! line to a file, remove a path, read and edit a `.env` file while keeping every other line.

use indexmap::IndexMap;

use super::{FileOpts, Host};
use crate::command::{Command, quote_path};
use crate::error::{Error, Result};

impl Host {
    /// Append `text` to a file (created if missing). Not idempotent by design: a log line.
    pub async fn append(&self, path: &str, text: &str) -> Result<()> {
        let cmd = Command::shell(format!("cat >> {}", quote_path(path)))
            .stdin(text.as_bytes().to_vec())
            .quiet();
        self.run(&cmd).await.map(|_| ())
    }

    /// Remove a file or symlink (a directory only with `recursive`); whether it existed.
    pub async fn remove(&self, path: &str, recursive: bool) -> Result<bool> {
        let p = quote_path(path);
        // A probe says what is there (so a dry run plans exactly), then the change removes it.
        let probe = format!(
            "if [ -d {p} ] && [ ! -L {p} ]; then echo dir; \
             elif [ -e {p} ] || [ -L {p} ]; then echo file; fi"
        );
        let there = match self.services().effects().planned_file(self.name(), path) {
            Some(Some(_)) => "file".to_string(),
            Some(None) => String::new(),
            None => {
                let out = self.run(&Command::shell(probe).quiet().probe()).await?;
                out.stdout.trim().to_string()
            }
        };
        let rm = match (there.as_str(), recursive) {
            ("dir", false) => {
                return Err(Error::usage(format!(
                    "{path} is a directory: remove it with #{{recursive: true}}"
                ))
                .host(self.name()));
            }
            ("dir", true) => format!("rm -rf -- {p}"),
            ("file", _) => format!("rm -f -- {p}"),
            _ => return Ok(false),
        };
        if self.run(&Command::shell(rm).quiet()).await?.planned {
            self.services().effects().plan_file(self.name(), path, None);
        }
        Ok(true)
    }

    /// The keys and values of an env file (compose's `.env` syntax); empty if it is missing.
    pub async fn env_file(&self, path: &str) -> Result<IndexMap<String, String>> {
        let text = self.read_if_exists(path).await?.unwrap_or_default();
        let mut known = IndexMap::new();
        crate::env_file::parse(&text, &|_| None, &mut known).map_err(|e| {
            Error::failed(format!("{path}:{}: {}", e.line, e.message)).host(self.name())
        })?;
        Ok(known)
    }

    /// Set `keys` in an env file: a key's line is replaced where it is, new keys are added at
    /// the end, every other line (comments, other keys, order) stays. Whether it changed.
    pub async fn set_env(
        &self,
        path: &str,
        keys: &[(String, String)],
        opts: &FileOpts,
    ) -> Result<bool> {
        for (k, _) in keys {
            if !valid_key(k) {
                return Err(Error::usage(format!(
                    "set_env(): `{k}` is not an env key (letters, digits, _; not starting with a digit)"
                ))
                .host(self.name()));
            }
        }
        self.edit_file(path, opts, |before| Ok(set_keys(before, keys)))
            .await
    }

    async fn read_if_exists(&self, path: &str) -> Result<Option<String>> {
        if !self.exists(path).await? {
            return Ok(None);
        }
        self.read(path).await.map(Some)
    }
}

fn valid_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `KEY=value` as compose reads it back: bare when plain, else double-quoted with escapes.
fn line_for(key: &str, value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./:@+,%=".contains(c));
    if plain {
        return format!("{key}={value}");
    }
    let mut q = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => q.push_str("\\\\"),
            '"' => q.push_str("\\\""),
            '$' => q.push_str("\\$"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c => q.push(c),
        }
    }
    format!("{key}=\"{q}\"")
}

/// The key a line sets, if it is a plain one-line assignment (`KEY=`, `export KEY=`, `KEY:`).
fn key_of(line: &str) -> Option<&str> {
    let l = line.trim_start();
    let l = l.strip_prefix("export ").map(str::trim_start).unwrap_or(l);
    let end = l.find(|c: char| c == '=' || c == ':' || c.is_whitespace())?;
    let (key, rest) = l.split_at(end);
    (valid_key(key) && matches!(rest.trim_start().chars().next(), Some('=' | ':'))).then_some(key)
}

/// Text with `keys` set (see [`Host::set_env`]).
pub fn set_keys(text: &str, keys: &[(String, String)]) -> String {
    let mut pending: IndexMap<&str, &str> =
        keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        match key_of(body).and_then(|k| pending.shift_remove(k).map(|v| (k, v))) {
            Some((k, v)) => {
                out.push_str(&line_for(k, v));
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    if !pending.is_empty() && !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (k, v) in pending {
        out.push_str(&line_for(k, v));
        out.push('\n');
    }
    out
}

/// `h.remove(path, #{recursive})`: a directory only with `recursive`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveOpts {
    #[serde(default)]
    pub recursive: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> IndexMap<String, String> {
        let mut known = IndexMap::new();
        crate::env_file::parse(text, &|_| None, &mut known).unwrap();
        known
    }

    #[test]
    fn keys_are_replaced_in_place_and_others_kept() {
        let text = "# app settings\nPORT=18403\nexport IMAGE=app:v1\nOTHER: x\n";
        let out = set_keys(
            text,
            &[
                ("IMAGE".into(), "app:v2".into()),
                ("NEW".into(), "a b $c \"q\" \\ \n2".into()),
            ],
        );
        assert_eq!(
            out,
            "# app settings\nPORT=18403\nIMAGE=app:v2\nOTHER: x\nNEW=\"a b \\$c \\\"q\\\" \\\\ \\n2\"\n"
        );
        let back = parse(&out);
        assert_eq!(back["PORT"], "18403");
        assert_eq!(back["IMAGE"], "app:v2");
        assert_eq!(
            back["NEW"], "a b $c \"q\" \\ \n2",
            "compose reads back what was set"
        );
        assert_eq!(set_keys(&out, &[("IMAGE".into(), "app:v2".into())]), out);
    }

    #[test]
    fn a_file_without_final_newline_gets_new_keys_on_their_own_line() {
        assert_eq!(set_keys("A=1", &[("B".into(), "2".into())]), "A=1\nB=2\n");
        assert_eq!(set_keys("", &[("B".into(), "2".into())]), "B=2\n");
    }
}
