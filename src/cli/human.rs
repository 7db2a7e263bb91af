//! Output for people: host-prefixed lines, step banners, progress bars on a terminal, and a
//! summary table of hosts at the end.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::present::lines::{Line, Lines};
use crate::report::{Event, Reporter, Stream};

/// How a host of a fan-out ended, for the summary.
enum Outcome {
    Ok,
    Failed,
    /// Never started (a roll-out stopped before its batch, or an interrupt).
    Untouched,
}

struct HostRow {
    host: String,
    outcome: Outcome,
    ms: u64,
    /// The error, or why the host was left untouched.
    why: Option<String>,
}

#[derive(Default)]
struct State {
    hosts: Vec<HostRow>,
    bars: HashMap<(String, String, String), ProgressBar>,
}

pub struct Human {
    lines: Lines,
    /// `-q`: only what needs reading (prints, warnings, failures).
    quiet: bool,
    tty: bool,
    multi: MultiProgress,
    state: Mutex<State>,
    /// Command output lines for stdout, written out at [`Reporter::flush`] (the end of each
    /// read of output) or before anything else is printed, so the order of lines holds.
    out: Mutex<std::io::BufWriter<std::io::Stdout>>,
    /// Each host's `[host] ` for stdout, made once: a streamed line then costs no allocation.
    out_prefixes: Mutex<HashMap<String, String>>,
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
            out: Mutex::new(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stdout(),
            )),
            out_prefixes: Mutex::new(HashMap::new()),
        }
    }

    /// Print to stdout/stderr without tearing progress bars.
    fn line(&self, to_err: bool, text: &str) {
        let write = || {
            let mut out = self.out.lock().expect("human stdout");
            if to_err {
                let _ = out.flush();
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            } else {
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
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

    /// A command's output line for stdout: buffered until [`Reporter::flush`] (at a terminal
    /// with progress bars, written at once).
    fn output_line(&self, line: Option<Line>) {
        match line {
            Some(l) if !l.to_err && !self.tty => {
                let _ = writeln!(self.out.lock().expect("human stdout"), "{}", l.text);
            }
            other => self.show(other),
        }
    }

    /// Stdout output lines when no progress bars are drawn: straight into the buffer, each after
    /// the host's prefix (the hot path of a command printing millions of lines).
    fn output_to_stdout(&self, host: &str, lines: &[&str]) {
        let mut prefixes = self.out_prefixes.lock().expect("human prefixes");
        if !prefixes.contains_key(host) {
            prefixes.insert(host.to_string(), Lines::prefix(&self.lines.out, host));
        }
        let prefix = &prefixes[host];
        let mut out = self.out.lock().expect("human stdout");
        for line in lines {
            let _ = out
                .write_all(prefix.as_bytes())
                .and_then(|_| out.write_all(line.as_bytes()))
                .and_then(|_| out.write_all(b"\n"));
        }
    }

    /// The fan-out summary (hosts that ran, and those a roll-out left untouched), as a table,
    /// on stderr.
    pub fn summary(&self) {
        let st = self.state.lock().expect("human state");
        let all_ok = st.hosts.iter().all(|h| matches!(h.outcome, Outcome::Ok));
        if st.hosts.len() < 2 || (self.quiet && all_ok) {
            return;
        }
        let p = &self.lines.err;
        let mut rows = String::from("\nHOST                          RESULT     TIME\n");
        let (mut ok, mut failed, mut untouched) = (0, 0, 0);
        for row in &st.hosts {
            let (result, time) = match row.outcome {
                Outcome::Ok => {
                    ok += 1;
                    (
                        p.green("ok       "),
                        format!("{:.2}s", row.ms as f64 / 1000.0),
                    )
                }
                Outcome::Failed => {
                    failed += 1;
                    (
                        p.red("FAILED   "),
                        format!("{:.2}s", row.ms as f64 / 1000.0),
                    )
                }
                Outcome::Untouched => {
                    untouched += 1;
                    (p.yellow("untouched"), "-".to_string())
                }
            };
            let why = row
                .why
                .as_deref()
                .map(|e| format!("  {e}"))
                .unwrap_or_default();
            rows.push_str(&format!("{:<30}{result}  {time}{why}\n", row.host));
        }
        rows.push_str(&format!("{ok} ok, {failed} failed"));
        if untouched > 0 {
            rows.push_str(&format!(", {untouched} untouched"));
        }
        drop(st);
        self.line(true, &rows);
    }

    fn record(&self, row: HostRow) {
        let mut st = self.state.lock().expect("human state");
        st.hosts.retain(|h| h.host != row.host);
        st.hosts.push(row);
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
            } => self.record(HostRow {
                host,
                outcome: if ok { Outcome::Ok } else { Outcome::Failed },
                ms,
                why: error,
            }),
            Event::HostUntouched { host, reason } => self.record(HostRow {
                host,
                outcome: Outcome::Untouched,
                ms: 0,
                why: Some(reason),
            }),
            output @ Event::Output { .. } => self.output_line(self.lines.text(&output)),
            other => self.show(self.lines.text(&other)),
        }
    }

    fn output(&self, host: &str, stream: Stream, lines: &[&str], echo: bool) {
        if self.quiet || !(echo || self.lines.verbose) {
            return; // not shown: no event is made at all
        }
        if stream == Stream::Stdout && !self.tty {
            return self.output_to_stdout(host, lines);
        }
        crate::report::output_events(host, stream, lines, echo, |e| self.event(e));
    }

    fn flush(&self) {
        let _ = self.out.lock().expect("human stdout").flush();
    }
}
