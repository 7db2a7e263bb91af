//! The long-lived remote shell. Opening an SSH session channel costs ~130 ms on the server;
//! writing one more command into an `sh` that is already running costs about a millisecond.
//! So each SSH host keeps one `sh` open and frames every command:
//!
//! ```text
//! __h_s='<script>'                      # quoted by the one renderer
//! HOIST_SCRIPT="$__h_s" $__h_ss sh -c '<eval from env>' </dev/null &
//! __h_p=$!; echo $__h_p > "$__h_d/pid"; wait $__h_p; __h_rc=$?
//! printf '\n<nonce> E <id> %s\n' $__h_rc; printf '\n<nonce> E <id>\n' >&2
//! ```
//!
//! Each command runs in its own process (its `cd`/`exit` cannot hurt the shell), in its own
//! session via `setsid` where available so a timeout or Ctrl-C can kill its whole process
//! group. The script reaches that process through its environment, never argv. The random
//! nonce makes the end markers impossible to produce by accident.

use std::future::Future;
use std::time::Duration;

use memchr::memmem;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::local::EVAL_FROM_ENV;
use super::sink::LineSink;
use crate::command::quote;
use crate::error::{Error, Result};
use crate::report::Stream;

/// Stdin up to this size is sent inline (base64 through the shell); bigger goes through a
/// fresh channel so the shell is not flooded.
pub const INLINE_STDIN_MAX: usize = 64 * 1024;

pub enum Race<T> {
    Done(T),
    TimedOut(Duration),
    Cancelled,
}

/// Run `work` unless the timeout passes or the token is cancelled first.
pub async fn race<T>(
    work: impl Future<Output = T>,
    timeout: Option<Duration>,
    cancel: &CancellationToken,
) -> Race<T> {
    let sleep = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = work => Race::Done(r),
        _ = sleep => Race::TimedOut(timeout.unwrap_or_default()),
        _ = cancel.cancelled() => Race::Cancelled,
    }
}

/// One open remote shell: its pipes, what was read past the last marker, and a counter.
pub struct Shell<W, R, E> {
    stdin: W,
    stdout: Reader<R>,
    stderr: Reader<E>,
    nonce: String,
    next_id: u64,
    /// Set when a command was interrupted: the framing may be out of step, so the shell must
    /// be replaced before the next command.
    pub broken: bool,
}

/// The preamble: a private temp dir (for the running command's pid) and setsid detection.
fn preamble(nonce: &str) -> String {
    format!(
        "__h_d=$(mktemp -d 2>/dev/null || {{ mkdir -p /tmp/hoist.$$ && echo /tmp/hoist.$$; }})\n\
         if command -v setsid >/dev/null 2>&1; then __h_ss=setsid; else __h_ss=; fi\n\
         trap 'rm -rf \"$__h_d\"' EXIT\n\
         printf '%s R %s\\n' {nonce} \"$__h_d\"\n"
    )
}

impl<W, R, E> Shell<W, R, E>
where
    W: AsyncWrite + Unpin + Send,
    R: AsyncRead + Unpin + Send,
    E: AsyncRead + Unpin + Send,
{
    /// Start framing on freshly opened pipes; returns the shell and its temp dir.
    pub async fn start(stdin: W, stdout: R, stderr: E) -> Result<(Self, String)> {
        let nonce = format!("HOIST{:032x}", rand::random::<u128>());
        let mut shell = Shell {
            stdin,
            stdout: Reader::new(stdout),
            stderr: Reader::new(stderr),
            nonce,
            next_id: 0,
            broken: false,
        };
        let pre = preamble(&shell.nonce);
        shell.write(pre.as_bytes()).await?;
        let ready = format!("{} R ", shell.nonce);
        let line = shell
            .stdout
            .read_line_starting(&ready)
            .await
            .map_err(|e| Error::failed(format!("remote shell did not start: {e}")))?;
        Ok((shell, line.trim().to_string()))
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stdin
            .write_all(bytes)
            .await
            .map_err(|e| Error::failed(format!("connection lost while sending a command: {e}")))?;
        self.stdin
            .flush()
            .await
            .map_err(|e| Error::failed(format!("connection lost while sending a command: {e}")))
    }

    /// Run one framed command. `stdin` must be small ([`INLINE_STDIN_MAX`]).
    pub async fn exec(
        &mut self,
        script: &str,
        stdin: Option<&[u8]>,
        sink: Option<&LineSink>,
    ) -> Result<(i32, Vec<u8>, Vec<u8>)> {
        self.next_id += 1;
        let id = self.next_id;
        let feed = match stdin {
            Some(data) => {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(data);
                format!("printf '%s' {} | base64 -d | ", quote(&b64))
            }
            None => String::new(),
        };
        let redirect = if stdin.is_some() { "" } else { " </dev/null" };
        let n = self.nonce.clone();
        let text = format!(
            "__h_s={script}\n\
             {feed}HOIST_SCRIPT=\"$__h_s\" $__h_ss sh -c {eval}{redirect} &\n\
             __h_p=$!; echo $__h_p > \"$__h_d/pid\"; unset __h_s; wait $__h_p; __h_rc=$?\n\
             printf '\\n%s E %s %s\\n' {n} {id} $__h_rc; printf '\\n%s E %s\\n' {n} {id} >&2\n",
            script = quote(script),
            eval = quote(EVAL_FROM_ENV),
        );
        self.broken = true;
        self.write(text.as_bytes()).await?;
        let out_marker = format!("\n{n} E {id} ");
        let err_marker = format!("\n{n} E {id}\n");
        let (out, err) = tokio::join!(
            self.stdout
                .read_framed(&out_marker, true, Stream::Stdout, sink),
            self.stderr
                .read_framed(&err_marker, false, Stream::Stderr, sink)
        );
        let (stdout, code) = out?;
        let (stderr, _) = err?;
        self.broken = false;
        Ok((code.unwrap_or(-1), stdout, stderr))
    }
}

