//! Hosts: one [`Host`] type for the local machine and SSH servers. A host knows how to run a
//! shell script ([`Transport::exec`]) and forward a port ([`Transport::forward`]); everything
//! else — files, templates, facts, and the docker/compose/mount primitives — is written once
//! on top of that, so it works the same on every host.

mod edit_file;
mod edits;
mod facts;
mod feed;
mod files;
mod launch;
mod local;
mod race;
mod shell;
mod sink;
mod spec;
mod ssh;
mod ssh_env;
mod ssh_master;
mod ssh_options;
mod tunnel;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::report::Event;
use crate::services::Services;

pub use edit_file::FileEdit;
pub use edits::RemoveOpts;
pub use facts::Facts;
pub use files::{FileOpts, MkdirOpts, de_mode};
pub use sink::LineSink;
pub use spec::HostSpec;
pub use ssh_env::check as check_ssh_env;
pub use ssh_master::LINGER as SSH_MASTER_LINGER;
pub use ssh_options::SshOptions;
pub use tunnel::{ForwardTarget, Tunnel};

/// What a finished command left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub ms: u64,
    /// stdout's exact bytes when they are not UTF-8 text (`stdout` then holds U+FFFD in
    /// place of each invalid sequence); `None` when `stdout` is exact. See
    /// [`Output::stdout_bytes`].
    pub stdout_raw: Option<Vec<u8>>,
    /// A placeholder: a dry run did not run this command (a change), so its code is 0 and
    /// its output empty; a script that reads it makes the plan uncertain from there.
    pub planned: bool,
}

impl Output {
    /// Decode a command's bytes: text as it is (no copy), and binary stdout kept as well,
    /// so a program that prints bytes (an image, a key, `head -c 256 /dev/urandom`) can be
    /// read back exactly.
    pub fn from_raw(code: i32, stdout: Vec<u8>, stderr: Vec<u8>, ms: u64) -> Output {
        let (stdout, stdout_raw) = match String::from_utf8(stdout) {
            Ok(s) => (s, None),
            Err(e) => {
                let bytes = e.into_bytes();
                (String::from_utf8_lossy(&bytes).into_owned(), Some(bytes))
            }
        };
        let stderr = text(stderr);
        Output {
            code,
            stdout,
            stderr,
            ms,
            stdout_raw,
            planned: false,
        }
    }
    pub fn ok(&self) -> bool {
        self.code == 0
    }
    /// stdout exactly as the command wrote it.
    pub fn stdout_bytes(&self) -> &[u8] {
        self.stdout_raw.as_deref().unwrap_or(self.stdout.as_bytes())
    }
}

/// Decode output as UTF-8 without copying it when it is valid (big outputs stay one copy).
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Raw bytes of a finished command, before decoding.
#[derive(Debug, Clone, Default)]
pub struct RawOutput {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub ms: u64,
    /// See [`Output::planned`].
    pub planned: bool,
}

/// One request to a transport: a rendered script plus how to feed and watch it.
pub struct ExecRequest<'a> {
    /// Shell text to run (may contain secret values: never shown).
    pub script: &'a str,
    pub stdin: Option<&'a [u8]>,
    /// A local file fed after `stdin`, in pieces (uploads: never whole in memory).
    pub stdin_file: Option<&'a std::path::Path>,
    pub timeout: Option<Duration>,
    pub cancel: CancellationToken,
    /// Where output lines go as they arrive; `None` for quiet transfers.
    pub sink: Option<&'a LineSink>,
    /// Keep stdout for the result; without, it only streams (bounded memory).
    pub keep_stdout: bool,
}

/// How a host runs things. Implemented by the local machine and by SSH.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Run `script` with `sh`, returning its exit code and output. A timeout or cancellation
    /// kills the process (and its children) and returns an error.
    async fn exec(&self, req: ExecRequest<'_>) -> Result<RawOutput>;
    /// Forward a local TCP port (0 = pick one) or a local unix socket to a target on the host.
    async fn forward(&self, local: tunnel::LocalEnd, target: &ForwardTarget) -> Result<Tunnel>;
    /// Make sure the host is reachable (connect if not yet connected).
    async fn connect(&self) -> Result<()>;
    /// Close connections; later calls reconnect.
    async fn close(&self);
    /// Run `script` with this process's terminal attached (a TTY on the host, e.g. a shell
    /// in a container); returns the exit code. The one place a fresh channel is needed.
    async fn interactive(&self, script: &str) -> Result<i32>;
}

struct HostInner {
    name: String,
    spec: HostSpec,
    transport: Box<dyn Transport>,
    services: Services,
    /// Things learnt about the host once per connection (e.g. which compose tool it has).
    memo: std::sync::Mutex<std::collections::HashMap<&'static str, String>>,
}

/// A machine hoist can act on. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Host({})", self.inner.name)
    }
}

