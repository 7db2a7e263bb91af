//! SSH hosts over the system OpenSSH client (so ~/.ssh/config, agents and ProxyJump behave as
//! users expect), through one ControlMaster connection per host per run, spoken to with the
//! native mux protocol. Commands go through long-lived framed shells ([`super::shell`]);
//! a fresh channel is opened only for large stdin.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openssh::{ChildStderr, ChildStdin, ChildStdout, ForwardType, Session, Socket, Stdio};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::race::{Race, race};
use super::shell::{self, INLINE_STDIN_MAX, Shell};
use super::spec::HostSpec;
use super::ssh_options::SshOptions;
use super::tunnel::{ForwardTarget, LocalEnd, Tunnel};
use super::{ExecRequest, RawOutput, Transport};
use crate::error::{Error, Result};

/// How long a new shell channel may take to answer its preamble.
const SHELL_START_MAX: Duration = Duration::from_secs(30);

struct OpenShell {
    shell: Shell<ChildStdin, ChildStdout, ChildStderr>,
    /// Keeps the channel open.
    _child: openssh::Child<Arc<Session>>,
}

pub struct SshTransport {
    spec: HostSpec,
    opts: SshOptions,
    session: Mutex<Option<Arc<Session>>>,
    /// Idle shells; a command takes one (or opens one) and puts it back when done, so
    /// concurrent use of one host opens more shells instead of waiting.
    shells: std::sync::Mutex<Vec<OpenShell>>,
    /// Shells set aside by [`SshTransport::retire`], drained until the host is closed.
    retired: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl SshTransport {
    pub fn new(spec: HostSpec, opts: SshOptions) -> Self {
        SshTransport {
            spec,
            opts,
            session: Mutex::new(None),
            shells: std::sync::Mutex::new(Vec::new()),
            retired: std::sync::Mutex::new(Vec::new()),
        }
    }

    async fn session(&self) -> Result<Arc<Session>> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let session = self.open_session().await?;
        *guard = Some(session.clone());
        Ok(session)
    }

    /// Connect, and open the first shell at once: a master lives only while a channel holds
    /// it ([`super::ssh_master::LINGER`]), and a host in use always has one.
    async fn open_session(&self) -> Result<Arc<Session>> {
        let session = Arc::new(super::ssh_master::launch(&self.spec, &self.opts).await?);
        let first = self.open_shell(&session).await?;
        self.shells.lock().expect("shell pool").push(first);
        Ok(session)
    }

    async fn open_shell(&self, session: &Arc<Session>) -> Result<OpenShell> {
        let mut child = session
            .clone()
            .arc_raw_command("sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .await
            .map_err(|e| Error::wrap("cannot open a shell channel", e))?;
        let stdin = child.stdin().take().expect("piped");
        let stdout = child.stdout().take().expect("piped");
        let stderr = child.stderr().take().expect("piped");
        widen_pipe(&stdout);
        // A shell that never answers (a login script waiting for input) must not hang the run.
        let shell = tokio::time::timeout(SHELL_START_MAX, Shell::start(stdin, stdout, stderr))
            .await
            .map_err(|_| {
                Error::failed(format!(
                    "the remote shell did not start within {}s (does a login script of the \
                     account wait for input?)",
                    SHELL_START_MAX.as_secs()
                ))
            })??;
        Ok(OpenShell {
            shell,
            _child: child,
        })
    }

    /// Stop the command a shell is running: TERM to its process group, KILL if it has not ended
    /// within a second. Returns what it printed until its end, or nothing if the shell did not
    /// say within a few seconds (then it is not used again).
    async fn stop_running(
        &self,
        open: &mut OpenShell,
        sink: Option<&super::sink::LineSink>,
        keep_stdout: bool,
    ) -> Option<shell::Framed> {
        open.shell.stop(shell::Stop::Term).await.ok()?;
        let ended = tokio::time::timeout(
            Duration::from_secs(1),
            open.shell.collect(sink, keep_stdout),
        )
        .await;
        match ended {
            Ok(framed) => framed.ok(),
            Err(_) => {
                open.shell.stop(shell::Stop::Kill).await.ok()?;
                self.after_kill(open.shell.collect(sink, keep_stdout)).await
            }
        }
    }

    /// Kill the command of a one-shot channel (and its process group), via a fresh channel.
    async fn kill_running(&self, session: &Arc<Session>, dir: &str) {
        let pidfile = format!("{dir}/pid");
        let script = format!(
            "read p 2>/dev/null < {f} || exit 0; kill -TERM -$p 2>/dev/null || kill -TERM $p 2>/dev/null; \
             for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $p 2>/dev/null || exit 0; sleep 0.1; done; \
             kill -KILL -$p 2>/dev/null || kill -KILL $p 2>/dev/null; exit 0",
            f = crate::command::quote(&pidfile)
        );
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            session.command("sh").arg("-c").arg(script).status(),
        )
        .await;
    }

