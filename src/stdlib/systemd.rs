//! A systemd unit on a host (runbook 002: stop, pull, start, read the journal).

use crate::command::Command;
use crate::error::Result;
use crate::host::{FileOpts, Host};

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
}

#[derive(Debug, Clone)]
pub struct Service {
    pub host: Host,
    pub unit: String,
    pub opts: ServiceOpts,
}

impl Service {
    pub fn new(host: Host, unit: impl Into<String>, opts: ServiceOpts) -> Self {
        Service {
            host,
            unit: unit.into(),
            opts,
        }
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
    pub async fn enable(&self) -> Result<()> {
        self.host.run(&self.systemctl("enable")).await.map(|_| ())
    }
    pub async fn active(&self) -> Result<bool> {
        self.host.test(&self.systemctl("is-active").quiet()).await
    }

    /// Where the unit file lives.
    pub fn unit_path(&self) -> String {
        if self.opts.user {
            format!("~/.config/systemd/user/{}", self.unit)
        } else {
            format!("/etc/systemd/system/{}", self.unit)
        }
    }

    /// Write the unit file (atomically) and reload systemd if it changed.
    pub async fn install(&self, unit_text: &str) -> Result<bool> {
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
                    mode: Some(0o644),
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
        Ok(self
            .host
            .run(&Command::argv(argv).sudo(self.opts.sudo).quiet())
            .await?
            .stdout)
    }
}
