//! The long-lived remote shell. Opening an SSH session channel costs ~130 ms on the server;
//! writing one more command into an `sh` that is already running costs about a millisecond.
//! So each SSH host keeps one `sh` open and frames every command:
//!
//! ```text
//! __h_s='<script>'                      # quoted by the one renderer
//! (trap '<pass TERM on to $__h_i>' TERM; trap '<pass USR1 on>' USR1     # the watcher
//!  (trap '<kill the command's group>' TERM; trap '<the same, with KILL>' USR1   # the waiter
//!   HOIST_SCRIPT="$__h_s" $__h_ss sh -c '<eval from env>' </dev/null &
//!   __h_p=$!; wait $__h_p; __h_rc=$?
//!   printf '\n<nonce> E <id> %s\n' $__h_rc; printf '\n<nonce> E <id>\n' >&2) &
//!  __h_i=$!; wait $__h_i; <if a signal ended the waiter: the end markers, with `d`>) &
//! __h_w=$!
//! ```
//!
//! Each command runs in its own process (its `cd`/`exit` cannot hurt the shell), in its own
//! session via `setsid` where available so a timeout or Ctrl-C can kill its whole process
//! group. It is started and awaited by a background subshell (the waiter), so the shell goes
//! back to reading its stdin at once: a timeout or Ctrl-C is a signal hoist writes into that
//! stdin for the waiter (`kill -TERM $__h_w`), and when hoist goes away however it ends, the
//! shell reads EOF and its exit signals every waiter. So the shell needs no file on the host,
//! and stopping a command needs no new channel. The script reaches the command through its
//! environment, never argv. The random nonce makes the end markers impossible to produce by
//! accident. A lone builtin and a lone program with plain words are started more cheaply,
//! keeping all of that (`launch.rs`). The watcher exists for a command that kills its waiter
//! (`kill -9 $PPID`): then nobody else would print the end markers ([`watched`]).

use memchr::memmem;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::launch::Launch;
use super::local::{EVAL_FROM_ENV, EVAL_FROM_FILE};
use super::sink::LineSink;
use crate::command::quote;
use crate::error::{Error, Result};
use crate::report::Stream;

/// Stdin up to this size is sent inline (base64 through the shell); bigger goes through a
/// fresh channel so the shell is not flooded.
pub const INLINE_STDIN_MAX: usize = 64 * 1024;

/// What one framed command left: exit code, output, and whether it left processes behind
/// that still hold the shell's output pipes (`nohup server &` without redirects).
pub struct Framed {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub left_children: bool,
    /// The shell that ran the command (its waiter) was killed before the command ended: its
    /// exit code is unknown, and it may still run, holding the output pipes (see [`watched`]).
    /// `code` is then the waiter's status (128 + the signal).
    pub shell_died: bool,
}

/// Sending a command failed before a single byte of it left: it cannot have run, so it may be
/// sent again on a new connection. Any other failure may have run it.
pub fn never_sent(e: &Error) -> bool {
    e.message.starts_with(NOT_SENT)
}
const NOT_SENT: &str = "connection lost before the command was sent";

/// Output that is not kept may wait this long for its line to end before going out in pieces.
const UNKEPT_HOLD_MAX: usize = 1 << 20;

/// Scripts up to this size travel in an environment variable; bigger ones would hit the
/// kernel's limit on one (128 KiB, "Argument list too long") and go through a private file.
const ENV_SCRIPT_MAX: usize = 96 * 1024;

/// The waiter of a lone builtin ([`Launch::Builtin`]) evaluates it itself: it starts no
/// process, so there is nothing to put in a session, kill or wait for, and the fork of a
/// subshell for it is saved. The end markers are printed by the waiter's EXIT trap, so they
/// come with the builtin's status even when an expansion error (`${x?}`) or a syntax error
/// makes the waiter exit in the middle; a stop ([`Shell::stop`]) arriving meanwhile waits
/// for the builtin (`trap :`), which cannot take long.
fn builtin_waiter(nonce: &str, id: u64) -> String {
    format!(
        "(trap '{}' EXIT\ntrap : TERM USR1; eval \"$__h_s\" </dev/null) &\n",
        end_markers(nonce, id, "$?", "\"\"")
    )
}