/// A pipe from the remote shell with the bytes read past the last marker.
struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    fn new(inner: R) -> Self {
        Reader {
            inner,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = self.inner.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the remote shell closed (connection lost?)",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    async fn read_line_starting(&mut self, prefix: &str) -> Result<String> {
        loop {
            if let Some(start) = memmem::find(&self.buf, prefix.as_bytes())
                && let Some(end) = memchr::memchr(b'\n', &self.buf[start..])
            {
                let line = String::from_utf8_lossy(&self.buf[start + prefix.len()..start + end])
                    .into_owned();
                self.buf.drain(..start + end + 1);
                return Ok(line);
            }
            self.fill()
                .await
                .map_err(|e| Error::failed(e.to_string()))?;
        }
    }

    /// Read until `marker` (which starts with the newline hoist added). With `with_code` the
    /// marker is followed by the exit code and a newline. Lines are streamed to `sink` as
    /// they complete; an empty line is held back, since the last one may be hoist's newline.
    async fn read_framed(
        &mut self,
        marker: &str,
        with_code: bool,
        stream: Stream,
        sink: Option<&LineSink>,
    ) -> Result<(Vec<u8>, Option<i32>)> {
        let finder = memmem::Finder::new(marker.as_bytes());
        let mut scanned = 0usize; // bytes of buf known not to start the marker
        let mut streamed = 0usize; // bytes of buf already given to the sink
        loop {
            let from = scanned.saturating_sub(marker.len());
            if let Some(rel) = finder.find(&self.buf[from..]) {
                let at = from + rel;
                let after = at + marker.len();
                let code_end = if with_code {
                    match memchr::memchr(b'\n', &self.buf[after..]) {
                        Some(e) => Some(after + e),
                        None => {
                            self.fill()
                                .await
                                .map_err(|e| Error::failed(e.to_string()))?;
                            continue;
                        }
                    }
                } else {
                    None
                };
                let code = code_end.map(|e| {
                    String::from_utf8_lossy(&self.buf[after..e])
                        .trim()
                        .parse::<i32>()
                        .unwrap_or(-1)
                });
                if let Some(s) = sink
                    && at > streamed
                {
                    s.feed(stream, &self.buf[streamed..at]);
                }
                let output = self.buf[..at].to_vec();
                let consumed = code_end.map(|e| e + 1).unwrap_or(after);
                self.buf.drain(..consumed);
                return Ok((output, code));
            }
            scanned = self.buf.len();
            // Stream whole lines that cannot be part of the marker: everything up to the last
            // newline before the region the marker could still start in.
            if let Some(s) = sink {
                let safe_end = self.buf.len().saturating_sub(marker.len());
                if safe_end > streamed
                    && let Some(nl) = memchr::memrchr(b'\n', &self.buf[streamed..safe_end])
                {
                    let upto = streamed + nl; // keep the newline: it may be the marker's
                    if upto > streamed {
                        s.feed(stream, &self.buf[streamed..upto]);
                        streamed = upto;
                    }
                }
            }
            self.fill()
                .await
                .map_err(|e| Error::failed(e.to_string()))?;
        }
    }
}
