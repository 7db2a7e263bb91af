//! `secret_cmd(argv)`: a secret from a password manager — `pass show`, `op read`, `bw get`,
//! `vault kv get`, `sops -d`, `aws secretsmanager get-secret-value` — one primitive for all:
//! the local command runs without a shell, its stdout (trailing newline removed) becomes a
//! [`Secret`]. A failure shows the command, its exit code and stderr, never stdout.

use std::process::Stdio;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Run `argv` locally and return its stdout as a secret.
pub fn secret_from_command(argv: &[String]) -> Result<Secret> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Error::usage(
            "secret_cmd(): give the command as an array, e.g. [\"pass\", \"show\", \"lab/registry\"]",
        ));
    };
    let shown = crate::command::join(argv);
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::failed(format!("secret_cmd(): cannot run `{shown}`: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Error::failed(format!(
            "secret_cmd(): `{shown}` failed (exit code {}): {}",
            out.status
                .code()
                .map_or_else(|| "killed".to_string(), |c| c.to_string()),
            tail.join("\n")
        )));
    }
    let value = String::from_utf8(out.stdout).map_err(|_| {
        Error::failed(format!(
            "secret_cmd(): `{shown}` printed something that is not text"
        ))
    })?;
    let value = value.strip_suffix('\n').unwrap_or(&value);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        return Err(Error::failed(format!(
            "secret_cmd(): `{shown}` printed nothing"
        )));
    }
    Ok(Secret::new(value))
}
