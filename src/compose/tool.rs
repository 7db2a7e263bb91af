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
    /// A standalone `docker-compose` binary that is compose v2 (Go): v2's features.
    V2Standalone,
}

impl Tool {
    /// The program words that start every command.
    pub fn program(self) -> &'static [&'static str] {
        match self {
            Tool::V2 => &["docker", "compose"],
            Tool::V1 | Tool::V2Standalone => &["docker-compose"],
        }
    }

    /// The short name scripts use: "v1" or "v2" (what [`Tool::parse`] reads).
    pub fn tag(self) -> &'static str {
        match self {
            Tool::V2 | Tool::V2Standalone => "v2",
            Tool::V1 => "v1",
        }
    }

    /// What the host remembers (also tells the standalone v2 binary apart).
    fn memo(self) -> &'static str {
        match self {
            Tool::V2Standalone => "v2-standalone",
            other => other.tag(),
        }
    }

    /// How errors name it.
    pub fn label(self) -> &'static str {
        match self {
            Tool::V2 => "compose v2 (docker compose)",
            Tool::V1 => "compose v1 (docker-compose)",
            Tool::V2Standalone => "compose v2 (standalone docker-compose)",
        }
    }

    pub fn parse(text: &str) -> Result<Tool> {
        match text {
            "v2" | "2" => Ok(Tool::V2),
            "v1" | "1" => Ok(Tool::V1),
            "v2-standalone" => Ok(Tool::V2Standalone),
            other => Err(Error::usage(format!(
                "compose tool `{other}`: write \"v1\" (docker-compose) or \"v2\" (docker compose)"
            ))),
        }
    }
}

/// The detection: the v2 plugin; else a `docker-compose` on PATH, which is v1 when its
/// version says 1.x (Debian's) and v2 otherwise (the Go binary installed standalone).
pub const PROBE: &str = "if docker compose version >/dev/null 2>&1; then echo v2; \
     elif command -v docker-compose >/dev/null 2>&1; then \
       v=$(docker-compose version --short 2>/dev/null); \
       case \"$v\" in 1.*|'') echo v1 ;; *) echo v2-standalone ;; esac; \
     else echo none; fi";

/// What the host remembers the detected tool as.
const MEMO: &str = "compose-tool";

/// The tool on `host`, detected on first use and remembered by the host (once per run).
pub async fn detect(host: &Host) -> Result<Tool> {
    if let Some(t) = host.recall(MEMO) {
        return Tool::parse(&t);
    }
    let probe = Command::shell(PROBE).quiet().probe();
    let out = host.run(&probe).await?;
    let tool = match out.stdout.trim() {
        "none" => {
            return Err(Error::failed("no compose tool on this host")
                .host(host.name())
                .hint("install the compose v2 plugin (docker-compose-plugin) or compose v1 (apt-get install docker-compose)"));
        }
        found => Tool::parse(found)?,
    };
    host.remember(MEMO, tool.memo());
    Ok(tool)
}
