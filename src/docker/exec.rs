//! `d.exec(c, cmd, opts)`: run a command in a running container and get the same
//! [`Output`] a host's `run` gives: exit code, stdout and stderr apart.

use std::time::Instant;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::client::Docker;
use crate::error::{Error, Result};
use crate::host::Output;
use crate::secret::Secret;

/// Options of `d.exec` (env values and stdin may be secrets: they travel in the API
/// request, never on a command line).
#[derive(Debug, Default, Clone)]
pub struct ExecOpts {
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub env: Vec<(String, Secret)>,
    pub stdin: Option<Secret>,
    /// Fail on a non-zero exit (default true, as with `h.run`).
    pub check: bool,
}

impl Docker {
    /// Run `argv` in container `c`.
    pub async fn exec(&self, c: &str, argv: &[String], opts: &ExecOpts) -> Result<Output> {
        let shown = format!("exec {c} {}", crate::command::join(argv));
        let done = self
            .perform_coded("exec", shown, |w| async move {
                let out = self.exec_inner(&w, c, argv, opts).await?;
                let code = out.code;
                Ok((out, code))
            })
            .await?;
        Ok(match done {
            crate::effect::Performed::Done(out) => out,
            crate::effect::Performed::Planned => {
                let mut planned = Output::from_raw(0, Vec::new(), Vec::new(), 0);
                planned.planned = true;
                planned
            }
        })
    }

    async fn exec_inner(
        &self,
        w: &crate::docker::Writes,
        c: &str,
        argv: &[String],
        opts: &ExecOpts,
    ) -> Result<Output> {
        let shown = crate::command::join(argv);
        // The API would pass a NUL on to execve, which refuses it with a bare "invalid
        // argument": say which argument instead.
        crate::command::Command::argv(argv.to_vec())
            .validate()
            .map_err(|e| e.host(self.host_name()).command(shown.clone()))?;
        let started = Instant::now();
        let env: Vec<String> = opts
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.expose()))
            .collect();
        let config = CreateExecOptions {
            attach_stdin: Some(opts.stdin.is_some()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(argv.to_vec()),
            env: (!env.is_empty()).then_some(env),
            user: opts.user.clone(),
            working_dir: opts.workdir.clone(),
            ..Default::default()
        };
        let fail = |doing: &str, e: bollard::errors::Error| {
            let mut err = self.container_fail(doing, c, e).command(shown.clone());
            if err.message.contains("is not running") {
                err = err.hint("start it first (d.start) — exec needs a running container");
            }
            err
        };
        let created = w
            .create_exec(c, config)
            .await
            .map_err(|e| fail("cannot exec in", e))?;
        let started_exec = w
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(|e| fail("cannot exec in", e))?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let StartExecResults::Attached {
            mut output,
            mut input,
        } = started_exec
        {
            if let Some(data) = &opts.stdin {
                let bytes = data.expose().as_bytes().to_vec();
                // Feed stdin concurrently with reading, so a large input cannot deadlock
                // against a full output pipe; then close it so the command sees EOF.
                let feed = async move {
                    let _ = input.write_all(&bytes).await;
                    let _ = input.shutdown().await;
                };
                let read = async {
                    while let Some(item) = output.next().await {
                        match item? {
                            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                                stdout.extend_from_slice(&message)
                            }
                            LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                            LogOutput::StdIn { .. } => {}
                        }
                    }
                    Ok::<(), bollard::errors::Error>(())
                };
                let ((), r) = tokio::join!(feed, read);
                r.map_err(|e| fail("lost the output of an exec in", e))?;
            } else {
                drop(input);
                while let Some(item) = output.next().await {
                    match item.map_err(|e| fail("lost the output of an exec in", e))? {
                        LogOutput::StdOut { message } | LogOutput::Console { message } => {
                            stdout.extend_from_slice(&message)
                        }
                        LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                        LogOutput::StdIn { .. } => {}
                    }
                }
            }
        }
        let inspect = self
            .api()
            .inspect_exec(&created.id)
            .await
            .map_err(|e| fail("cannot read the exit code of an exec in", e))?;
        let redactor = &self.services().redactor;
        // Bytes stay bytes: binary stdout is kept exactly (`Output::stdout_bytes`).
        let out = Output::from_raw(
            inspect.exit_code.unwrap_or(-1) as i32,
            stdout,
            stderr,
            started.elapsed().as_millis() as u64,
        );
        if opts.check && out.code != 0 {
            let mut err = Error::failed(format!("command failed in container {c}"))
                .host(self.host_name())
                .command(shown)
                .exit_code(out.code)
                .stderr(&redactor.redact(&out.stderr));
            if out.code == 126 || out.code == 127 {
                err = err.hint("the program is missing in the image (or not executable)");
            }
            return Err(err);
        }
        Ok(out)
    }
}
