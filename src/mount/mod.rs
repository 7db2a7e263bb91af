//! Mounts on any host: bind, tmpfs, sshfs, cifs, nfs. `plan(spec)` gives the exact commands
//! (no host needed); `Host::mount` compares with what is mounted (mountinfo) and only acts
//! when something differs, refuses to hide a non-empty directory (occupied.rs), writes CIFS
//! credentials to a 0600 file, and keeps one fstab line per target when asked to persist.

pub mod fstab;
pub mod mountinfo;
pub mod occupied;
pub mod plan;
pub mod spec;
pub mod traverse;

pub use mountinfo::MountEntry;
pub use occupied::Contents;
pub use plan::{MountPlan, plan};
pub use spec::{Credentials, MountOptions, MountSpec, MountType, UmountOptions};
pub use traverse::{Blocked, check_traversable};

use crate::command::{Command, quote};
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host};
use crate::report::{Event, Level};

impl Host {
    /// What is mounted on the host (its /proc/self/mountinfo).
    pub async fn mounts(&self) -> Result<Vec<MountEntry>> {
        let text = self.read("/proc/self/mountinfo").await?;
        Ok(mountinfo::parse(&text))
    }

    pub async fn is_mounted(&self, target: &str) -> Result<bool> {
        Ok(mountinfo::at(&self.mounts().await?, target).is_some())
    }

    /// Mount `spec`; true if anything changed (a mount, the credentials file or the fstab
    /// line). Already mounted with the same source and options: nothing is done. A target
    /// that is not a mount point and is not empty is refused unless `over_nonempty` (see
    /// occupied.rs), before anything changes, in a dry run too.
    pub async fn mount(&self, spec: &MountSpec) -> Result<bool> {
        let plan = plan::plan(spec)?;
        let entries = self.mounts().await?;
        let current = mountinfo::at(&entries, &spec.target).cloned();
        let bind_root = if spec.kind == MountType::Bind {
            self.bind_root(&spec.source(), &entries).await?
        } else {
            None
        };
        let same = current.as_ref().is_some_and(|e| {
            plan::same_mount(
                spec,
                e,
                bind_root.as_ref().map(|(d, r)| (d.as_str(), r.as_str())),
            )
        });
        // What a new mount at a plain directory would hide (a mount point's own files were
        // hidden by the mount it replaces already).
        let hidden = if !same && current.is_none() {
            self.contents(spec).await?
        } else {
            Contents::default()
        };
        let mut changed = false;
        if let Some(c) = &plan.credentials {
            changed |= self.write_credentials(c, spec.sudo).await?;
        }
        if !same {
            if current.is_some() {
                // Mounted, but not like this: replace it.
                self.run(
                    &Command::argv(["umount", spec.target.as_str()])
                        .home_paths()
                        .sudo(spec.sudo),
                )
                .await
                .map_err(|mut e| {
                    e.message = format!("cannot unmount {} to remount it", spec.target);
                    e
                })?;
            }
            let prep = self.run(&plan.prepare.clone().check(false)).await?;
            if prep.code == plan::NOT_A_DIRECTORY {
                return Err(Error::usage(format!(
                    "mount target {} exists and is not a directory",
                    spec.target
                ))
                .host(self.name()));
            }
            if !prep.ok() {
                return Err(Error::failed(format!(
                    "cannot create the mount target {}",
                    spec.target
                ))
                .host(self.name())
                .exit_code(prep.code)
                .stderr(&prep.stderr));
            }
            self.run(&plan.mount).await.map_err(|mut e| {
                e.message = format!(
                    "{} mount of {} on {} failed",
                    format!("{:?}", spec.kind).to_lowercase(),
                    spec.source(),
                    spec.target
                );
                e
            })?;
            if hidden.count > 0 {
                // Allowed (over_nonempty): the plan, and the user, are told what it hides.
                let note = format!(
                    "mounted over {}, which holds {}: hidden while mounted",
                    spec.target,
                    hidden.describe()
                );
                let effects = self.services().effects();
                if effects.planning() {
                    effects.annotate_last(self.name(), vec![note]);
                } else {
                    self.services().reporter.event(Event::Message {
                        level: Level::Warn,
                        text: format!("{}: {note}", self.name()),
                    });
                }
            }
            changed = true;
        }
        if let Some(line) = &plan.fstab_line {
            changed |= self
                .persist(&spec.fstab, &spec.target, line, spec.sudo)
                .await?;
        }
        Ok(changed)
    }

