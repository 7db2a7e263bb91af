//! Output for people: host-prefixed lines, step banners, progress bars on a terminal, and a
//! summary table of hosts at the end.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::lines::{Line, Lines};
use crate::report::{Event, Reporter};

#[derive(Default)]
struct State {
    /// host -> (ok, ms, error) for the summary.
    hosts: Vec<(String, bool, u64, Option<String>)>,
    bars: HashMap<(String, String, String), ProgressBar>,
}

pub struct Human {
    lines: Lines,
    /// `-q`: only what needs reading (prints, warnings, failures).
    quiet: bool,
    tty: bool,
    multi: MultiProgress,
    state: Mutex<State>,
}

impl Human {
    pub fn new(verbose: bool, quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal() && !quiet;
        Human {
            lines: Lines::new(verbose),
            quiet,
            tty,
            multi: MultiProgress::with_draw_target(if tty {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            }),
            state: Mutex::new(State::default()),
        }
    }

    /// Print to stdout/stderr without tearing progress bars.
    fn line(&self, to_err: bool, text: &str) {
        let write = || {
            if to_err {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            } else {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
        };
        if self.tty {
            self.multi.suspend(write)
        } else {
            write()
        }
    }

    fn show(&self, line: Option<Line>) {
        if let Some(l) = line {
            self.line(l.to_err, &l.text);
        }
    }

    /// The fan-out summary (hosts that ran), as a table, on stderr.
    pub fn summary(&self) {
        let st = self.state.lock().expect("human state");
        if st.hosts.len() < 2 || (self.quiet && st.hosts.iter().all(|h| h.1)) {
            return;
        }
        let p = &self.lines.err;
        let mut rows = String::from("\nHOST                          RESULT  TIME\n");
        for (host, ok, ms, err) in &st.hosts {
            let result = if *ok {
                p.green("ok    ")
            } else {
                p.red("FAILED")
            };
            let why = err.as_deref().map(|e| format!("  {e}")).unwrap_or_default();
            rows.push_str(&format!(
                "{host:<30}{result}  {:.2}s{why}\n",
                *ms as f64 / 1000.0
            ));
        }
        let ok = st.hosts.iter().filter(|h| h.1).count();
        rows.push_str(&format!("{ok} ok, {} failed", st.hosts.len() - ok));
        drop(st);
        self.line(true, &rows);
    }
}

/// What `-q` does not show: progress, step banners of steps that worked, info messages and
/// streamed command output.
fn hushed(event: &Event) -> bool {
    use crate::report::Level;
    matches!(
        event,
        Event::Progress { .. }
            | Event::ProgressDone { .. }
            | Event::StepStarted { .. }
            | Event::StepFinished { ok: true, .. }
            | Event::Message {
                level: Level::Info,
                ..
            }
            | Event::Output { .. }
    )
}

impl Reporter for Human {
    fn event(&self, event: Event) {
        if self.quiet && hushed(&event) {
            return;
        }
        match event {
            Event::Progress {
                host,
                task,
                id,
                status,
                current,
                total,
            } => {
                if !self.tty {
                    self.show(self.lines.progress(&host, &task, &id, &status));
                    return;
                }
                let key = (host.clone(), task.clone(), id.clone());
                let mut st = self.state.lock().expect("human state");
                let bar = st.bars.entry(key).or_insert_with(|| {
                    let b = self.multi.add(ProgressBar::new(0));
                    b.set_style(
                        ProgressStyle::with_template(
                            "{prefix} {msg} {wide_bar} {bytes}/{total_bytes}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    b.set_prefix(format!("[{host}] {task} {id}"));
                    b
                });
                if let Some(t) = total {
                    bar.set_length(t);
                }
                if let Some(c) = current {
                    bar.set_position(c);
                }
                bar.set_message(status);
            }
            Event::ProgressDone { host, task } => {
                let mut st = self.state.lock().expect("human state");
                st.bars.retain(|(h, t, _), bar| {
                    let done = *h == host && *t == task;
                    if done {
                        bar.finish_and_clear();
                    }
                    !done
                });
                drop(st);
                self.lines.progress_done(&host, &task);
            }
            Event::HostFinished {
                host,
                ok,
                ms,
                error,
            } => {
                let mut st = self.state.lock().expect("human state");
                st.hosts.retain(|h| h.0 != host);
                st.hosts.push((host, ok, ms, error));
            }
            other => self.show(self.lines.text(&other)),
        }
    }
}
