//! The commands a mount takes, as data: `plan(spec)` needs no host, so a dry run (and the
//! tests for CIFS/NFS, which this kernel cannot mount) see exactly what would run.

use super::fstab;
use super::mountinfo::MountEntry;
use super::spec::{MountSpec, MountType};
use crate::command::{Command, quote};
use crate::error::Result;
use crate::secret::Secret;

/// A CIFS credentials file to write (mode 0600) before mounting.
#[derive(Debug, Clone)]
pub struct CredentialsFile {
    pub path: String,
    /// `username=...\npassword=...\n[domain=...\n]`: a secret as a whole.
    pub content: Secret,
}

#[derive(Debug, Clone)]
pub struct MountPlan {
    /// Create the target directory (refusing one that exists and is not a directory).
    pub prepare: Command,
    pub credentials: Option<CredentialsFile>,
    /// The command that mounts.
    pub mount: Command,
    /// The fstab line, when `persist`.
    pub fstab_line: Option<String>,
}

impl MountPlan {
    /// Every command in order (the credentials file as the command that writes it; its
    /// content travels on stdin as a secret).
    pub fn commands(&self) -> Vec<Command> {
        let mut out = vec![self.prepare.clone()];
        if let Some(c) = &self.credentials {
            out.push(write_private(&c.path, &c.content, self.mount.sudo));
        }
        out.push(self.mount.clone());
        out
    }
}

/// Exit code of the prepare step when the target is not a directory.
pub const NOT_A_DIRECTORY: i32 = 20;

/// Write a secret to a file created 0600 from the start (umask), atomically.
pub fn write_private(path: &str, content: &Secret, sudo: bool) -> Command {
    let (dir, _) = path.rsplit_once('/').unwrap_or((".", path));
    let dir = if dir.is_empty() { "/" } else { dir };
    let tmp = format!("{path}.hoist-tmp");
    Command::shell(format!(
        "umask 077 && mkdir -p -- {d} && cat > {t} && chmod 600 -- {t} && mv -f -- {t} {p}",
        d = quote(dir),
        t = quote(&tmp),
        p = quote(path)
    ))
    .stdin_secret(content.clone())
    .sudo(sudo)
    .quiet()
}

pub fn plan(spec: &MountSpec) -> Result<MountPlan> {
    spec.validate()?;
    let t = quote(&spec.target);
    let prepare = Command::shell(format!(
        "if [ -e {t} ] && [ ! -d {t} ]; then echo {msg} >&2; exit {NOT_A_DIRECTORY}; fi; mkdir -p -- {t}",
        msg = quote(&format!("hoist: mount target {} exists and is not a directory", spec.target))
    ))
    .sudo(spec.sudo)
    .quiet();
    let source = spec.source();
    let opts = spec.options.join(",");
    let mut argv: Vec<String> = Vec::new();
    let mut credentials = None;
    match spec.kind {
        MountType::Bind => {
            let o = if opts.is_empty() {
                "bind".to_string()
            } else {
                format!("bind,{opts}")
            };
            argv.extend(["mount".into(), "-o".into(), o, source, spec.target.clone()]);
        }
        MountType::Tmpfs | MountType::Nfs => {
            argv.extend(["mount".into(), "-t".into(), spec.kind.fstype().into()]);
            if !opts.is_empty() {
                argv.extend(["-o".into(), opts]);
            }
            argv.extend([source, spec.target.clone()]);
        }
        MountType::Cifs => {
            let mut o = Vec::new();
            if let (Some(c), Some(path)) = (&spec.credentials, spec.credentials_file()) {
                let mut text = format!(
                    "username={}\npassword={}\n",
                    c.username,
                    c.password.expose()
                );
                if let Some(d) = &c.domain {
                    text.push_str(&format!("domain={d}\n"));
                }
                o.push(format!("credentials={path}"));
                credentials = Some(CredentialsFile {
                    path,
                    content: Secret::new(text),
                });
            }
            o.extend(spec.options.iter().cloned());
            argv.extend(["mount".into(), "-t".into(), "cifs".into()]);
            if !o.is_empty() {
                argv.extend(["-o".into(), o.join(",")]);
            }
            argv.extend([source, spec.target.clone()]);
        }
        MountType::Sshfs => {
            argv.extend(["sshfs".into(), source, spec.target.clone()]);
            // Never prompt (no TTY): a refused login fails instead of hanging.
            if !spec.options.iter().any(|o| o.starts_with("BatchMode=")) {
                argv.extend(["-o".into(), "BatchMode=yes".into()]);
            }
            for o in &spec.options {
                argv.extend(["-o".into(), o.clone()]);
            }
        }
    }
    Ok(MountPlan {
        prepare,
        credentials,
        mount: Command::argv(argv).sudo(spec.sudo),
        fstab_line: spec.persist.then(|| fstab::line(spec)),
    })
}

