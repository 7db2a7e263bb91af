//! The options a script gives a command (`h.run(cmd, #{sudo, cwd, env, stdin, timeout,
//! check, stream, capture, probe})`), typed once here beside [`Command`], which they shape.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::sensitive::SecretOr;

/// Options of `h.run`, `h.test`, `h.capture` (a command's options).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandOpts {
    #[serde(default)]
    pub sudo: bool,
    #[serde(default)]
    pub cwd: Option<String>,
    /// Values may be secrets: they reach the command's environment, never its argv.
    #[serde(default)]
    pub env: BTreeMap<String, SecretOr>,
    #[serde(default)]
    pub stdin: Option<SecretOr>,
    /// Seconds.
    #[serde(default, deserialize_with = "crate::options::opt_float")]
    pub timeout: Option<f64>,
    #[serde(default)]
    pub check: Option<bool>,
    /// Show output lines as they arrive (default: with -v and in the REPL).
    #[serde(default)]
    pub stream: Option<bool>,
    /// Keep stdout for the result (default true); `false` only streams it, in bounded memory.
    #[serde(default)]
    pub capture: Option<bool>,
    /// A read-only command: it runs in a dry run too (see `crate::effect`).
    #[serde(default)]
    pub probe: bool,
}

impl CommandOpts {
    /// `c` with these options; `what` names the call (`h.run()`) in an error.
    pub fn apply(self, c: Command, what: &str) -> Result<Command> {
        let mut c = c
            .sudo(self.sudo)
            .check(self.check.unwrap_or(true))
            .stream(self.stream)
            .capture(self.capture.unwrap_or(true));
        c.probe = self.probe;
        if let Some(cwd) = self.cwd {
            c = c.cwd(cwd);
        }
        if let Some(t) = self.timeout {
            if !(t > 0.0 && t.is_finite()) {
                return Err(Error::usage(format!(
                    "{what}: timeout must be a positive number of seconds"
                )));
            }
            c = c.timeout(Some(Duration::from_secs_f64(t)));
        }
        for (k, v) in self.env {
            c = match v {
                SecretOr::Plain(s) => c.env(k.as_str(), s),
                SecretOr::Secret(s) => c.env_secret(k.as_str(), s),
            };
        }
        if let Some(stdin) = self.stdin {
            c = match stdin {
                SecretOr::Plain(s) => c.stdin(s.into_bytes()),
                SecretOr::Secret(s) => c.stdin_secret(s),
            };
        }
        Ok(c)
    }
}
