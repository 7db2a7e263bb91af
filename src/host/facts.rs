//! A host's basic facts, gathered in one command.

use super::Host;
use crate::command::Command;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Facts {
    pub hostname: String,
    /// PRETTY_NAME from os-release, else the kernel name.
    pub os: String,
    pub arch: String,
    pub kernel: String,
    pub cpus: i64,
    pub mem_mb: i64,
    pub user: String,
}

const SCRIPT: &str = r#"hostname 2>/dev/null || uname -n
( . /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" ) || uname -s
uname -m
uname -r
nproc 2>/dev/null || getconf _NPROCESSORS_ONLN
awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo 2>/dev/null || echo 0
id -un"#;

impl Host {
    pub async fn facts(&self) -> Result<Facts> {
        let out = self.run(&Command::shell(SCRIPT).quiet().probe()).await?;
        let l: Vec<&str> = out.stdout.lines().map(str::trim).collect();
        let get = |i: usize| l.get(i).copied().unwrap_or_default().to_string();
        Ok(Facts {
            hostname: get(0),
            os: get(1),
            arch: get(2),
            kernel: get(3),
            cpus: get(4).parse().unwrap_or(0),
            mem_mb: get(5).parse().unwrap_or(0),
            user: get(6),
        })
    }
}