/// The commands that print command `id`'s end markers ([`read_frame`] reads them): on stdout
/// its exit code and `b` if processes of its group live on (`bg`), on stderr the bare marker.
/// Written with double quotes only, so they also fit in a single-quoted trap.
fn end_markers(nonce: &str, id: u64, code: &str, bg: &str) -> String {
    format!(
        "printf \"\\n%s E %s %s %s\\n\" {nonce} {id} {code} {bg}; printf \"\\n%s E %s\\n\" {nonce} {id} >&2"
    )
}

/// The command line that runs a script given in `$__h_s` through `sh`, in its own session.
/// Big scripts are written to a private temp file first (the command removes it).
fn shell_launch_line(script_len: usize) -> String {
    if script_len > ENV_SCRIPT_MAX {
        format!(
            "__h_f=$(mktemp) && printf '%s' \"$__h_s\" > \"$__h_f\" && HOIST_SCRIPT_FILE=\"$__h_f\" $__h_ss sh -c {}",
            quote(EVAL_FROM_FILE)
        )
    } else {
        format!(
            "HOIST_SCRIPT=\"$__h_s\" $__h_ss sh -c {}",
            quote(EVAL_FROM_ENV)
        )
    }
}

/// The waiter's traps: TERM stops the running command's process group (its pid is its
/// group's id: it was started with setsid), USR1 kills it. hoist sends them through the shell
/// ([`Shell::stop`]); the shell's exit sends TERM to all its waiters.
const WAITER_TRAPS: &str = "trap 'kill -TERM -$__h_p 2>/dev/null || kill -TERM $__h_p 2>/dev/null' TERM; \
                            trap 'kill -KILL -$__h_p 2>/dev/null || kill -KILL $__h_p 2>/dev/null' USR1\n";

/// The waiter's lines after the command started (as `$!`): wait for it (again after a trap
/// cut the wait short, until it is gone), then say how it ended. `b` after the code: some
/// process of its group lives on, still holding the output pipes.
fn finish_lines(nonce: &str, id: u64) -> String {
    format!(
        "__h_p=$!; wait $__h_p; __h_rc=$?\n\
         while kill -0 $__h_p 2>/dev/null; do wait $__h_p; __h_c=$?; [ $__h_c = 127 ] && break; __h_rc=$__h_c; done\n\
         __h_bg=; if [ -n \"$__h_ss\" ] && kill -0 -$__h_p 2>/dev/null; then __h_bg=b; fi\n\
         {}\n",
        end_markers(nonce, id, "$__h_rc", "\"$__h_bg\"")
    )
}

/// The waiter is the parent of the command it starts, so the command can kill it (`kill -9
/// $PPID`; so can an OOM kill or a careless `pkill sh`): then nobody prints the end markers
/// and hoist would wait for them forever. So the waiter (`inner`, started as `$__h_i`) runs
/// under a watcher that waits for it and, if a signal ended it, prints the end markers
/// itself: the waiter's exit status and `d` (died) in place of the command's code, which is
/// unknown. The watcher passes hoist's stops ([`Shell::stop`]) on to the waiter. A waiter that
/// ended normally printed the markers and exited with printf's status (not above 128).
fn watched(inner: &str, nonce: &str, id: u64) -> String {
    format!(
        "(trap 'kill -TERM $__h_i 2>/dev/null' TERM; trap 'kill -USR1 $__h_i 2>/dev/null' USR1\n\
         {inner}__h_i=$!; wait $__h_i; __h_x=$?\n\
         while kill -0 $__h_i 2>/dev/null; do wait $__h_i; __h_x=$?; [ $__h_x = 127 ] && break; done\n\
         if [ $__h_x -gt 128 ]; then {}; fi) &\n",
        end_markers(nonce, id, "$__h_x", "d")
    )
}