/// Options the kernel shows in mountinfo, so they can be compared; the rest (sshfs's ssh
/// options, `_netdev`, `credentials=` ...) are not visible and not compared.
fn visible(kind: MountType, opt: &str) -> bool {
    let key = opt.split('=').next().unwrap_or_default();
    const FLAGS: &[&str] = &[
        "ro",
        "rw",
        "nosuid",
        "nodev",
        "noexec",
        "noatime",
        "nodiratime",
        "relatime",
        "strictatime",
        "sync",
        "dirsync",
        "allow_other",
        "default_permissions",
    ];
    FLAGS.contains(&key)
        || (kind == MountType::Tmpfs && ["size", "mode", "uid", "gid", "nr_inodes"].contains(&key))
}

/// Sizes as the kernel prints them (tmpfs `size=64m` shows as `size=65536k`).
fn bytes(v: &str) -> Option<u64> {
    let (num, mult) = match v.chars().last()? {
        'k' | 'K' => (&v[..v.len() - 1], 1024),
        'm' | 'M' => (&v[..v.len() - 1], 1024 * 1024),
        'g' | 'G' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

fn option_matches(kind: MountType, want: &str, have: &[&str]) -> bool {
    if !visible(kind, want) || have.contains(&want) {
        return true;
    }
    let Some((k, v)) = want.split_once('=') else {
        return false;
    };
    have.iter().any(|h| match h.split_once('=') {
        Some((hk, hv)) if hk == k => {
            hv == v
                || (k == "mode"
                    && u32::from_str_radix(hv, 8).ok() == u32::from_str_radix(v, 8).ok())
                || bytes(hv).is_some() && bytes(hv) == bytes(v)
        }
        _ => false,
    })
}

/// Is `entry` (what is mounted at the target) this spec's mount with its options?
/// `bind_root` is the (device, root) a bind of the source would show.
pub fn same_mount(spec: &MountSpec, entry: &MountEntry, bind_root: Option<(&str, &str)>) -> bool {
    let same_source = match spec.kind {
        MountType::Bind => {
            bind_root.is_some_and(|(dev, root)| entry.device == dev && entry.root == root)
        }
        MountType::Tmpfs => entry.fstype == "tmpfs" && entry.source == spec.source(),
        MountType::Sshfs => entry.fstype == "fuse.sshfs" && entry.source == spec.source(),
        MountType::Cifs => {
            entry.fstype == "cifs" && entry.source.eq_ignore_ascii_case(&spec.source())
        }
        MountType::Nfs => entry.fstype.starts_with("nfs") && entry.source == spec.source(),
    };
    if !same_source {
        return false;
    }
    let have = entry.option_list();
    let mut wanted: Vec<&str> = spec.options.iter().map(String::as_str).collect();
    if !wanted.iter().any(|o| *o == "ro" || *o == "rw") {
        wanted.push("rw");
    }
    wanted.iter().all(|w| option_matches(spec.kind, w, &have))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_compare_as_the_kernel_shows_them() {
        let mut spec = MountSpec::new(MountType::Tmpfs, None, "/mnt/t");
        spec.options = vec!["size=1m".into(), "mode=755".into()];
        let e = MountEntry {
            target: "/mnt/t".into(),
            source: "tmpfs".into(),
            fstype: "tmpfs".into(),
            options: "rw,relatime,size=1024k,mode=755".into(),
            root: "/".into(),
            device: "0:1".into(),
        };
        assert!(same_mount(&spec, &e, None));
        spec.options.push("ro".into());
        assert!(!same_mount(&spec, &e, None));
    }
}
