//! A systemd unit on a host (runbook 002: stop, pull, start, read the journal; the unit file
//! written with its mode). Installing and enabling are desired state: a re-run that finds the
//! unit as wanted changes nothing (no daemon-reload, no restart).

use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host};

/// A unit name systemd accepts, and nothing that could leave /etc/systemd/system
/// (`../../tmp/x`): letters, digits, `:_.@-\`, no leading dot or dash, with a unit suffix.
pub fn validate_unit(unit: &str) -> Result<()> {
    const SUFFIXES: &[&str] = &[
        ".service",
        ".socket",
        ".timer",
        ".target",
        ".path",
        ".mount",
        ".automount",
        ".slice",
        ".scope",
        ".device",
        ".swap",
    ];
    let chars_ok = unit
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ":_.@-\\".contains(c));
    if unit.is_empty()
        || unit.len() > 255
        || !chars_ok
        || unit.starts_with(['.', '-'])
        || unit.contains("..")
        || !SUFFIXES
            .iter()
            .any(|s| unit.ends_with(s) && unit.len() > s.len())
    {
        return Err(Error::usage(format!(
            "`{unit}` is not a systemd unit name (like \"app.service\": letters, digits, \
             ':_.@-', ending in .service, .timer, .socket, ...)"
        )));
    }
    Ok(())
}

/// Options of `svc.install(text, opts)`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallOpts {
    /// The unit file's mode (default 0644): part of the desired state.
    #[serde(default, deserialize_with = "crate::host::de_mode")]
    pub mode: Option<u32>,
}

