//! The SSH tuning a user sets in hoist's environment. A value that is not a whole number above
//! 0 is an error naming the variable, reported before anything runs ([`check`]), instead of
//! being replaced by the default without a word.

use crate::error::{Error, Result};

/// Seconds between keepalive probes of a connection (ServerAliveInterval).
pub const KEEPALIVE: &str = "HOIST_SSH_KEEPALIVE";
/// SSH handshakes in flight at once over a whole run.
pub const HANDSHAKES: &str = "HOIST_SSH_HANDSHAKES";

/// The value of `name`, if it is set and not empty.
pub fn count(name: &str) -> Result<Option<u64>> {
    let value = match std::env::var(name) {
        Err(std::env::VarError::NotPresent) => return Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Error::usage(format!("{name} is not valid UTF-8")));
        }
        Ok(v) if v.trim().is_empty() => return Ok(None),
        Ok(v) => v,
    };
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(Error::usage(format!(
            "{name}={value:?}: expected a whole number above 0"
        ))),
    }
}

/// Check every variable above; the first bad one is the error.
pub fn check() -> Result<()> {
    count(KEEPALIVE)?;
    count(HANDSHAKES)?;
    Ok(())
}
