//! How events read as lines of text for a person. The CLI's reporter and the REPL's share it,
//! so both show output, messages, steps and progress the same way; they differ only in where
//! the lines go (around progress bars, or held back while the prompt is up).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use super::style::Painter;
use crate::report::{Event, Level, Stream};

/// A line to print, and whether it goes to stderr.
pub struct Line {
    pub to_err: bool,
    pub text: String,
}

pub struct Lines {
    pub out: Painter,
    pub err: Painter,
    /// `-v`: every command, its exit and all of its output.
    pub verbose: bool,
    /// Last status shown per progress item (host, task, id): a status is shown when it changes.
    last_status: Mutex<HashMap<(String, String, String), String>>,
}

/// A unified diff, each line after the host's prefix: removed lines red, added green.
pub fn paint_diff(p: &Painter, host: &str, diff: &str) -> String {
    let prefix = Lines::prefix(p, host);
    diff.lines()
        .map(|l| {
            let body = if l.starts_with("+++") || l.starts_with("---") {
                p.bold(l)
            } else if l.starts_with('+') {
                p.green(l)
            } else if l.starts_with('-') {
                p.red(l)
            } else if l.starts_with("@@") {
                p.blue(l)
            } else {
                l.to_string()
            };
            format!("{prefix}{body}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Lines {
    pub fn new(verbose: bool) -> Self {
        Lines {
            out: Painter::for_stream(std::io::stdout().is_terminal()),
            err: Painter::for_stream(std::io::stderr().is_terminal()),
            verbose,
            last_status: Mutex::new(HashMap::new()),
        }
    }

    /// `[host] ` in the host's colour.
    pub fn prefix(p: &Painter, host: &str) -> String {
        format!("{} ", p.dim(&format!("[{}]", p.host(host))))
    }

    fn err(&self, text: String) -> Option<Line> {
        Some(Line { to_err: true, text })
    }

    /// The line an event reads as, if it is one of the plain ones (print, messages, steps,
    /// commands, output). Progress is [`Lines::progress`]; host results are the caller's.
    pub fn text(&self, event: &Event) -> Option<Line> {
        let e = &self.err;
        match event {
            Event::Print { text } => Some(Line {
                to_err: false,
                text: text.clone(),
            }),
            Event::Message { level, text } => {
                let tag = match level {
                    Level::Info => e.blue("info:"),
                    Level::Warn => e.yellow("warn:"),
                };
                self.err(format!("{tag} {text}"))
            }
            Event::StepStarted { name } => self.err(e.bold(&format!("▶ {name}"))),
            Event::StepFinished { name, ok, ms } => {
                let mark = if *ok { e.green("✓") } else { e.red("✗") };
                self.err(format!(
                    "{mark} {name} {}",
                    e.dim(&format!("({:.2}s)", *ms as f64 / 1000.0))
                ))
            }
            Event::BatchStarted { index, of, hosts } => {
                self.err(e.bold(&format!("▶ batch {index} of {of}: {}", hosts.join(", "))))
            }
            Event::HostUntouched { host, reason } => self.err(format!(
                "{}{} {reason}",
                Self::prefix(e, host),
                e.yellow("untouched:")
            )),
            Event::CommandStarted { host, command } if self.verbose => self.err(format!(
                "{}{}",
                Self::prefix(e, host),
                e.dim(&format!("$ {command}"))
            )),
            Event::CommandFinished {
                host,
                command,
                code,
                ms,
            } if self.verbose => self.err(format!(
                "{}{}",
                Self::prefix(e, host),
                e.dim(&format!("exit {code} in {ms} ms: {command}"))
            )),
            Event::Output {
                host,
                stream,
                line,
                echo,
            } if *echo || self.verbose => match stream {
                Stream::Stdout => Some(Line {
                    to_err: false,
                    text: format!("{}{line}", Self::prefix(&self.out, host)),
                }),
                Stream::Stderr => self.err(format!("{}{line}", Self::prefix(e, host))),
            },
            Event::Diff { host, diff } => Some(Line {
                to_err: false,
                text: paint_diff(&self.out, host, diff),
            }),
            _ => None,
        }
    }

    /// A progress status as a line, when it differs from the last one shown for that item
    /// (for output without progress bars).
    pub fn progress(&self, host: &str, task: &str, id: &str, status: &str) -> Option<Line> {
        let key = (host.to_string(), task.to_string(), id.to_string());
        let mut last = self.last_status.lock().expect("progress lock");
        if last.get(&key).map(String::as_str) == Some(status) {
            return None;
        }
        last.insert(key, status.to_string());
        let id = if id.is_empty() {
            String::new()
        } else {
            format!("{id}: ")
        };
        self.err(format!(
            "{}{task}: {id}{status}",
            Self::prefix(&self.err, host)
        ))
    }

    /// A long operation ended: forget its statuses.
    pub fn progress_done(&self, host: &str, task: &str) {
        self.last_status
            .lock()
            .expect("progress lock")
            .retain(|(h, t, _), _| !(h == host && t == task));
    }
}
