//! What a user asks to mount: `h.mount(#{type, source, target, options, credentials, persist})`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Tmpfs,
    Sshfs,
    Cifs,
    Nfs,
}

impl MountType {
    /// The filesystem type the kernel reports (in mountinfo and fstab).
    pub fn fstype(self) -> &'static str {
        match self {
            MountType::Bind => "none",
            MountType::Tmpfs => "tmpfs",
            MountType::Sshfs => "fuse.sshfs",
            MountType::Cifs => "cifs",
            MountType::Nfs => "nfs",
        }
    }
    pub fn is_network(self) -> bool {
        matches!(self, MountType::Sshfs | MountType::Cifs | MountType::Nfs)
    }
}

/// CIFS credentials; they reach mount.cifs through a 0600 credentials file, never argv.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
    pub domain: Option<String>,
    /// Where the credentials file goes (default: /etc/hoist/credentials/<target>.cred).
    pub file: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MountSpec {
    pub kind: MountType,
    /// Bind: a directory; tmpfs: optional (default "tmpfs"); sshfs: `[user@]host:/path`;
    /// cifs: `//server/share`; nfs: `server:/export`.
    pub source: Option<String>,
    /// An absolute directory; created when missing.
    pub target: String,
    /// Mount options, one per item (`ro`, `size=64m`, `port=2222`, `ssh_command=ssh -F cfg`).
    pub options: Vec<String>,
    pub credentials: Option<Credentials>,
    /// Keep exactly one fstab line for the target.
    pub persist: bool,
    /// The fstab to keep it in (default /etc/fstab; tests use a scratch file).
    pub fstab: String,
    /// Run mount/umount and file writes with `sudo -n`.
    pub sudo: bool,
}

pub const DEFAULT_FSTAB: &str = "/etc/fstab";
pub const CREDENTIALS_DIR: &str = "/etc/hoist/credentials";

impl MountSpec {
    pub fn new(kind: MountType, source: Option<&str>, target: &str) -> MountSpec {
        MountSpec {
            kind,
            source: source.map(str::to_string),
            target: target.to_string(),
            options: Vec::new(),
            credentials: None,
            persist: false,
            fstab: DEFAULT_FSTAB.to_string(),
            sudo: false,
        }
    }

    /// The source as mounted (tmpfs defaults to "tmpfs").
    pub fn source(&self) -> String {
        match (&self.source, self.kind) {
            (Some(s), _) => s.clone(),
            (None, _) => "tmpfs".to_string(),
        }
    }

    /// Where the CIFS credentials file goes.
    pub fn credentials_file(&self) -> Option<String> {
        let c = self.credentials.as_ref()?;
        Some(c.file.clone().unwrap_or_else(|| {
            let slug: String = self
                .target
                .trim_matches('/')
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!(
                "{CREDENTIALS_DIR}/{}.cred",
                if slug.is_empty() { "root".into() } else { slug }
            )
        }))
    }

    /// Refuse what cannot work, before anything runs.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::usage(format!("h.mount(): {m}")));
        if !self.target.starts_with('/') {
            return bad(format!("target `{}` must be an absolute path", self.target));
        }
        let source = self.source.as_deref().unwrap_or_default();
        match self.kind {
            MountType::Tmpfs => {}
            _ if source.is_empty() => {
                return bad(format!("a {:?} mount needs a source", self.kind).to_lowercase());
            }
            MountType::Bind if !source.starts_with('/') => {
                return bad(format!("bind source `{source}` must be an absolute path"));
            }
            MountType::Sshfs | MountType::Nfs if !source.contains(':') => {
                return bad(format!("source `{source}` must look like host:/path"));
            }
            MountType::Cifs if !source.starts_with("//") => {
                return bad(format!(
                    "cifs source `{source}` must look like //server/share"
                ));
            }
            _ => {}
        }
        if self.credentials.is_some() && self.kind != MountType::Cifs {
            return bad("credentials are for cifs mounts".into());
        }
        for o in &self.options {
            let key = o.split('=').next().unwrap_or_default();
            if o.is_empty() {
                return bad("an empty option".into());
            }
            if self.kind != MountType::Sshfs && o.contains(',') {
                return bad(format!("option `{o}`: give one option per item"));
            }
            if matches!(
                key,
                "password" | "pass" | "credentials" | "username" | "user"
            ) && self.kind == MountType::Cifs
            {
                return bad(format!(
                    "option `{key}` would put credentials on the command line; use credentials: #{{username, password}}"
                ));
            }
        }
        Ok(())
    }
}
