//! What the REPL prints while an input runs: command output streamed line by line with a
//! host prefix, `print`, messages, step banners and progress. Nothing may tear the prompt:
//! while the prompt is on screen, lines wait and are printed as soon as the line is read.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::style::Painter;
use crate::report::{Event, Level, Reporter, SharedReporter, Stream};

/// There is one terminal per process, so the "prompt is up" state is process-wide.
static PROMPT_UP: AtomicBool = AtomicBool::new(false);
static WAITING: Mutex<Vec<(bool, String)>> = Mutex::new(Vec::new());

pub struct ReplReporter {
    out: Painter,
    err: Painter,
    verbose: bool,
    /// Last progress status per (host, task, id): a status is printed when it changes.
    progress: Mutex<std::collections::HashMap<(String, String, String), String>>,
}

/// The reporter `hoist repl` builds its runtime with.
pub fn reporter(verbose: bool) -> SharedReporter {
    std::sync::Arc::new(ReplReporter {
        out: Painter::for_stream(std::io::stdout().is_terminal()),
        err: Painter::for_stream(std::io::stderr().is_terminal()),
        verbose,
        progress: Mutex::new(Default::default()),
    })
}

/// The prompt is about to be shown: hold lines back from now on.
pub fn prompt_shown() {
    PROMPT_UP.store(true, Ordering::SeqCst);
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
    fn line(&self, to_err: bool, text: String) {
        if PROMPT_UP.load(Ordering::SeqCst) {
            WAITING.lock().expect("waiting lock").push((to_err, text));
        } else {
            write_line(to_err, &text);
        }
    }

    fn prefix(p: &Painter, host: &str) -> String {
        format!("{} ", p.dim(&format!("[{}]", p.host(host))))
    }
}

impl Reporter for ReplReporter {
    fn event(&self, event: Event) {
        match event {
            Event::Print { text } => self.line(false, text),
            Event::Message { level, text } => {
                let tag = match level {
                    Level::Info => self.err.blue("info:"),
                    Level::Warn => self.err.yellow("warn:"),
                };
                self.line(true, format!("{tag} {text}"));
            }
            Event::StepStarted { name } => self.line(true, self.err.bold(&format!("▶ {name}"))),
            Event::StepFinished { name, ok, ms } => {
                let mark = if ok {
                    self.err.green("✓")
                } else {
                    self.err.red("✗")
                };
                let took = self.err.dim(&format!("({:.2}s)", ms as f64 / 1000.0));
                self.line(true, format!("{mark} {name} {took}"));
            }
            Event::CommandStarted { host, command } if self.verbose => {
                let p = Self::prefix(&self.err, &host);
                self.line(
                    true,
                    format!("{p}{}", self.err.dim(&format!("$ {command}"))),
                );
            }
            Event::CommandFinished { host, code, ms, .. } if self.verbose => {
                let p = Self::prefix(&self.err, &host);
                self.line(
                    true,
                    format!("{p}{}", self.err.dim(&format!("exit {code} in {ms} ms"))),
                );
            }
            Event::Output {
                host, stream, line, ..
            } => match stream {
                Stream::Stdout => {
                    self.line(false, format!("{}{line}", Self::prefix(&self.out, &host)))
                }
                Stream::Stderr => {
                    self.line(true, format!("{}{line}", Self::prefix(&self.err, &host)))
                }
            },
            Event::Progress {
                host,
                task,
                id,
                status,
                ..
            } => {
                let key = (host.clone(), task.clone(), id.clone());
                let mut seen = self.progress.lock().expect("progress lock");
                if seen.get(&key) == Some(&status) {
                    return;
                }
                seen.insert(key, status.clone());
                drop(seen);
                let id = if id.is_empty() { id } else { format!("{id}: ") };
                let p = Self::prefix(&self.err, &host);
                self.line(true, format!("{p}{task}: {id}{status}"));
            }
            Event::ProgressDone { host, task } => {
                self.progress
                    .lock()
                    .expect("progress lock")
                    .retain(|(h, t, _), _| !(*h == host && *t == task));
            }
            Event::HostFinished {
                host,
                ok: false,
                error,
                ..
            } => {
                let p = Self::prefix(&self.err, &host);
                let why = error.unwrap_or_default();
                self.line(true, format!("{p}{} {why}", self.err.red("failed:")));
            }
            _ => {}
        }
    }
}