    /// Large stdin: a fresh channel whose first stdin line carries the script (base64, so it
    /// is never in argv), followed by the data. Framed like the shell's commands, so a
    /// background child cannot hold the result back and a timeout can kill the command.
    async fn exec_fresh(&self, session: &Arc<Session>, req: &ExecRequest<'_>) -> Result<RawOutput> {
        use base64::Engine;
        let nonce = shell::new_nonce();
        let mut child = session
            .clone()
            .arc_raw_command(format!(
                "sh -c {}",
                crate::command::quote(&shell::one_shot(&nonce))
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .await
            .map_err(|e| Error::wrap("cannot open a channel", e))?;
        let mut stdin = child.stdin().take().expect("piped");
        let mut stdout = shell::Reader::new(child.stdout().take().expect("piped"));
        let mut stderr = shell::Reader::new(child.stderr().take().expect("piped"));
        let mut head = base64::engine::general_purpose::STANDARD
            .encode(req.script)
            .into_bytes();
        head.push(b'\n');
        let data = req.stdin.unwrap_or_default();
        stdin
            .write_all(&head)
            .await
            .map_err(|e| Error::wrap("connection lost while sending a command", e))?;
        let dir = stdout
            .read_line_starting(&format!("{nonce} R "))
            .await?
            .trim()
            .to_string();
        let feed = async {
            // A command may exit without reading all its input: not an error.
            super::feed::feed(&mut stdin, data, req.stdin_file).await;
            drop(stdin);
        };
        let read = async {
            let (framed, ()) = tokio::join!(
                shell::read_frame(
                    &mut stdout,
                    &mut stderr,
                    &nonce,
                    1,
                    req.sink,
                    req.keep_stdout
                ),
                feed
            );
            framed
        };
        let outcome = race(read, req.timeout, &req.cancel).await;
        let out = match outcome {
            Race::Done(r) => r?,
            Race::TimedOut(t) => {
                self.kill_running(session, &dir).await;
                let rest = self
                    .after_kill(shell::read_frame(
                        &mut stdout,
                        &mut stderr,
                        &nonce,
                        1,
                        req.sink,
                        req.keep_stdout,
                    ))
                    .await;
                return Err(timed_out(t, rest));
            }
            Race::Cancelled => {
                self.kill_running(session, &dir).await;
                return Err(Error::cancelled());
            }
        };
        // Done: the channel is closed without waiting for children that still hold it.
        drop(child);
        Ok(RawOutput {
            planned: false,
            code: out.code,
            stdout: out.stdout,
            stderr: out.stderr,
            ms: 0,
        })
    }

    /// After a killed command: read what it printed until its end marker, briefly.
    async fn after_kill(
        &self,
        rest: impl std::future::Future<Output = Result<shell::Framed>>,
    ) -> Option<shell::Framed> {
        tokio::time::timeout(Duration::from_secs(5), rest)
            .await
            .ok()
            .and_then(|r| r.ok())
    }

    /// A shell from the pool, or a new one (reconnecting once if the master died).
    async fn take_shell(&self) -> Result<(Arc<Session>, OpenShell)> {
        let session = self.session().await?;
        let idle = self.shells.lock().expect("shell pool").pop();
        if let Some(s) = idle {
            return Ok((session, s));
        }
        match self.open_shell(&session).await {
            Ok(s) => Ok((session, s)),
            Err(e) => {
                if session.check().await.is_ok() {
                    return Err(e);
                }
                // The master died (dropped connection): reconnect once.
                let session = self.reconnect().await?;
                let s = self.open_shell(&session).await?;
                Ok((session, s))
            }
        }
    }

    /// Forget the dead connection and every shell on it; connect again.
    async fn reconnect(&self) -> Result<Arc<Session>> {
        self.shells.lock().expect("shell pool").clear();
        *self.session.lock().await = None;
        self.session().await
    }

    /// A shell whose command left a child holding its output pipes is not used again: its
    /// pipes are read and dropped until hoist closes the host, so the child neither blocks on
    /// a full pipe nor writes into a later command's result.
    fn retire(&self, mut open: OpenShell) {
        let drain = tokio::spawn(async move {
            open.shell.drain().await;
            drop(open);
        });
        self.retired.lock().expect("retired shells").push(drain);
    }
}
#[async_trait::async_trait]
impl Transport for SshTransport {
    async fn exec(&self, req: ExecRequest<'_>) -> Result<RawOutput> {
        if req.stdin_file.is_some() || req.stdin.is_some_and(|s| s.len() > INLINE_STDIN_MAX) {
            let session = self.session().await?;
            return self.exec_fresh(&session, &req).await;
        }
        let (mut session, mut open) = self.take_shell().await?;
        if let Err(e) = open.shell.send(req.script, req.stdin).await {
            // A pooled shell whose connection died since its last command: nothing of this
            // one left, so it is sent once more on a new connection. Never otherwise.
            if !shell::never_sent(&e) {
                return Err(e);
            }
            session = self.reconnect().await?;
            open = self.open_shell(&session).await?;
            open.shell.send(req.script, req.stdin).await?;
        }
        let outcome = race(
            open.shell.collect(req.sink, req.keep_stdout),
            req.timeout,
            &req.cancel,
        )
        .await;
        match outcome {
            Race::Done(Ok(out)) if out.shell_died => {
                // The command may still run and print: its shell is drained, never reused.
                self.retire(open);
                Err(shell_died(&self.spec.display_name(), out.code))
            }
            Race::Done(Ok(out)) => {
                if out.left_children {
                    self.retire(open);
                } else {
                    self.shells.lock().expect("shell pool").push(open);
                }
                Ok(RawOutput {
                    planned: false,
                    code: out.code,
                    stdout: out.stdout,
                    stderr: out.stderr,
                    ms: 0,
                })
            }
            Race::Done(Err(e)) => {
                // The shell died under the command: the connection is suspect, drop it.
                if session.check().await.is_err() {
                    *self.session.lock().await = None;
                }
                Err(e)
            }
            Race::TimedOut(t) => {
                let rest = self
                    .stop_running(&mut open, req.sink, req.keep_stdout)
                    .await;
                if rest.is_some() && !open.shell.broken {
                    self.shells.lock().expect("shell pool").push(open);
                }
                Err(timed_out(t, rest))
            }
            Race::Cancelled => {
                self.stop_running(&mut open, req.sink, req.keep_stdout)
                    .await;
                Err(Error::cancelled())
            }
        }
    }

    async fn forward(&self, local: LocalEnd, target: &ForwardTarget) -> Result<Tunnel> {
        let session = self.session().await?;
        let (listen, port, path) = match local {
            LocalEnd::Tcp(p) => {
                let port = if p == 0 {
                    super::tunnel::free_port()?
                } else {
                    p
                };
                (
                    Socket::TcpSocket {
                        host: "127.0.0.1".into(),
                        port,
                    },
                    Some(port),
                    None,
                )
            }
            LocalEnd::Unix(path) => (
                Socket::UnixSocket {
                    path: path.clone().into(),
                },
                None,
                Some(path),
            ),
        };
        let connect = match target {
            ForwardTarget::Tcp { host, port } => Socket::TcpSocket {
                host: host.clone().into(),
                port: *port,
            },
            ForwardTarget::Unix(p) => Socket::UnixSocket {
                path: PathBuf::from(p).into(),
            },
        };
        session
            .request_port_forward(ForwardType::Local, listen.clone(), connect.clone())
            .await
            .map_err(|e| {
                Error::failed(format!(
                    "cannot forward {} to {target}: {e}",
                    describe(&listen)
                ))
            })?;
        let listen = socket_owned(listen);
        let connect = socket_owned(connect);
        let closer: super::tunnel::Closer = Box::new(move || {
            Box::pin(async move {
                let _ = session
                    .close_port_forward(ForwardType::Local, listen, connect)
                    .await;
            })
        });
        Ok(Tunnel::new(port, path, target.clone(), closer))
    }

    async fn connect(&self) -> Result<()> {
        self.session().await.map(|_| ())
    }

    async fn interactive(&self, script: &str) -> Result<i32> {
        let session = self.session().await?;
        // The script may carry secret env values: it goes into a private file on the host
        // (removed by its own first line) rather than into ssh's argv.
        let file = format!("/tmp/.hoist-tty-{:016x}", rand::random::<u64>());
        let body = format!("rm -f -- {f}\n{script}\n", f = crate::command::quote(&file));
        let put = format!("umask 077 && cat > {}", crate::command::quote(&file));
        let req = ExecRequest {
            script: &put,
            stdin: Some(body.as_bytes()),
            stdin_file: None,
            timeout: Some(Duration::from_secs(30)),
            cancel: tokio_util::sync::CancellationToken::new(),
            sink: None,
            keep_stdout: true,
        };
        let out = self.exec(req).await?;
        if out.code != 0 {
            return Err(Error::failed("cannot prepare the interactive command")
                .exit_code(out.code)
                .stderr(&String::from_utf8_lossy(&out.stderr)));
        }
        // A terminal needs its own channel: `ssh -tt` through the same ControlMaster.
        let mut ssh = tokio::process::Command::new(super::ssh_master::ssh_program());
        ssh.arg("-tt")
            .arg("-S")
            .arg(session.control_socket())
            .args(["-o", "ControlMaster=no", "-o", "LogLevel=ERROR"]);
        if let Some(cfg) = &self.opts.config_file {
            ssh.arg("-F").arg(cfg);
        }
        if let Some(p) = self.spec.port {
            ssh.arg("-p").arg(p.to_string());
        }
        if let Some(u) = &self.spec.user {
            ssh.arg("-l").arg(u);
        }
        let status = ssh
            .arg("--")
            .arg(&self.spec.host)
            .arg(format!("sh {}", crate::command::quote(&file)))
            .stdin(std::process::Stdio::inherit())
            .stdout(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit())
            .status()
            .await
            .map_err(|e| Error::wrap("cannot start ssh for the terminal", e))?;
        Ok(status.code().unwrap_or(-1))
    }

    async fn close(&self) {
        let retired: Vec<_> = self
            .retired
            .lock()
            .expect("retired shells")
            .drain(..)
            .collect();
        for drain in retired {
            drain.abort();
            let _ = drain.await;
        }
        self.shells.lock().expect("shell pool").clear();
        if let Some(s) = self.session.lock().await.take()
            && let Ok(s) = Arc::try_unwrap(s)
        {
            let _ = s.close().await;
        }
    }
}

/// The error for a command whose shell on the host was killed under it (`kill -9 $PPID`, an
/// OOM kill): its end is unknown, so it is a failure whatever the command would have said.
fn shell_died(host: &str, status: i32) -> Error {
    let how = match status - 128 {
        9 => " (SIGKILL)".to_string(),
        15 => " (SIGTERM)".to_string(),
        n if n > 0 => format!(" (signal {n})"),
        _ => String::new(),
    };
    Error::failed(format!(
        "the command's shell died on {host}{how} before the command ended: its exit code is \
         unknown, and it may still be running there"
    ))
    .host(host)
}

/// The error for a command killed by its timeout, with what it printed until then.
fn timed_out(t: Duration, rest: Option<shell::Framed>) -> Error {
    let mut e = Error::failed(format!(
        "timed out after {}s; the remote command was killed",
        t.as_secs_f64()
    ));
    if let Some(r) = rest {
        e = e.stderr(&String::from_utf8_lossy(&r.stderr));
    }
    e
}

fn socket_owned(s: Socket<'_>) -> Socket<'static> {
    match s {
        Socket::TcpSocket { host, port } => Socket::TcpSocket {
            host: host.into_owned().into(),
            port,
        },
        Socket::UnixSocket { path } => Socket::UnixSocket {
            path: path.into_owned().into(),
        },
    }
}

fn describe(s: &Socket<'_>) -> String {
    match s {
        Socket::TcpSocket { host, port } => format!("{host}:{port}"),
        Socket::UnixSocket { path } => path.display().to_string(),
    }
}

/// Bytes the master may write ahead of hoist into a shell's stdout pipe.
const PIPE_ROOM: libc::c_int = 256 * 1024;

/// Give the pipe a shell's output arrives through more room than the kernel's 64 KiB, so the
/// master hands over big output in fewer, larger pieces (fewer wake-ups on both sides). Best
/// effort: a user over the kernel's pipe budget keeps the default. 256 KiB, not the 1 MiB
/// maximum, so a fan-out to a hundred hosts stays well inside an unprivileged user's budget.
fn widen_pipe(pipe: &impl std::os::unix::io::AsRawFd) {
    // SAFETY: fcntl on a pipe descriptor this process owns; failure changes nothing.
    unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_ROOM) };
}