/// What `systemctl is-enabled` says of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enablement {
    Enabled,
    Disabled,
    Masked,
    /// static, indirect, generated, ...: nothing to enable.
    Other,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceOpts {
    /// Run systemctl/journalctl through `sudo -n`.
    #[serde(default)]
    pub sudo: bool,
    /// A user unit (`systemctl --user`).
    #[serde(default)]
    pub user: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalOpts {
    /// As journalctl takes it: "1 hour ago", "2026-01-01 10:00", "today".
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub lines: Option<u32>,
    /// Stream new entries (`journalctl -f`) until interrupted.
    #[serde(default)]
    pub follow: bool,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub host: Host,
    pub unit: String,
    pub opts: ServiceOpts,
}

impl Service {
    /// A unit on `host`; an invalid unit name is refused here, before any command.
    pub fn new(host: Host, unit: impl Into<String>, opts: ServiceOpts) -> Result<Self> {
        let unit = unit.into();
        validate_unit(&unit).map_err(|e| e.host(host.name()))?;
        Ok(Service { host, unit, opts })
    }

    fn systemctl(&self, verb: &str) -> Command {
        let mut argv = vec!["systemctl".to_string()];
        if self.opts.user {
            argv.push("--user".into());
        }
        argv.extend([verb.to_string(), "--".into(), self.unit.clone()]);
        Command::argv(argv).sudo(self.opts.sudo)
    }

    pub async fn start(&self) -> Result<()> {
        self.host.run(&self.systemctl("start")).await.map(|_| ())
    }
    pub async fn stop(&self) -> Result<()> {
        self.host.run(&self.systemctl("stop")).await.map(|_| ())
    }
    pub async fn restart(&self) -> Result<()> {
        self.host.run(&self.systemctl("restart")).await.map(|_| ())
    }
    /// What `systemctl is-enabled` says (a read-only probe).
    pub async fn enablement(&self) -> Result<Enablement> {
        let out = self
            .host
            .run(&self.systemctl("is-enabled").check(false).quiet().probe())
            .await?;
        Ok(match out.stdout.trim() {
            "enabled" | "enabled-runtime" => Enablement::Enabled,
            "disabled" => Enablement::Disabled,
            "masked" | "masked-runtime" => Enablement::Masked,
            _ => Enablement::Other,
        })
    }
    /// Enable at boot; true if it was not enabled.
    pub async fn enable(&self) -> Result<bool> {
        self.set_enablement(Enablement::Enabled, "enable").await
    }
    /// Disable at boot; true if it was enabled.
    pub async fn disable(&self) -> Result<bool> {
        self.set_enablement(Enablement::Disabled, "disable").await
    }
    /// Mask (cannot be started at all); true if it was not masked.
    pub async fn mask(&self) -> Result<bool> {
        self.set_enablement(Enablement::Masked, "mask").await
    }
    /// Undo a mask; true if it was masked.
    pub async fn unmask(&self) -> Result<bool> {
        let now = self.enablement().await?;
        if now != Enablement::Masked {
            return Ok(false);
        }
        self.host.run(&self.systemctl("unmask")).await?;
        Ok(true)
    }
    async fn set_enablement(&self, want: Enablement, verb: &str) -> Result<bool> {
        let now = self.enablement().await?;
        let done = match want {
            Enablement::Disabled => now != Enablement::Enabled,
            w => now == w,
        };
        if done {
            return Ok(false);
        }
        self.host.run(&self.systemctl(verb)).await?;
        Ok(true)
    }
    pub async fn active(&self) -> Result<bool> {
        self.host
            .test(&self.systemctl("is-active").quiet().probe())
            .await
    }

    /// Where the unit file lives.
    pub fn unit_path(&self) -> String {
        if self.opts.user {
            format!("~/.config/systemd/user/{}", self.unit)
        } else {
            format!("/etc/systemd/system/{}", self.unit)
        }
    }

    /// Write the unit file (atomically, with its mode) and reload systemd only if the text or
    /// the mode changed.
    pub async fn install(&self, unit_text: &str, o: &InstallOpts) -> Result<bool> {
        let path = self.unit_path();
        if self.opts.user {
            self.host
                .mkdir("~/.config/systemd/user", &Default::default())
                .await?;
        }
        let changed = self
            .host
            .write(
                &path,
                unit_text,
                &FileOpts {
                    mode: Some(o.mode.unwrap_or(0o644)),
                    sudo: self.opts.sudo,
                    ..Default::default()
                },
            )
            .await?;
        if changed {
            let mut argv = vec!["systemctl".to_string()];
            if self.opts.user {
                argv.push("--user".into());
            }
            argv.push("daemon-reload".into());
            self.host
                .run(&Command::argv(argv).sudo(self.opts.sudo))
                .await?;
        }
        Ok(changed)
    }

    /// The unit's journal, e.g. since the last restart, to scan for errors.
    pub async fn journal(&self, opts: &JournalOpts) -> Result<String> {
        let mut argv = vec!["journalctl".to_string()];
        if self.opts.user {
            argv.push("--user".into());
        }
        argv.extend(["--no-pager".into(), "-u".into(), self.unit.clone()]);
        if let Some(s) = &opts.since {
            argv.extend(["--since".into(), s.clone()]);
        }
        if let Some(n) = opts.lines {
            argv.extend(["-n".into(), n.to_string()]);
        }
        if opts.follow {
            // Each line reaches the reporter with the host's prefix as it comes.
            argv.push("--follow".into());
            let c = Command::argv(argv)
                .sudo(self.opts.sudo)
                .stream(Some(true))
                .probe();
            return Ok(self.host.run(&c).await?.stdout);
        }
        Ok(self
            .host
            .run(&Command::argv(argv).sudo(self.opts.sudo).quiet().probe())
            .await?
            .stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::validate_unit;

    #[test]
    fn unit_names_that_leave_the_unit_directory_are_refused() {
        for ok in [
            "jacow.service",
            "app@1.service",
            "backup.timer",
            "a-b_c:d.socket",
        ] {
            assert!(validate_unit(ok).is_ok(), "{ok}");
        }
        for bad in [
            "../../../tmp/x.service",
            "x/y.service",
            "app",
            ".service",
            "-x.service",
            "a b.service",
            "",
        ] {
            assert!(validate_unit(bad).is_err(), "{bad}");
        }
    }
}
