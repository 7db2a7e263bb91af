//! Which compose tool a host has: the v2 plugin (`docker compose`) where present, else v1
//! (`docker-compose`, what Debian ships). Detected with one command, once per host.

use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Tool {
    /// The `docker compose` CLI plugin (Go).
    V2,
    /// The standalone `docker-compose` (Python, 1.x).
    V1,
}

impl Tool {
    /// The program words that start every command.
    pub fn program(self) -> &'static [&'static str] {
        match self {
            Tool::V2 => &["docker", "compose"],
            Tool::V1 => &["docker-compose"],
        }
    }

    /// The short name scripts use: "v1" or "v2" (what [`Tool::parse`] reads).
    pub fn tag(self) -> &'static str {
        match self {
            Tool::V2 => "v2",
            Tool::V1 => "v1",
        }
    }

    /// How errors name it.
    pub fn label(self) -> &'static str {
        match self {
            Tool::V2 => "compose v2 (docker compose)",
            Tool::V1 => "compose v1 (docker-compose)",
        }
    }

    pub fn parse(text: &str) -> Result<Tool> {
        match text {
            "v2" | "2" => Ok(Tool::V2),
            "v1" | "1" => Ok(Tool::V1),
            other => Err(Error::usage(format!(
                "compose tool `{other}`: write \"v1\" (docker-compose) or \"v2\" (docker compose)"
            ))),
        }
    }
}

/// What the host remembers the detected tool as.
const MEMO: &str = "compose-tool";

/// The tool on `host`, detected on first use and remembered by the host (once per run).
pub async fn detect(host: &Host) -> Result<Tool> {
    if let Some(t) = host.recall(MEMO) {
        return Tool::parse(&t);
    }
    let probe = Command::shell(
        "if docker compose version >/dev/null 2>&1; then echo v2; \
         elif command -v docker-compose >/dev/null 2>&1; then echo v1; else echo none; fi",
    )
    .quiet();
    let out = host.run(&probe).await?;
    let tool = match out.stdout.trim() {
        "none" => {
            return Err(Error::failed("no compose tool on this host")
                .host(host.name())
                .hint("install the compose v2 plugin (docker-compose-plugin) or compose v1 (apt-get install docker-compose)"));
        }
        found => Tool::parse(found)?,
    };
    host.remember(MEMO, tool.tag());
    Ok(tool)
}
