//! Events a run produces. Primitives and the script runtime describe what happens as
//! [`Event`]s; a [`Reporter`] (implemented in `cli/`, the only place that prints) turns them
//! into human or JSON output. Library users plug in their own.

use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
}

/// One thing worth telling the user about.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Script `print`/`debug`.
    Print {
        text: String,
    },
    /// `info(msg)` / `warn(msg)`.
    Message {
        level: Level,
        text: String,
    },
    StepStarted {
        name: String,
    },
    StepFinished {
        name: String,
        ok: bool,
        ms: u64,
    },
    /// A command is starting on a host.
    CommandStarted {
        host: String,
        command: String,
    },
    /// One line of a command's output, as it arrives. `echo`: the user asked to see it
    /// (`-v`, the REPL, or `stream: true`); machine reporters get every line regardless.
    Output {
        host: String,
        stream: Stream,
        line: String,
        echo: bool,
    },
    /// A command finished.
    CommandFinished {
        host: String,
        command: String,
        code: i32,
        ms: u64,
    },
    /// Progress of a long operation (image build, push, pull). `current`/`total` in units the
    /// operation chooses (bytes, layers, steps); `id` tells parallel items (layers) apart.
    Progress {
        host: String,
        task: String,
        id: String,
        status: String,
        current: Option<u64>,
        total: Option<u64>,
    },
    /// A long operation ended; a progress display can close.
    ProgressDone {
        host: String,
        task: String,
    },
    /// A file a real run changed, as a unified diff (`--diff`).
    Diff {
        host: String,
        diff: String,
    },
    /// One host of a fan-out finished.
    HostFinished {
        host: String,
        ok: bool,
        ms: u64,
        error: Option<String>,
    },
    /// A fan-out in batches starts batch `index` (1-based) of `of`, on these hosts.
    BatchStarted {
        index: usize,
        of: usize,
        hosts: Vec<String>,
    },
    /// A host of a fan-out that was never started, so nothing was done on it: an earlier
    /// batch failed past `max_fail`, or the run was interrupted. `reason` says which.
    HostUntouched {
        host: String,
        reason: String,
    },
    /// A fan-out with roll-out options ended: the hosts done, failed and untouched, and why it
    /// stopped early (None when every batch ran).
    RolloutFinished {
        batches: usize,
        batches_run: usize,
        done: Vec<String>,
        failed: Vec<String>,
        untouched: Vec<String>,
        stopped: Option<String>,
    },
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: Event);
    /// Complete lines of a command's output, as one read brought them: one call per read,
    /// not one per line. A reporter that prints them may write them straight out; by default
    /// each becomes an [`Event::Output`].
    fn output(&self, host: &str, stream: Stream, lines: &[&str], echo: bool) {
        output_events(host, stream, lines, echo, |e| self.event(e));
    }
    /// The lines of one read of a command's output have all been given as events: write out
    /// whatever was buffered. (A reporter may hold `Output` lines until this is called, so a
    /// command printing millions of lines costs one write per read, not one per line.)
    fn flush(&self) {}
}

/// Output lines as one [`Event::Output`] each, given to `event`.
pub fn output_events(
    host: &str,
    stream: Stream,
    lines: &[&str],
    echo: bool,
    event: impl Fn(Event),
) {
    for line in lines {
        event(Event::Output {
            host: host.to_string(),
            stream,
            line: (*line).to_string(),
            echo,
        });
    }
}

/// Discards everything: the default for embedding.
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _event: Event) {}
    fn output(&self, _host: &str, _stream: Stream, _lines: &[&str], _echo: bool) {}
}

/// Collects events in memory: handy for embedding programs and tests.
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

impl Reporter for Collect {
    fn event(&self, event: Event) {
        self.0.lock().expect("collect lock").push(event);
    }
}

pub type SharedReporter = Arc<dyn Reporter>;