/// Reads the output of command `id` up to hoist's end markers, from both pipes at once.
pub async fn read_frame<R, E>(
    stdout: &mut Reader<R>,
    stderr: &mut Reader<E>,
    nonce: &str,
    id: u64,
    sink: Option<&LineSink>,
    keep_stdout: bool,
) -> Result<Framed>
where
    R: AsyncRead + Unpin + Send,
    E: AsyncRead + Unpin + Send,
{
    let out_marker = format!("\n{nonce} E {id} ");
    let err_marker = format!("\n{nonce} E {id}\n");
    let (out, err) = tokio::join!(
        stdout.read_framed(&out_marker, true, Stream::Stdout, sink, keep_stdout),
        stderr.read_framed(&err_marker, false, Stream::Stderr, sink, true)
    );
    let (stdout, tail) = out?;
    let (stderr, _) = err?;
    let tail = tail.unwrap_or_default();
    let mut words = tail.split_whitespace();
    let code = words.next().and_then(|c| c.parse().ok()).unwrap_or(-1);
    let flag = words.next();
    Ok(Framed {
        code,
        stdout,
        stderr,
        left_children: flag == Some("b"),
        shell_died: flag == Some("d"),
    })
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

/// `$__h_ss`: `setsid` where the host has it (a command then gets a session and process group
/// of its own), else nothing.
const SETSID_DETECTION: &str =
    "if command -v setsid >/dev/null 2>&1; then __h_ss=setsid; else __h_ss=; fi\n";

/// The preamble of a long-lived shell: setsid detection, and on exit (hoist went away or
/// closed it) a TERM to its process group — every waiter, which stops its command's group.
fn preamble(nonce: &str) -> String {
    // HOIST_SESSION_PID: this shell, a child of the sshd process that serves hoist's connection
    // (which a host-side guard, release::guard, watches to learn that the controller is gone).
    format!(
        "{SETSID_DETECTION}trap 'trap \"\" TERM; kill -TERM 0 2>/dev/null' EXIT\n\
         HOIST_SESSION_PID=$$; export HOIST_SESSION_PID\n\
         printf '%s R\\n' {nonce}\n"
    )
}

/// The preamble of a one-shot channel ([`one_shot`]), which has no shell reading its stdin to
/// signal through: a private temp dir whose `pid` file names the running command, printed as
/// `<nonce> R <dir>` so [`super::ssh`] can kill it from another channel.
fn one_shot_preamble(nonce: &str) -> String {
    format!(
        "__h_d=$(mktemp -d 2>/dev/null || {{ mkdir -m 700 /tmp/hoist.$$ && echo /tmp/hoist.$$; }})\n\
         {SETSID_DETECTION}trap 'read __h_k 2>/dev/null < \"$__h_d/pid\" && kill -TERM -$__h_k 2>/dev/null; rm -rf \"$__h_d\"' EXIT\n\
         printf '%s R %s\\n' {nonce} \"$__h_d\"\n"
    )
}

/// How [`Shell::stop`] stops a running command's process group.
pub enum Stop {
    /// SIGTERM: the command may clean up.
    Term,
    /// SIGKILL: for one that did not end after [`Stop::Term`].
    Kill,
}

/// A fresh random marker prefix: no command output can produce it by accident.
pub fn new_nonce() -> String {
    format!("HOIST{:032x}", rand::random::<u128>())
}

impl<W, R, E> Shell<W, R, E>
where
    W: AsyncWrite + Unpin + Send,
    R: AsyncRead + Unpin + Send,
    E: AsyncRead + Unpin + Send,
{
    /// Start framing on freshly opened pipes.
    pub async fn start(stdin: W, stdout: R, stderr: E) -> Result<Self> {
        let mut shell = Shell {
            stdin,
            stdout: Reader::new(stdout),
            stderr: Reader::new(stderr),
            nonce: new_nonce(),
            next_id: 0,
            broken: false,
        };
        let pre = preamble(&shell.nonce);
        shell
            .write(pre.as_bytes())
            .await
            .map_err(|e| Error::failed(format!("remote shell did not start: {e}")))?;
        let ready = format!("{} R", shell.nonce);
        shell
            .stdout
            .read_line_starting(&ready)
            .await
            .map_err(|e| Error::failed(format!("remote shell did not start: {e}")))?;
        Ok(shell)
    }

    /// Ask the waiter of the command sent last to stop it (see [`WAITER_TRAPS`]). The shell
    /// reads this at once: it is not busy.
    pub async fn stop(&mut self, how: Stop) -> Result<()> {
        let signal = match how {
            Stop::Term => "TERM",
            Stop::Kill => "USR1",
        };
        self.write(format!("kill -{signal} $__h_w 2>/dev/null\n").as_bytes())
            .await
    }

    /// Write all of `bytes`; a failure before the first byte left says so ([`never_sent`]).
    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let mut sent = 0;
        while sent < bytes.len() {
            match self.stdin.write(&bytes[sent..]).await {
                Ok(0) => {
                    return Err(Error::failed(
                        "connection lost while sending a command: pipe closed",
                    ));
                }
                Ok(n) => sent += n,
                Err(e) if sent == 0 => return Err(Error::failed(format!("{NOT_SENT}: {e}"))),
                Err(e) => {
                    return Err(Error::failed(format!(
                        "connection lost while sending a command: {e}"
                    )));
                }
            }
        }
        self.stdin
            .flush()
            .await
            .map_err(|e| Error::failed(format!("connection lost while sending a command: {e}")))
    }

    /// Send one framed command. `stdin` must be small ([`INLINE_STDIN_MAX`]). Its output is
    /// read by [`Shell::collect`] (again after a timeout killed it, to keep what it printed).
    pub async fn send(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<()> {
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
        // The command is started and awaited by a background subshell, so the shell itself
        // goes back to reading its stdin: when hoist goes away however it ends (its channel
        // closes), the shell reads EOF at once and its exit kills the running command — the
        // channel, and so the ssh master, do not stay open for it.
        let waiter = match Launch::of(script, stdin.is_some()) {
            Launch::Builtin => builtin_waiter(&self.nonce, id),
            launch => {
                let start = match launch {
                    // Unquoted on purpose: the words are plain (no glob, quote or `$`).
                    Launch::Program => "$__h_ss $__h_s".to_string(),
                    _ => shell_launch_line(script.len()),
                };
                let redirect = if stdin.is_some() { "" } else { " </dev/null" };
                watched(
                    &format!(
                        "({WAITER_TRAPS}{feed}{start}{redirect} &\n{}) &\n",
                        finish_lines(&self.nonce, id)
                    ),
                    &self.nonce,
                    id,
                )
            }
        };
        let text = format!(
            "__h_s={script}\n{waiter}__h_w=$!; unset __h_s\n",
            script = quote(script)
        );
        self.broken = true;
        self.write(text.as_bytes()).await
    }

    /// Read and drop whatever arrives until the pipes close (see `SshTransport::retire`).
    pub async fn drain(&mut self) {
        let out = async {
            while self
                .stdout
                .fill()
                .await
                .map(|_| self.stdout.buf.clear())
                .is_ok()
            {}
        };
        let err = async {
            while self
                .stderr
                .fill()
                .await
                .map(|_| self.stderr.buf.clear())
                .is_ok()
            {}
        };
        tokio::join!(out, err);
    }

    /// Read the output of the command sent last, up to its end markers.
    /// Without `keep_stdout`, stdout only goes to the sink (see [`Reader::read_framed`]).
    pub async fn collect(&mut self, sink: Option<&LineSink>, keep_stdout: bool) -> Result<Framed> {
        let framed = read_frame(
            &mut self.stdout,
            &mut self.stderr,
            &self.nonce,
            self.next_id,
            sink,
            keep_stdout,
        )
        .await?;
        self.broken = false;
        Ok(framed)
    }
}

/// The program of a channel that runs one command whose stdin follows the first line (the
/// script, base64): the shell's framing, for one command, reading the channel's stdin. (A
/// background command's stdin is /dev/null before its own redirections apply, so the
/// channel's stdin is kept as fd 3 for it.)
pub fn one_shot(nonce: &str) -> String {
    format!(
        "IFS= read -r __l; __h_s=$(printf %s \"$__l\" | base64 -d); unset __l; exec 3<&0\n\
         {pre}{launch} <&3 3<&- &\necho $! > \"$__h_d/pid\"\n{finish}: > \"$__h_d/pid\"\n",
        pre = one_shot_preamble(nonce),
        launch = shell_launch_line(usize::MAX),
        finish = finish_lines(nonce, 1),
    )
}

/// A pipe from the remote shell with the bytes read past the last marker, and how much of
/// them went to the sink already (so a frame read again after a timeout streams no line twice).
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    streamed: usize,
    /// How far `buf` was searched for the last line end (never twice over the same bytes).
    searched: usize,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            buf: Vec::new(),
            streamed: 0,
            searched: 0,
        }
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        // Straight into the buffer's spare room: no chunk allocated and copied per read.
        self.buf.reserve(64 * 1024);
        let n = self.inner.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the remote shell closed (connection lost?)",
            ));
        }
        Ok(n)
    }

    pub async fn read_line_starting(&mut self, prefix: &str) -> Result<String> {
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
    ///
    /// Without `keep`, output is not kept for the result: what went to the sink is dropped as
    /// it goes, and a line that never ends goes in pieces, so memory stays bounded.
    async fn read_framed(
        &mut self,
        marker: &str,
        with_code: bool,
        stream: Stream,
        sink: Option<&LineSink>,
        keep: bool,
    ) -> Result<(Vec<u8>, Option<String>)> {
        let finder = memmem::Finder::new(marker.as_bytes());
        let mut scanned = 0usize; // bytes of buf known not to start the marker
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
                let code =
                    code_end.map(|e| String::from_utf8_lossy(&self.buf[after..e]).into_owned());
                if let Some(s) = sink
                    && at > self.streamed
                {
                    s.feed(stream, &self.buf[self.streamed..at]);
                }
                let consumed = code_end.map(|e| e + 1).unwrap_or(after);
                // The output moves out whole (no copy); what follows the marker stays.
                let rest = self.buf.split_off(consumed);
                let mut output = std::mem::replace(&mut self.buf, rest);
                output.truncate(if keep { at } else { 0 });
                self.streamed = 0;
                self.searched = 0;
                return Ok((output, code));
            }
            scanned = self.buf.len();
            // Stream whole lines that cannot be part of the marker: everything up to the last
            // newline before the region the marker could still start in.
            if let Some(s) = sink {
                // Only a tail of the buffer that is the start of the marker may still become
                // it; everything before that is output.
                // The newline a partial marker starts with ends the line before it: searched too.
                let safe_end =
                    (partial_marker_at(&self.buf, marker.as_bytes()) + 1).min(self.buf.len());
                // Only bytes not searched before: a line that never ends costs linear time.
                let from = self.streamed.max(self.searched);
                self.searched = safe_end.max(self.searched);
                if safe_end > from
                    && let Some(nl) = memchr::memrchr(b'\n', &self.buf[from..safe_end])
                {
                    let nl = from - self.streamed + nl;
                    let upto = self.streamed + nl; // keep the newline: it may be the marker's
                    if upto > self.streamed {
                        s.feed(stream, &self.buf[self.streamed..upto]);
                        self.streamed = upto;
                    }
                    // The line before that newline is complete either way: show it now (a
                    // followed log line must not wait for the next one).
                    s.end_line(stream);
                }
            }
            if !keep {
                let safe_end = self.buf.len().saturating_sub(marker.len());
                if let Some(s) = sink
                    && safe_end > self.streamed + UNKEPT_HOLD_MAX
                {
                    s.feed(stream, &self.buf[self.streamed..safe_end]);
                    self.streamed = safe_end;
                }
                let done = if sink.is_some() {
                    self.streamed
                } else {
                    safe_end
                };
                if done > 0 {
                    self.buf.drain(..done);
                    self.streamed -= done.min(self.streamed);
                    self.searched -= done.min(self.searched);
                    scanned -= done;
                }
            }
            self.fill()
                .await
                .map_err(|e| Error::failed(e.to_string()))?;
        }
    }
}

/// Where the end marker could still begin in what has been read: the first position from
/// which the rest of `buf` is a proper prefix of `marker` (it starts with a newline), else
/// the buffer's length. A complete marker is found before this is asked.
fn partial_marker_at(buf: &[u8], marker: &[u8]) -> usize {
    let start = buf.len().saturating_sub(marker.len().saturating_sub(1));
    (start..buf.len())
        .find(|&i| buf[i] == b'\n' && marker.starts_with(&buf[i..]))
        .unwrap_or(buf.len())
}
