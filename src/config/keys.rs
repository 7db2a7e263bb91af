//! `h.authorized_key(user, key, #{state})`: the `ssh-copy-id` step (runbook 000), as desired
//! state. A key is matched by its type and base64 body (the comment may differ), so a second
//! run never adds a duplicate; `~user/.ssh` and the file get the modes sshd insists on.

use super::Presence;
use crate::command::{Command, quote, quote_path};
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host};

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyOpts {
    #[serde(default)]
    pub state: Presence,
    #[serde(default)]
    pub sudo: bool,
}

/// `type base64` of a public key line (options before the type are allowed).
fn identity(line: &str) -> Option<(String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-"))?;
    Some((words[at].to_string(), words.get(at + 1)?.to_string()))
}

/// The authorized_keys text with `key` present (or absent); every other line kept.
pub fn edit(text: &str, key: &str, state: Presence) -> Result<String> {
    let key = key.trim();
    let id = identity(key).ok_or_else(|| {
        Error::usage(format!(
            "authorized_key(): `{}` is not an ssh public key line (\"ssh-ed25519 AAAA... comment\")",
            key.chars().take(40).collect::<String>()
        ))
    })?;
    if key.contains('\n') {
        return Err(Error::usage("authorized_key(): one key per call"));
    }
    let mut lines: Vec<&str> = text.lines().collect();
    let has = lines.iter().any(|l| identity(l).as_ref() == Some(&id));
    match state {
        Presence::Present if !has => lines.push(key),
        Presence::Absent => lines.retain(|l| identity(l).as_ref() != Some(&id)),
        _ => {}
    }
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

impl Host {
    /// Make `key` authorized (or not) for `user`; true if the file changed.
    pub async fn authorized_key(&self, user: &str, key: &str, o: &KeyOpts) -> Result<bool> {
        let home = self
            .run(
                &Command::shell(format!("getent passwd -- {} | cut -d: -f6", quote(user)))
                    .quiet()
                    .probe(),
            )
            .await?
            .stdout
            .trim()
            .to_string();
        if home.is_empty() {
            return Err(
                Error::failed(format!("authorized_key(): no user `{user}`")).host(self.name())
            );
        }
        let (dir, path) = (
            format!("{home}/.ssh"),
            format!("{home}/.ssh/authorized_keys"),
        );
        // Read through the dry run's planned files: a key added earlier in the run is there.
        let file = self.begin_edit(&path, o.sudo).await?;
        let new = edit(&file.old, key, o.state).map_err(|e| e.host(self.name()))?;
        if new == file.old {
            return Ok(false);
        }
        self.run(
            &Command::shell(format!(
                "mkdir -p -- {d} && chmod 700 -- {d} && chown {u}: -- {d}",
                d = quote_path(&dir),
                u = quote(user)
            ))
            .sudo(o.sudo)
            .quiet(),
        )
        .await?;
        // sshd ignores a key file others may write: 0600 whether it is new or not.
        self.write(
            &path,
            &new,
            &FileOpts {
                mode: Some(0o600),
                owner: Some(format!("{user}:")),
                sudo: o.sudo,
            },
        )
        .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHIy laptop";

    #[test]
    fn added_once_matched_without_comment_and_removed() {
        let t = edit("", K, Presence::Present).unwrap();
        assert_eq!(t, format!("{K}\n"));
        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHIy other-comment";
        assert_eq!(
            edit(&t, other, Presence::Present).unwrap(),
            t,
            "no duplicate"
        );
        let with_opts = format!("no-pty {K}\nssh-rsa BBBB x\n");
        assert_eq!(
            edit(&with_opts, K, Presence::Absent).unwrap(),
            "ssh-rsa BBBB x\n"
        );
        assert!(edit("", "not a key", Presence::Present).is_err());
    }
}
