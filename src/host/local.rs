//! The local machine as a host: each command is a `sh` child process in its own process
//! group, so a timeout or Ctrl-C stops it and everything it started.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command as Process;

use super::tunnel::{self, ForwardTarget, LocalEnd, Tunnel};
use super::{ExecRequest, RawOutput, Transport};
use crate::error::{Error, Result};
use crate::report::Stream;

/// The script travels in the environment (readable only by the same user), not in argv
/// (readable by everyone through `ps`), because it may carry secret env values.
pub(super) const EVAL_FROM_ENV: &str =
    r#"__hoist_s=$HOIST_SCRIPT; unset HOIST_SCRIPT; eval "$__hoist_s""#;

/// The same for scripts too big for one environment variable (128 KiB): they come in a
/// private file, which the command removes before it runs the script.
pub(super) const EVAL_FROM_FILE: &str = r#"__hoist_s=$(cat "$HOIST_SCRIPT_FILE") && rm -f "$HOIST_SCRIPT_FILE" && unset HOIST_SCRIPT_FILE && eval "$__hoist_s""#;

/// How long output is still read once the command has exited, for a background child that
/// keeps its pipes open (`sleep 60 &`): its later output is not this command's, and the next
/// command must not wait for it.
const AFTER_EXIT_GRACE: Duration = Duration::from_millis(50);

/// Scripts up to this size travel in an environment variable (see [`EVAL_FROM_FILE`]).
const ENV_SCRIPT_MAX: usize = 96 * 1024;

/// Commands start in the run's local directory (the project's; see
/// [`crate::services::Services::local_dir`]), so a relative path means the same in a local
/// command as in every other primitive.
pub struct LocalTransport {
    services: crate::services::Services,
}

impl LocalTransport {
    pub fn new(services: crate::services::Services) -> Self {
        LocalTransport { services }
    }

    fn sh(&self) -> Process {
        let mut sh = Process::new("sh");
        // On this machine the "session" a host-side guard watches is hoist itself.
        sh.env("HOIST_SESSION_PID", std::process::id().to_string())
            .env("HOIST_SESSION_LOCAL", "1");
        if let Some(dir) = self.services.local_dir() {
            sh.current_dir(dir);
        }
        sh
    }
}

#[async_trait::async_trait]
impl Transport for LocalTransport {
    async fn exec(&self, req: ExecRequest<'_>) -> Result<RawOutput> {
        let mut sh = self.sh();
        // A big script goes through a file only this user can read; it is removed by the
        // command itself, or here if the command never got to it.
        let _script_file = if req.script.len() > ENV_SCRIPT_MAX {
            let mut f = tempfile::Builder::new()
                .prefix("hoist-script-")
                .tempfile()
                .map_err(|e| Error::wrap("cannot write the script to a temp file", e))?;
            std::io::Write::write_all(&mut f, req.script.as_bytes())
                .map_err(|e| Error::wrap("cannot write the script to a temp file", e))?;
            sh.arg("-c")
                .arg(EVAL_FROM_FILE)
                .env("HOIST_SCRIPT_FILE", f.path());
            Some(f.into_temp_path())
        } else {
            sh.arg("-c")
                .arg(EVAL_FROM_ENV)
                .env("HOIST_SCRIPT", req.script);
            None
        };
        let mut child = sh
            .stdin(if req.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::wrap("cannot start sh", e))?;
        let pid = child.id().unwrap_or(0) as i32;
        let stdin_task = match (req.stdin, child.stdin.take()) {
            (Some(data), Some(mut pipe)) => {
                let data = data.to_vec();
                let file = req.stdin_file.map(std::path::Path::to_path_buf);
                Some(tokio::spawn(async move {
                    // A command that exits without reading its stdin is not an error.
                    super::feed::feed(&mut pipe, &data, file.as_deref()).await;
                }))
            }
            _ => None,
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = req.sink;
        let (exited_tx, exited) = tokio::sync::watch::channel(false);
        let work = async {
            let wait = async {
                let status = child.wait().await;
                let _ = exited_tx.send(true);
                status
            };
            let (status, out, err) = tokio::join!(
                wait,
                pump(
                    stdout,
                    Stream::Stdout,
                    sink,
                    exited.clone(),
                    req.keep_stdout
                ),
                pump(stderr, Stream::Stderr, sink, exited.clone(), true)
            );
            Ok::<_, std::io::Error>((status?, out?, err?))
        };
        let outcome = super::race::race(work, req.timeout, &req.cancel).await;
        if let Some(t) = stdin_task {
            t.abort();
        }
        match outcome {
            super::race::Race::Done(r) => {
                let (status, stdout, stderr) = r.map_err(|e| Error::wrap("local command", e))?;
                use std::os::unix::process::ExitStatusExt;
                let code = status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
                Ok(RawOutput {
                    planned: false,
                    code,
                    stdout,
                    stderr,
                    ms: 0,
                })
            }
            super::race::Race::TimedOut(t) => {
                kill_group(pid).await;
                Err(Error::failed(format!(
                    "timed out after {}s; the command was killed",
                    t.as_secs_f64()
                )))
            }
            super::race::Race::Cancelled => {
                kill_group(pid).await;
                Err(Error::cancelled())
            }
        }
    }

    async fn forward(&self, local: LocalEnd, target: &ForwardTarget) -> Result<Tunnel> {
        tunnel::proxy(local, target.clone()).await
    }

    async fn connect(&self) -> Result<()> {
        Ok(())
    }

    async fn close(&self) {}

    async fn interactive(&self, script: &str) -> Result<i32> {
        let status = self
            .sh()
            .arg("-c")
            .arg(EVAL_FROM_ENV)
            .env("HOIST_SCRIPT", script)
            .stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .await
            .map_err(|e| Error::wrap("cannot start sh", e))?;
        use std::os::unix::process::ExitStatusExt;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }
}

/// Read a pipe to its end, or — once the command has exited — until it stays quiet for
/// [`AFTER_EXIT_GRACE`]: everything the command wrote before it exited is in the pipe by then,
/// and a background child still holding the pipe must not keep this command running.
async fn pump<R: AsyncRead + Unpin>(
    mut r: R,
    stream: Stream,
    sink: Option<&super::LineSink>,
    mut exited: tokio::sync::watch::Receiver<bool>,
    keep: bool,
) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = if *exited.borrow() {
            match tokio::time::timeout(AFTER_EXIT_GRACE, r.read(&mut buf)).await {
                Ok(n) => n?,
                Err(_) => return Ok(all),
            }
        } else {
            tokio::select! {
                n = r.read(&mut buf) => n?,
                changed = exited.changed() => {
                    if changed.is_err() {
                        return Ok(all); // the waiter is gone: the command could not be awaited
                    }
                    continue;
                }
            }
        };
        if n == 0 {
            return Ok(all);
        }
        if let Some(s) = sink {
            s.feed(stream, &buf[..n]);
        }
        if keep {
            all.extend_from_slice(&buf[..n]);
        }
    }
}

/// TERM the whole process group, then KILL what is left.
async fn kill_group(pid: i32) {
    if pid <= 0 {
        return;
    }
    // SAFETY: plain syscalls on a process group we created (process_group(0) above).
    unsafe {
        libc::killpg(pid, libc::SIGTERM);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
}
