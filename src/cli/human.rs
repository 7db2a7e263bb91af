//! Output for people: host-prefixed lines, step banners, progress bars on a terminal, and a
//! summary table of hosts at the end.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::style::Painter;
use crate::report::{Event, Level, Reporter, Stream};

#[derive(Default)]
struct State {
    /// host -> (ok, ms, error) for the summary.
    hosts: Vec<(String, bool, u64, Option<String>)>,
    bars: HashMap<(String, String, String), ProgressBar>,
    /// Last status printed per progress item when there is no terminal.
    last_status: HashMap<(String, String, String), String>,
}

pub struct Human {
    out: Painter,
    err: Painter,
    verbose: bool,
    tty: bool,
    multi: MultiProgress,
    state: Mutex<State>,
}

impl Human {
    pub fn new(verbose: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        Human {
            out: Painter::for_stream(std::io::stdout().is_terminal()),
            err: Painter::for_stream(tty),
            verbose,
            tty,
            multi: MultiProgress::with_draw_target(if tty {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            }),
            state: Mutex::new(State::default()),
        }
    }

    fn prefix(&self, p: &Painter, host: &str) -> String {
        format!("{} ", p.dim(&format!("[{}]", p.host(host))))
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

    /// A dimmed, host-prefixed line on stderr, only with `-v`.
    fn verbose_note(&self, host: &str, text: &str) {
        if self.verbose {
            let line = format!("{}{}", self.prefix(&self.err, host), self.err.dim(text));
            self.line(true, &line);
        }
    }

    /// The fan-out summary (hosts that ran), as a table, on stderr.
    pub fn summary(&self) {
        let st = self.state.lock().expect("human state");
        if st.hosts.len() < 2 {
            return;
        }
        let p = &self.err;
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

impl Reporter for Human {
    fn event(&self, event: Event) {
        match event {
            Event::Print { text } => self.line(false, &text),
            Event::Message { level, text } => {
                let tag = match level {
                    Level::Info => self.err.blue("info:"),
                    Level::Warn => self.err.yellow("warn:"),
                };
                self.line(true, &format!("{tag} {text}"));
            }
            Event::StepStarted { name } => self.line(true, &self.err.bold(&format!("▶ {name}"))),
            Event::StepFinished { name, ok, ms } => {
                let mark = if ok {
                    self.err.green("✓")
                } else {
                    self.err.red("✗")
                };
                self.line(
                    true,
                    &format!(
                        "{mark} {name} {}",
                        self.err.dim(&format!("({:.2}s)", ms as f64 / 1000.0))
                    ),
                );
            }
            Event::CommandStarted { host, command } => {
                self.verbose_note(&host, &format!("$ {command}"));
            }
            Event::Output {
                host,
                stream,
                line,
                echo,
            } => match (echo || self.verbose, stream) {
                (false, _) => {}
                (true, Stream::Stdout) => {
                    self.line(false, &format!("{}{line}", self.prefix(&self.out, &host)))
                }
                (true, Stream::Stderr) => {
                    self.line(true, &format!("{}{line}", self.prefix(&self.err, &host)))
                }
            },
            Event::CommandFinished {
                host,
                command,
                code,
                ms,
            } => {
                self.verbose_note(&host, &format!("exit {code} in {ms} ms: {command}"));
            }
            Event::Progress {
                host,
                task,
                id,
                status,
                current,
                total,
            } => {
                let key = (host.clone(), task.clone(), id.clone());
                let mut st = self.state.lock().expect("human state");
                if self.tty {
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
                } else if st.last_status.get(&key) != Some(&status) {
                    st.last_status.insert(key, status.clone());
                    drop(st);
                    let id = if id.is_empty() {
                        String::new()
                    } else {
                        format!("{id}: ")
                    };
                    self.line(
                        true,
                        &format!("{}{task}: {id}{status}", self.prefix(&self.err, &host)),
                    );
                }
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
                st.last_status
                    .retain(|(h, t, _), _| !(*h == host && *t == task));
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
        }
    }
}