    /// What the target directory holds, refusing a mount that would hide it unless the spec
    /// allows that (empty when it is missing or no directory).
    async fn contents(&self, spec: &MountSpec) -> Result<Contents> {
        let out = self.run(&occupied::probe(&spec.target, spec.sudo)).await?;
        if out.code == occupied::UNREADABLE {
            if spec.over_nonempty {
                return Ok(Contents::default());
            }
            return Err(occupied::unreadable(&spec.target, spec.sudo).host(self.name()));
        }
        if !out.ok() {
            return Err(
                Error::failed(format!("cannot list the mount target {}", spec.target))
                    .host(self.name())
                    .exit_code(out.code)
                    .stderr(&out.stderr),
            );
        }
        let contents = occupied::parse(&out.stdout);
        occupied::allowed(&spec.target, &contents, spec.over_nonempty)
            .map_err(|e| e.host(self.name()))?;
        Ok(contents)
    }

    /// Unmount `target`; false when nothing was mounted there.
    pub async fn umount(&self, target: &str, sudo: bool) -> Result<bool> {
        if !self.is_mounted(target).await? {
            return Ok(false);
        }
        self.run(&Command::argv(["umount", target]).home_paths().sudo(sudo))
            .await?;
        Ok(true)
    }

    async fn write_credentials(&self, c: &plan::CredentialsFile, sudo: bool) -> Result<bool> {
        // Unchanged content (and mode) = no write; compared on the host by hash so the
        // secret is never read back.
        use sha2::Digest;
        let want = hex::encode(sha2::Sha256::digest(c.content.expose().as_bytes()));
        let p = quote(&c.path);
        let probe = Command::shell(format!(
            "if [ -f {p} ]; then sha256sum -- {p} | cut -d' ' -f1; stat -c %a -- {p}; fi"
        ))
        .sudo(sudo)
        .check(false)
        .quiet()
        .probe();
        let out = self.run(&probe).await?;
        let mut lines = out.stdout.lines();
        if lines.next() == Some(want.as_str()) && lines.next() == Some("600") {
            return Ok(false);
        }
        self.run(&plan::write_private(&c.path, &c.content, sudo))
            .await?;
        Ok(true)
    }

    /// The (device, root) a bind mount of `source` shows in mountinfo.
    async fn bind_root(
        &self,
        source: &str,
        entries: &[MountEntry],
    ) -> Result<Option<(String, String)>> {
        let out = self
            .run(
                &Command::argv(["readlink", "-f", "--", source])
                    .home_paths()
                    .check(false)
                    .quiet()
                    .probe(),
            )
            .await?;
        let real = out.stdout.trim();
        if !out.ok() || real.is_empty() {
            return Ok(None);
        }
        let Some(fs) = mountinfo::containing(entries, real) else {
            return Ok(None);
        };
        let rel = real
            .strip_prefix(fs.target.as_str())
            .unwrap_or(real)
            .trim_start_matches('/');
        let root = if rel.is_empty() {
            fs.root.clone()
        } else if fs.root == "/" {
            format!("/{rel}")
        } else {
            format!("{}/{rel}", fs.root)
        };
        Ok(Some((fs.device.clone(), root)))
    }

    /// Keep exactly one fstab line for `target`; the previous file is kept as `<fstab>.hoist.bak`.
    async fn persist(
        &self,
        fstab_path: &str,
        target: &str,
        line: &str,
        sudo: bool,
    ) -> Result<bool> {
        let current = match self.read_bytes_if_present(fstab_path, sudo).await? {
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => String::new(),
        };
        let Some(new) = fstab::upsert(&current, &mountinfo::normalize(target), line) else {
            return Ok(false);
        };
        let backup = format!("{fstab_path}.hoist.bak");
        self.run(
            &Command::shell(format!(
                "if [ -f {f} ]; then cp -p -- {f} {b}; fi",
                f = quote(fstab_path),
                b = quote(&backup)
            ))
            .sudo(sudo)
            .quiet(),
        )
        .await?;
        self.write(
            fstab_path,
            &new,
            &FileOpts {
                sudo,
                ..FileOpts::default()
            },
        )
        .await?;
        Ok(true)
    }
}
