//! Turns a command's output bytes into whole lines for the reporter, per stream, as they
//! arrive. Secrets are redacted here, before anything leaves the host layer.

use std::borrow::Cow;
use std::sync::Mutex;

use crate::command::RawStdout;
use crate::report::{SharedReporter, Stream};
use crate::secret::Redactor;

/// The longest line shown as one; longer ones arrive in pieces of this size.
const MAX_LINE: usize = 1 << 20;

pub struct LineSink {
    host: String,
    reporter: SharedReporter,
    redactor: Redactor,
    echo: bool,
    partial: Mutex<[Vec<u8>; 2]>,
    /// Per stream: the line was shown before its newline arrived ([`LineSink::end_line`]), so
    /// that newline, when it comes, ends nothing more.
    ended_early: Mutex<[bool; 2]>,
    /// stdout's bytes go here exactly as they come, not to the reporter (a download streamed
    /// into its file); the first error writing it is kept for [`LineSink::raw_error`].
    raw_stdout: Option<RawStdout>,
}

impl LineSink {
    pub fn new(host: &str, reporter: SharedReporter, redactor: Redactor, echo: bool) -> Self {
        LineSink {
            host: host.to_string(),
            reporter,
            redactor,
            echo,
            partial: Mutex::new([Vec::new(), Vec::new()]),
            ended_early: Mutex::new([false, false]),
            raw_stdout: None,
        }
    }

    /// Send stdout, byte for byte, to a file instead of the reporter.
    pub fn with_raw_stdout(mut self, to: Option<RawStdout>) -> Self {
        self.raw_stdout = to;
        self
    }

    /// Whether stdout goes to a file (then the command must be given this sink however quiet
    /// it is).
    pub fn has_raw_stdout(&self) -> bool {
        self.raw_stdout.is_some()
    }

    fn write_raw(&self, bytes: &[u8]) -> bool {
        let Some(raw) = &self.raw_stdout else {
            return false;
        };
        let mut raw = raw.lock().expect("raw stdout lock");
        if raw.error.is_none()
            && let Err(e) = std::io::Write::write_all(&mut raw.file, bytes)
        {
            raw.error = Some(e.to_string());
        }
        true
    }

    fn index(stream: Stream) -> usize {
        match stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }

    /// Feed bytes exactly as the command wrote them. Only the new bytes are searched for line
    /// ends (linear time however long a line grows), and a line longer than [`MAX_LINE`] is
    /// cut into pieces of that size (bounded memory for a stream with no newline).
    pub fn feed(&self, stream: Stream, bytes: &[u8]) {
        if stream == Stream::Stdout && self.write_raw(bytes) {
            return;
        }
        let mut partial = self.partial.lock().expect("sink lock");
        let bytes = {
            let mut early = self.ended_early.lock().expect("sink lock");
            let skip =
                std::mem::take(&mut early[Self::index(stream)]) && bytes.first() == Some(&b'\n');
            if skip { &bytes[1..] } else { bytes }
        };
        let buf = &mut partial[Self::index(stream)];
        let mut start = 0;
        // The whole lines of this read go to the reporter together, borrowed from `bytes`.
        let mut batch: Vec<Cow<'_, str>> = Vec::new();
        for end in memchr::memchr_iter(b'\n', bytes) {
            if buf.is_empty() {
                batch.push(self.text(&bytes[start..end]));
            } else {
                // The end of a line begun in an earlier read: it comes first.
                buf.extend_from_slice(&bytes[start..end]);
                self.emit(stream, buf);
                buf.clear();
            }
            start = end + 1;
        }
        if !batch.is_empty() {
            let lines: Vec<&str> = batch.iter().map(|l| l.as_ref()).collect();
            self.reporter.output(&self.host, stream, &lines, self.echo);
        }
        let mut rest = &bytes[start..];
        while buf.len() + rest.len() >= MAX_LINE {
            let take = MAX_LINE - buf.len();
            buf.extend_from_slice(&rest[..take]);
            self.emit(stream, buf);
            buf.clear();
            rest = &rest[take..];
        }
        buf.extend_from_slice(rest);
        self.reporter.flush();
    }

    /// The line fed so far is complete: its newline has been read but is held back by the
    /// reader (it may be the start of the shell's end marker). Show the line now, and swallow
    /// that newline when it is fed. Without this, a line would wait for the next output.
    pub fn end_line(&self, stream: Stream) {
        if stream == Stream::Stdout && self.raw_stdout.is_some() {
            return; // bytes, not lines: the held newline is written when it is fed
        }
        let mut partial = self.partial.lock().expect("sink lock");
        let buf = &mut partial[Self::index(stream)];
        if buf.is_empty() {
            // An empty line is held back: the newline may be the marker's own.
            return;
        }
        self.emit(stream, buf);
        buf.clear();
        self.ended_early.lock().expect("sink lock")[Self::index(stream)] = true;
        self.reporter.flush();
    }

    /// Emit whatever is left without a trailing newline.
    pub fn flush(&self) {
        *self.ended_early.lock().expect("sink lock") = [false, false];
        let mut partial = self.partial.lock().expect("sink lock");
        for stream in [Stream::Stdout, Stream::Stderr] {
            let buf = std::mem::take(&mut partial[Self::index(stream)]);
            if !buf.is_empty() {
                self.emit(stream, &buf);
            }
        }
        self.reporter.flush();
    }

    fn emit(&self, stream: Stream, line: &[u8]) {
        let text = self.text(line);
        self.reporter
            .output(&self.host, stream, &[text.as_ref()], self.echo);
    }

    /// A line as shown: lossy UTF-8, without a trailing `\r`, secrets redacted. Borrowed from
    /// `line` unless something had to be replaced.
    fn text<'a>(&self, line: &'a [u8]) -> Cow<'a, str> {
        let text = match String::from_utf8_lossy(line) {
            Cow::Borrowed(t) => Cow::Borrowed(t.strip_suffix('\r').unwrap_or(t)),
            Cow::Owned(mut t) => {
                if t.ends_with('\r') {
                    t.pop();
                }
                Cow::Owned(t)
            }
        };
        let redacted = match self.redactor.redact_cow(&text) {
            Cow::Owned(r) => Some(r),
            Cow::Borrowed(_) => None,
        };
        match redacted {
            Some(r) => Cow::Owned(r),
            None => text,
        }
    }
}
