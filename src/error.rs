//! The one error type. Every failure in hoist — a script error, a remote command that
//! exits non-zero, a bad option key, an unreachable host — becomes an [`Error`], and its
//! message is written in exactly one place ([`Error::render`]) so that every failure tells
//! the same story: where in the script, which host, which step, which command, what exit
//! code and the tail of stderr.

use std::fmt;

/// What kind of failure this is; decides the CLI exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user asked for something malformed: bad flags, bad inventory, bad option keys,
    /// syntax errors. Exit code 2.
    Usage,
    /// A remote or local step failed while running. Exit code 1.
    Failed,
    /// The run was interrupted (Ctrl-C). Exit code 130 in the CLI.
    Cancelled,
}

/// Where in a script the failure happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The source line itself, so the caret can be drawn under it.
    pub source_line: Option<String>,
}

/// The error hoist returns everywhere. Boxed so `Result<T>` stays small; fields are read
/// and written through `Deref` (`err.host`, `err.message`).
#[derive(Debug, Clone)]
pub struct Error(Box<ErrorData>);

#[derive(Debug, Clone)]
pub struct ErrorData {
    pub kind: ErrorKind,
    pub message: String,
    pub host: Option<String>,
    pub step: Option<String>,
    /// The rendered command, secrets already redacted.
    pub command: Option<String>,
    pub exit_code: Option<i32>,
    pub stderr_tail: Option<String>,
    pub hint: Option<String>,
    pub location: Option<ScriptLocation>,
    /// Failures of several hosts in one fan-out, each with its own context.
    pub causes: Vec<Error>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many trailing lines of stderr an error keeps.
const STDERR_TAIL_LINES: usize = 12;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorData {
            kind,
            message: message.into(),
            host: None,
            step: None,
            command: None,
            exit_code: None,
            stderr_tail: None,
            hint: None,
            location: None,
            causes: Vec::new(),
        }))
    }
    /// A usage or configuration error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    /// A runtime failure (exit code 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "interrupted")
    }
    pub fn host(mut self, host: impl Into<String>) -> Self {
        if self.host.is_none() {
            self.host = Some(host.into());
        }
        self
    }
    pub fn step(mut self, step: Option<String>) -> Self {
        if self.step.is_none() {
            self.step = step;
        }
        self
    }
    pub fn command(mut self, command: impl Into<String>) -> Self {
        if self.command.is_none() {
            self.command = Some(command.into());
        }
        self
    }
    pub fn exit_code(mut self, code: i32) -> Self {
        self.exit_code = Some(code);
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Keep only the last lines of a (possibly huge) stderr.
    pub fn stderr(mut self, stderr: &str) -> Self {
        let tail = tail_lines(stderr, STDERR_TAIL_LINES);
        if !tail.is_empty() {
            self.stderr_tail = Some(tail);
        }
        self
    }
    pub fn at(mut self, location: ScriptLocation) -> Self {
        if self.location.is_none() {
            self.location = Some(location);
        }
        self
    }
    pub fn with_causes(mut self, causes: Vec<Error>) -> Self {
        self.causes = causes;
        self
    }
    /// Wrap any foreign error as a runtime failure with a lead-in saying what was being done.
    pub fn wrap(doing: impl fmt::Display, err: impl fmt::Display) -> Self {
        Self::failed(format!("{doing}: {err}"))
    }

    /// Whether this is an interrupt (Ctrl-C, a termination signal), not a failure.
    pub fn is_cancelled(&self) -> bool {
        self.kind == ErrorKind::Cancelled
    }

    /// The message and the last line of stderr, on one line: for an error quoted inside
    /// another's message.
    pub fn brief(&self) -> String {
        match self
            .stderr_tail
            .as_deref()
            .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
        {
            Some(last) => format!("{}: {}", self.message, last.trim()),
            None => self.message.clone(),
        }
    }

    /// The CLI exit code for this error (API.md: 1 failure, 2 usage).
    pub fn exit_code_for_cli(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage => 2,
            ErrorKind::Failed => 1,
            ErrorKind::Cancelled => 130,
        }
    }

    /// The full human report: the one place failure messages are laid out.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, "");
        out
    }

    fn render_into(&self, out: &mut String, indent: &str) {
        use fmt::Write;
        let _ = writeln!(out, "{indent}error: {}", self.message);
        if let Some(loc) = &self.location {
            let _ = writeln!(
                out,
                "{indent}  --> {}:{}:{}",
                loc.file, loc.line, loc.column
            );
            if let Some(src) = &loc.source_line {
                let gutter = loc.line.to_string();
                let pad = " ".repeat(gutter.len());
                let _ = writeln!(out, "{indent}   {pad} |");
                let _ = writeln!(out, "{indent}   {gutter} | {src}");
                let caret_pad: String = src
                    .chars()
                    .take(loc.column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{indent}   {pad} | {caret_pad}^");
            }
        }
        let fields = [
            ("host", self.host.clone()),
            ("step", self.step.clone()),
            ("command", self.command.clone()),
            ("exit code", self.exit_code.map(|c| c.to_string())),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                let _ = writeln!(out, "{indent}  {name:>9}: {v}");
            }
        }
        if let Some(tail) = &self.stderr_tail {
            let _ = writeln!(out, "{indent}  stderr (last lines):");
            for line in tail.lines() {
                let _ = writeln!(out, "{indent}    | {line}");
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{indent}  hint: {hint}");
        }
        let nested = format!("{indent}    ");
        for cause in &self.causes {
            cause.render_into(out, &nested);
        }
    }

    /// A machine-readable form for `--json` and the audit log.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": format!("{:?}", self.kind).to_lowercase(),
            "message": self.message,
            "host": self.host,
            "step": self.step,
            "command": self.command,
            "exit_code": self.exit_code,
            "stderr_tail": self.stderr_tail,
            "hint": self.hint,
            "location": self.location.as_ref().map(|l| serde_json::json!({
                "file": l.file, "line": l.line, "column": l.column
            })),
            "causes": self.causes.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
        })
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

/// A one-line summary (the full report is [`Error::render`]).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(h) = &self.host {
            write!(f, "[{h}] ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(c) = self.exit_code {
            write!(f, " (exit code {c})")?;
        }
        if let Some(loc) = &self.location {
            write!(f, " at {}:{}:{}", loc.file, loc.line, loc.column)?;
        }
        if let Some(t) = &self.stderr_tail
            && let Some(last) = t.lines().rev().find(|l| !l.trim().is_empty())
        {
            write!(f, ": {}", last.trim())?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::failed(e.to_string())
    }
}

/// The last `n` non-empty-trailing lines of a text.
pub fn tail_lines(text: &str, n: usize) -> String {
    let trimmed = text.trim_end();
    let lines: Vec<&str> = trimmed.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}
