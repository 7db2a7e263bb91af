//! What a user asks to mount: `h.mount(#{type, source, target, options, credentials, persist})`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::sensitive::Sensitive;

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
    /// Mount even over a directory that is not a mount point and holds files (they are hidden
    /// while the mount stays); without it such a target is refused, naming what is in it.
    pub over_nonempty: bool,
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
            over_nonempty: false,
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

/// `h.mount(#{...})`'s map, as a script writes it; [`MountOptions::spec`] checks it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountOptions {
    /// "bind" | "tmpfs" | "sshfs" | "cifs" | "nfs".
    #[serde(default, rename = "type")]
    pub kind: Option<MountType>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    /// "ro,noexec" or ["ro", "noexec"].
    #[serde(default)]
    pub options: Option<OptionList>,
    #[serde(default)]
    pub persist: bool,
    /// The fstab file `persist` keeps (default /etc/fstab).
    #[serde(default)]
    pub fstab: Option<String>,
    #[serde(default)]
    pub sudo: bool,
    #[serde(default)]
    pub credentials: Option<CredentialOptions>,
    /// Mount over a directory that is not a mount point and is not empty (hiding its files).
    #[serde(default)]
    pub over_nonempty: bool,
}

/// Mount options as one comma-separated string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OptionList {
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialOptions {
    #[serde(default)]
    pub username: String,
    /// Only a secret (`secret_env("SMB_PW")`): it goes to a 0600 file, never argv.
    #[serde(default)]
    pub password: Option<Sensitive>,
    #[serde(default)]
    pub domain: Option<String>,
    /// Where the 0600 credentials file goes.
    #[serde(default)]
    pub file: Option<String>,
}

/// `h.umount(target, #{sudo})`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UmountOptions {
    #[serde(default)]
    pub sudo: bool,
}

impl MountOptions {
    /// The spec these options ask for (the required keys present).
    pub fn spec(self) -> Result<MountSpec> {
        let Some(kind) = self.kind else {
            return Err(Error::usage(
                "h.mount(): `type` is required: \"bind\", \"tmpfs\", \"sshfs\", \"cifs\" or \"nfs\"",
            ));
        };
        let Some(target) = self.target else {
            return Err(Error::usage("h.mount(): `target` is required"));
        };
        let mut spec = MountSpec::new(kind, self.source.as_deref(), &target);
        spec.options = match self.options {
            None => Vec::new(),
            Some(OptionList::Text(t)) => t
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            Some(OptionList::List(l)) => l,
        };
        spec.persist = self.persist;
        spec.sudo = self.sudo;
        spec.over_nonempty = self.over_nonempty;
        if let Some(f) = self.fstab {
            spec.fstab = f;
        }
        if let Some(co) = self.credentials {
            let Some(password) = co.password else {
                return Err(Error::usage(
                    "h.mount(): credentials need a password: secret(..) or secret_env(..)",
                ));
            };
            if co.username.is_empty() {
                return Err(Error::usage("h.mount(): credentials need a username"));
            }
            spec.credentials = Some(Credentials {
                username: co.username,
                password: password.0,
                domain: co.domain,
                file: co.file,
            });
        }
        Ok(spec)
    }
}