impl Host {
    /// The machine hoist runs on.
    pub fn local(services: Services) -> Host {
        let spec = HostSpec::local();
        Host {
            inner: Arc::new(HostInner {
                name: "local".into(),
                transport: Box::new(local::LocalTransport::new(services.clone())),
                spec,
                services,
                memo: Default::default(),
            }),
        }
    }

    /// An SSH host. Nothing is connected until the first command (or [`Host::connect`]).
    pub fn ssh(services: Services, spec: HostSpec, opts: SshOptions) -> Host {
        if spec.is_local() {
            return Host::local(services);
        }
        let name = spec.display_name();
        Host {
            inner: Arc::new(HostInner {
                name,
                transport: Box::new(ssh::SshTransport::new(spec.clone(), opts)),
                spec,
                services,
                memo: Default::default(),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }
    /// The address the host is reached at (host name or IP; `localhost` for local).
    pub fn addr(&self) -> String {
        self.inner.spec.host.clone()
    }
    /// The login user, if one was named (else the SSH config's or the current user).
    pub fn user(&self) -> String {
        self.inner
            .spec
            .user
            .clone()
            .unwrap_or_else(crate::local_user::current_user)
    }
    pub fn spec(&self) -> &HostSpec {
        &self.inner.spec
    }
    pub fn is_local(&self) -> bool {
        self.inner.spec.is_local()
    }
    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    /// A fact about this host remembered earlier with [`Host::remember`].
    pub fn recall(&self, key: &'static str) -> Option<String> {
        self.inner.memo.lock().expect("host memo").get(key).cloned()
    }

    /// Remember a fact about this host for as long as the Host (one run) lives.
    pub fn remember(&self, key: &'static str, value: impl Into<String>) {
        self.inner
            .memo
            .lock()
            .expect("host memo")
            .insert(key, value.into());
    }

    pub async fn connect(&self) -> Result<()> {
        self.inner
            .transport
            .connect()
            .await
            .map_err(|e| e.host(self.name()))
    }

    pub async fn close(&self) {
        self.inner.transport.close().await
    }

    /// Run a command. With `check` (the default) a non-zero exit is an error naming the host,
    /// the command, the exit code and the tail of stderr.
    pub async fn run(&self, cmd: &Command) -> Result<Output> {
        let raw = self.run_raw(cmd).await?;
        let planned = raw.planned;
        let mut out = Output::from_raw(raw.code, raw.stdout, raw.stderr, raw.ms);
        out.planned = planned;
        Ok(out)
    }

    /// Run a command and keep its output as bytes (file transfers).
    pub async fn run_raw(&self, cmd: &Command) -> Result<RawOutput> {
        let svc = &self.inner.services;
        let with_password;
        let cmd = match svc.sudo_password() {
            Some(pw) if cmd.sudo && cmd.sudo_password.is_none() => {
                with_password = cmd.clone().sudo_password(Some(pw));
                &with_password
            }
            _ => cmd,
        };
        // A command a primitive described (a file write, a lock) is shown as what it does,
        // not as the script that does it: in `-v`, in errors and in the plan alike.
        let display = svc.redactor.redact(&match &cmd.change {
            Some(c) => c.summary(),
            None => cmd.display(),
        });
        cmd.validate()
            .map_err(|e| e.host(self.name()).command(display.clone()))?;
        // The effect boundary: a change passes the gate (planned, or run and audited); a
        // probe runs in both modes and is logged only with `-v`.
        let change = (!cmd.probe).then(|| match &cmd.change {
            Some(c) => (**c).clone(),
            None => crate::effect::Change::Command {
                command: display.clone(),
            },
        });
        let exec = async {
            svc.reporter.event(Event::CommandStarted {
                host: self.name().to_string(),
                command: display.clone(),
            });
            let script = cmd.render();
            // Lines go to the reporter unless the command is quiet (file transfers, probes);
            // whether a person sees them is the `echo` flag.
            let echo = cmd.stream.unwrap_or_else(|| svc.echo_output());
            let sink = LineSink::new(
                self.name(),
                svc.reporter.clone(),
                svc.redactor.clone(),
                echo,
            )
            .with_raw_stdout(cmd.stdout_to.clone());
            let started = Instant::now();
            let req = ExecRequest {
                script: &script,
                stdin: cmd.stdin.as_ref().map(|s| s.bytes()),
                stdin_file: cmd.stdin.as_ref().and_then(|s| s.file()),
                timeout: cmd.timeout,
                cancel: svc.cancel_token(),
                sink: if cmd.stream == Some(false) && !sink.has_raw_stdout() {
                    None
                } else {
                    Some(&sink)
                },
                keep_stdout: cmd.capture,
            };
            let result = self.inner.transport.exec(req).await;
            sink.flush();
            result.map(|mut raw| {
                raw.ms = started.elapsed().as_millis() as u64;
                let code = raw.code;
                (raw, code)
            })
        };
        let raw = match change {
            Some(change) => match svc.perform_coded(self.name(), change, exec).await {
                Ok(crate::effect::Performed::Planned) => {
                    return Ok(RawOutput {
                        planned: true,
                        ..RawOutput::default()
                    });
                }
                Ok(crate::effect::Performed::Done(raw)) => Ok(raw),
                Err(e) => Err(e),
            },
            None => {
                let started = Instant::now();
                let result = exec.await;
                svc.audit(crate::audit::Entry {
                    host: self.name().to_string(),
                    step: crate::step::current(),
                    action: "probe".into(),
                    command: display.clone(),
                    exit_code: result.as_ref().ok().map(|(_, c)| *c),
                    ms: started.elapsed().as_millis() as u64,
                    error: result.as_ref().err().map(|e| e.message.clone()),
                    probe: true,
                    change: None,
                });
                result.map(|(raw, _)| raw)
            }
        };
        let raw = raw.map_err(|e| e.host(self.name()).command(display.clone()))?;
        let ms = raw.ms;
        svc.reporter.event(Event::CommandFinished {
            host: self.name().to_string(),
            command: display.clone(),
            code: raw.code,
            ms,
        });
        if cmd.check && raw.code != 0 {
            let stderr = svc.redactor.redact(&String::from_utf8_lossy(&raw.stderr));
            let mut err = Error::failed("command failed")
                .host(self.name())
                .command(display)
                .exit_code(raw.code)
                .stderr(&stderr);
            if cmd.sudo && stderr.contains("incorrect password attempt") {
                err.message = "sudo refused the password".into();
                err = err.hint(format!(
                    "the sudo password given to hoist (--ask-sudo-password, HOIST_SUDO_PASSWORD or sudo_password()) is not {}'s password on this host",
                    self.user()
                ));
            } else if cmd.sudo
                && (stderr.contains("a password is required")
                    || stderr.contains("a terminal is required"))
            {
                err.message = "sudo needs a password".into();
                err = err.hint(format!(
                    "hoist runs `sudo -n` (never prompts): give {} passwordless sudo (NOPASSWD) for this command, or give hoist the password (--ask-sudo-password, HOIST_SUDO_PASSWORD or sudo_password() in the script)",
                    self.user()
                ));
            }
            return Err(err);
        }
        Ok(raw)
    }

    /// Run a command with the terminal attached (an interactive shell, an editor, `docker
    /// compose exec web bash`); returns its exit code, which is not checked. Needs a terminal.
    pub async fn interactive(&self, cmd: &Command) -> Result<i32> {
        use std::io::IsTerminal;
        let display = self.inner.services.redactor.redact(&cmd.display());
        cmd.validate()
            .map_err(|e| e.host(self.name()).command(display.clone()))?;
        if !std::io::stdin().is_terminal() {
            return Err(Error::usage(
                "an interactive command needs a terminal, and stdin is not one",
            )
            .host(self.name())
            .command(display)
            .hint("use h.run() to run it without a terminal"));
        }
        if cmd.stdin.is_some() || cmd.timeout.is_some() {
            return Err(Error::usage(
                "an interactive command reads the terminal: stdin and timeout do not apply",
            )
            .host(self.name()));
        }
        let change = crate::effect::Change::Command {
            command: display.clone(),
        };
        let run = async {
            let code = self.inner.transport.interactive(&cmd.render()).await?;
            Ok((code, code))
        };
        self.inner
            .services
            .perform_coded(self.name(), change, run)
            .await
            .map(|p| p.or_placeholder())
            .map_err(|e| e.host(self.name()).command(display))
    }

    /// Exit status 0? A dry run that only plans the command (not a probe) answers yes, and
    /// its plan says so: a script's branch on the answer is then no silent guess.
    pub async fn test(&self, cmd: &Command) -> Result<bool> {
        let mut c = cmd.clone();
        c.check = false;
        let out = self.run(&c).await?;
        if out.planned {
            self.inner.services.effects().assume(
                self.name(),
                format!(
                    "`{}` exits 0 (h.test of a command that is not a probe)",
                    c.display()
                ),
            );
        }
        Ok(out.code == 0)
    }

    /// Forward a local port (0 = any free one) to `target` on this host.
    pub async fn forward(&self, local_port: u16, target: &ForwardTarget) -> Result<Tunnel> {
        self.inner
            .transport
            .forward(tunnel::LocalEnd::Tcp(local_port), target)
            .await
            .map_err(|e| e.host(self.name()))
    }

    /// Forward a fresh local unix socket to `target` (how docker reaches a remote engine).
    pub async fn forward_to_local_socket(&self, target: &ForwardTarget) -> Result<Tunnel> {
        let dir = tempfile::Builder::new().prefix("hoist-fwd-").tempdir()?;
        let path = dir.path().join("s.sock");
        let mut t = self
            .inner
            .transport
            .forward(tunnel::LocalEnd::Unix(path), target)
            .await
            .map_err(|e| e.host(self.name()))?;
        t.keep_dir(dir);
        Ok(t)
    }
}
