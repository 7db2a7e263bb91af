//! What the REPL prints while an input runs: command output streamed line by line with a
//! host prefix, `print`, messages, step banners and progress. Nothing may tear the prompt:
//! while the prompt is on screen, lines wait and are printed as soon as the line is read.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::present::lines::{Line, Lines};
use crate::report::{Event, Reporter, SharedReporter};

/// There is one terminal per process, so the "prompt is up" state is process-wide.
static PROMPT_UP: AtomicBool = AtomicBool::new(false);
static WAITING: Mutex<Vec<(bool, String)>> = Mutex::new(Vec::new());

pub struct ReplReporter {
    lines: Lines,
}

/// The reporter `hoist repl` builds its runtime with.
pub fn reporter(verbose: bool) -> SharedReporter {
    std::sync::Arc::new(ReplReporter {
        lines: Lines::new(verbose),
    })
}

/// The prompt is about to be shown: hold lines back from now on.
pub fn prompt_shown() {
    PROMPT_UP.store(true, Ordering::SeqCst);
}

/// Is the session waiting at its prompt (no input running)?
pub fn at_prompt() -> bool {
    PROMPT_UP.load(Ordering::SeqCst)
}

/// The line was read: print what waited, then print directly again.
pub fn prompt_gone() {
    let waiting = std::mem::take(&mut *WAITING.lock().expect("waiting lock"));
    PROMPT_UP.store(false, Ordering::SeqCst);
    for (to_err, text) in waiting {
        write_line(to_err, &text);
    }
}

fn write_line(to_err: bool, text: &str) {
    if to_err {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    } else {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

impl ReplReporter {
    fn show(&self, line: Option<Line>) {
        let Some(Line { to_err, text }) = line else {
            return;
        };
        if PROMPT_UP.load(Ordering::SeqCst) {
            WAITING.lock().expect("waiting lock").push((to_err, text));
        } else {
            write_line(to_err, &text);
        }
    }
}

impl Reporter for ReplReporter {
    fn event(&self, event: Event) {
        match event {
            Event::Progress {
                host,
                task,
                id,
                status,
                ..
            } => self.show(self.lines.progress(&host, &task, &id, &status)),
            Event::ProgressDone { host, task } => self.lines.progress_done(&host, &task),
            Event::HostFinished {
                host,
                ok: false,
                error,
                ..
            } => {
                let err = &self.lines.err;
                let text = format!(
                    "{}{} {}",
                    Lines::prefix(err, &host),
                    err.red("failed:"),
                    error.unwrap_or_default()
                );
                self.show(Some(Line { to_err: true, text }));
            }
            other => self.show(self.lines.text(&other)),
        }
    }
}
