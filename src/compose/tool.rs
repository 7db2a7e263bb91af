//! Which compose tool a host has: the v2 plugin (`docker compose`) where present, else v1
//! (`docker-compose`, what Debian ships). Detected with one command, once per host.

use std::collections::HashMap;
use std::sync::Mutex;

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

fn cache() -> &'static Mutex<HashMap<String, Tool>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<String, Tool>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The tool on `host`, detected on first use and remembered for the host's name.
pub async fn detect(host: &Host) -> Result<Tool> {
    if let Some(t) = cache().lock().expect("tool cache").get(host.name()) {
        return Ok(*t);
    }
    let probe = Command::shell(
        "if docker compose version >/dev/null 2>&1; then echo v2; \
         elif command -v docker-compose >/dev/null 2>&1; then echo v1; else echo none; fi",
    )
    .quiet();
    let out = host.run(&probe).await?;
    let tool = match out.stdout.trim() {
        "v2" => Tool::V2,
        "v1" => Tool::V1,
        _ => {
            return Err(Error::failed("no compose tool on this host")
                .host(host.name())
                .hint("install the compose v2 plugin (docker-compose-plugin) or compose v1 (apt-get install docker-compose)"));
        }
    };
    cache()
        .lock()
        .expect("tool cache")
        .insert(host.name().to_string(), tool);
    Ok(tool)
}
