//! Commands as data. A primitive describes what it wants to run as a [`Command`] (argv or a
//! shell string the user wrote, plus sudo, cwd, env, stdin, timeout); this module is the one
//! place where that becomes shell text. The executor, the audit log, error messages and (later)
//! the dry-run plan all use the same renderer, so what is shown is what runs.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::{REDACTED, Secret};

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Program {
    /// A shell command line written by the user, run by `sh` as is.
    Shell(String),
    /// An argv; every item is quoted, so it arrives byte for byte.
    Argv(Vec<String>),
}

/// An environment value; secrets are redacted when displayed.
#[derive(Debug, Clone)]
pub enum Value {
    Plain(String),
    Secret(Secret),
}

impl Value {
    fn expose(&self) -> &str {
        match self {
            Value::Plain(s) => s,
            Value::Secret(s) => s.expose(),
        }
    }
}

/// Data fed to the command's standard input.
#[derive(Debug, Clone)]
pub enum Stdin {
    Bytes(Vec<u8>),
    Secret(Secret),
    /// `head`, then the whole of a local file, read piece by piece as the command takes it:
    /// an upload of any size is never held in memory.
    File {
        head: Vec<u8>,
        path: std::path::PathBuf,
    },
}

impl Stdin {
    /// The bytes fed first (all of them, but for [`Stdin::File`]: its head).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Stdin::Bytes(b) => b,
            Stdin::Secret(s) => s.expose().as_bytes(),
            Stdin::File { head, .. } => head,
        }
    }
    /// The local file whose content follows [`Stdin::bytes`].
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Stdin::File { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// A file that receives a command's stdout byte for byte (see [`Command::stdout_to`]).
pub type RawStdout = std::sync::Arc<std::sync::Mutex<RawFile>>;

/// The file and the first error writing to it.
#[derive(Debug)]
pub struct RawFile {
    pub file: std::fs::File,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub program: Program,
    pub sudo: bool,
    pub cwd: Option<String>,
    pub env: Vec<(String, Value)>,
    pub stdin: Option<Stdin>,
    pub timeout: Option<Duration>,
    /// Fail (return an error) on a non-zero exit.
    pub check: bool,
    /// Stream output lines to the reporter as they arrive: `None` follows the run's default
    /// (on with `-v` and in the REPL), `Some(false)` for file transfers and probes.
    pub stream: Option<bool>,
    /// Keep stdout for the result (the default); without, it only streams, so a command may
    /// print any amount in bounded memory.
    pub capture: bool,
    /// Given to sudo when it asks (see [`Command::render`]); `None`: `sudo -n`, never asks.
    pub sudo_password: Option<Secret>,
    /// The argv items are paths (a primitive's `git -C DIR`, `umount TARGET`): one that starts
    /// with `~/` (or is `~`) is the home directory (see [`quote_path`]). Off for argv a user
    /// wrote, which arrives byte for byte.
    pub home_paths: bool,
    /// A read-only probe: changes nothing, so it runs in a dry run too and is not audited
    /// as a change. Everything else is a change (the safe default: a dry run never runs it).
    pub probe: bool,
    /// What the command changes, when a primitive can say it better than the command line
    /// (a file written, with its old and new content); else the command itself is the change.
    pub change: Option<Box<crate::effect::Change>>,
    /// stdout goes, byte for byte, into this file as it arrives instead of being kept (a
    /// download: any size in bounded memory).
    pub stdout_to: Option<RawStdout>,
}

impl Command {
    pub fn shell(text: impl Into<String>) -> Self {
        Self::with_program(Program::Shell(text.into()))
    }
    pub fn argv<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_program(Program::Argv(args.into_iter().map(Into::into).collect()))
    }
    fn with_program(program: Program) -> Self {
        Command {
            program,
            sudo: false,
            cwd: None,
            env: Vec::new(),
            stdin: None,
            timeout: None,
            check: true,
            stream: None,
            capture: true,
            sudo_password: None,
            home_paths: false,
            probe: false,
            change: None,
            stdout_to: None,
        }
    }
    /// Render argv items that are home paths (`~/x`) as the home directory; see
    /// [`Command::home_paths`].
    pub fn home_paths(mut self) -> Self {
        self.home_paths = true;
        self
    }
    pub fn sudo(mut self, sudo: bool) -> Self {
        self.sudo = sudo;
        self
    }
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), Value::Plain(value.into())));
        self
    }
    pub fn env_secret(mut self, key: impl Into<String>, value: Secret) -> Self {
        self.env.push((key.into(), Value::Secret(value)));
        self
    }
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(Stdin::Bytes(data.into()));
        self
    }
    /// Feed `head`, then the content of the local file `path`, streamed.
    pub fn stdin_file(
        mut self,
        head: impl Into<Vec<u8>>,
        path: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.stdin = Some(Stdin::File {
            head: head.into(),
            path: path.into(),
        });
        self
    }
    pub fn stdin_secret(mut self, secret: Secret) -> Self {
        self.stdin = Some(Stdin::Secret(secret));
        self
    }
    pub fn timeout(mut self, t: Option<Duration>) -> Self {
        self.timeout = t;
        self
    }
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }
    pub fn quiet(mut self) -> Self {
        self.stream = Some(false);
        self
    }
    pub fn stream(mut self, on: Option<bool>) -> Self {
        self.stream = on;
        self
    }
    /// Mark a read-only probe (runs in dry runs too; see [`Command::probe`]).
    pub fn probe(mut self) -> Self {
        self.probe = true;
        self
    }
    /// Describe what this command changes (see [`Command::change`]).
    pub fn describe(mut self, change: crate::effect::Change) -> Self {
        self.change = Some(Box::new(change));
        self
    }
    pub fn sudo_password(mut self, password: Option<Secret>) -> Self {
        self.sudo_password = password;
        self
    }
    /// Write stdout into `to` as it arrives (and keep none of it).
    pub fn stdout_to(mut self, to: RawStdout) -> Self {
        self.stdout_to = Some(to);
        self.capture = false;
        self
    }
    pub fn capture(mut self, on: bool) -> Self {
        self.capture = on;
        self
    }

    /// Refuse what no shell can carry: a NUL byte (the shell would drop it silently, so the
    /// program would get another argument, path or value than the one asked for) and an
    /// environment name that is not a shell identifier (`A-B` would become `A_B` and
    /// silently merge with it). The error names the argument and never shows a value.
    pub fn validate(&self) -> Result<()> {
        let nul = |what: String| {
            Error::usage(format!(
                "{what} contains a NUL byte, which no command can be given"
            ))
        };
        match &self.program {
            Program::Shell(s) if s.contains('\0') => {
                return Err(nul("the command text".into()));
            }
            Program::Argv(argv) => {
                if let Some(i) = argv.iter().position(|a| a.contains('\0')) {
                    let prog = argv.first().filter(|_| i > 0).map(|p| format!(" of `{p}`"));
                    return Err(nul(format!("argument {i}{}", prog.unwrap_or_default())));
                }
            }
            Program::Shell(_) => {}
        }
        if let Some(cwd) = &self.cwd {
            if cwd.is_empty() {
                return Err(Error::usage("cwd is empty: name a directory"));
            }
            if cwd.contains('\0') {
                return Err(nul("cwd".into()));
            }
        }
        for (k, v) in &self.env {
            if !is_env_name(k) {
                return Err(Error::usage(format!(
                    "env name `{}` is not a shell identifier (letters, digits and _, not starting with a digit)",
                    k.escape_debug()
                )));
            }
            if v.expose().contains('\0') {
                return Err(nul(format!("the value of env {k}")));
            }
        }
        Ok(())
    }

    /// The shell text that runs this command (secrets included: for the executor only).
    pub fn render(&self) -> String {
        self.render_with(false)
    }

    /// The same text with secret values replaced: for display, audit and errors.
    pub fn display(&self) -> String {
        self.render_with(true)
    }

    fn render_with(&self, redact: bool) -> String {
        let value = |v: &Value| -> String {
            match (v, redact) {
                (Value::Secret(_), true) => REDACTED.to_string(),
                _ => quote(v.expose()),
            }
        };
        let program = match &self.program {
            Program::Shell(s) => s.clone(),
            Program::Argv(argv) if self.home_paths => argv
                .iter()
                .map(|a| quote_arg(a))
                .collect::<Vec<_>>()
                .join(" "),
            Program::Argv(argv) => join(argv),
        };
        let mut prefix = String::new();
        if let Some(cwd) = &self.cwd {
            prefix.push_str(&format!("cd -- {} && ", cd_path(cwd)));
        }
        if !self.sudo {
            for (k, v) in &self.env {
                prefix.push_str(&format!("export {}={} && ", env_key(k), value(v)));
            }
            return format!("{prefix}{program}");
        }
        // Under sudo the inner script is an argv item of `sh -c`, visible in `ps`: plain env
        // values go inside it; secret values are exported outside and kept across sudo with
        // --preserve-env, so they never appear in any argv.
        let mut outer = String::new();
        let mut keep = Vec::new();
        let mut inner = prefix;
        for (k, v) in &self.env {
            match v {
                Value::Plain(_) => {
                    inner.push_str(&format!("export {}={} && ", env_key(k), value(v)))
                }
                Value::Secret(_) => {
                    outer.push_str(&format!("export {}={} && ", env_key(k), value(v)));
                    keep.push(env_key(k));
                }
            }
        }
        inner.push_str(&program);
        let preserve = if keep.is_empty() {
            String::new()
        } else {
            format!("--preserve-env={} ", keep.join(","))
        };
        match &self.sudo_password {
            None => format!("{outer}sudo -n {preserve}-- sh -c {}", quote(&inner)),
            // sudo asks its askpass program, with the prompt as argument: `printenv` with the
            // prompt HOIST_SUDO_PW prints that variable. The password so travels only in the
            // environment (of this command and of sudo, which is root's to read), never in
            // argv or a file, and sudo's env_reset keeps it from the command itself.
            Some(pw) => {
                let pw = if redact {
                    REDACTED.to_string()
                } else {
                    quote(pw.expose())
                };
                format!(
                    "{outer}export HOIST_SUDO_PW={pw} && SUDO_ASKPASS=$(command -v printenv) \
                     sudo -A -p HOIST_SUDO_PW {preserve}-- sh -c {}",
                    quote(&inner)
                )
            }
        }
    }
}

/// Quote one value for a POSIX shell. The only quoting function in hoist.
pub fn quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let safe = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if safe {
        return s.to_string();
    }
    // Single quotes keep every byte literal except the quote itself, which is closed,
    // escaped and reopened. (A leading dash is no shell syntax: whether `-n` is an option is
    // the program's business, so argv-building primitives add `--` where it matters.)
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A path that may start with `~/`: that is the home of the user the command runs as (the
/// login user; root under sudo), rendered as `"$HOME"/…` with the rest quoted, so `~/apps`
/// means the same in every primitive on every host. `~user/…` is not expanded.
pub fn quote_path(p: &str) -> String {
    if p == "~" {
        return "\"$HOME\"".to_string();
    }
    if let Some(rest) = p.strip_prefix("~/") {
        if rest.is_empty() {
            return "\"$HOME\"/".to_string();
        }
        return format!("\"$HOME\"/{}", quote(rest));
    }
    quote(p)
}

/// One argv item of a primitive whose items are paths: quoted, except that a home path (`~`
/// or `~/…`) means the home directory, as the same word typed at a shell would (see
/// [`quote_path`]).
fn quote_arg(a: &str) -> String {
    if a == "~" || a.starts_with("~/") {
        quote_path(a)
    } else {
        quote(a)
    }
}

/// Join an argv into a shell command line, quoting every item.
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A directory for `cd`, taken literally: a relative one gets `./`, so `-` is not "the
/// previous directory", `-P`/`-L` are not options and CDPATH is not searched.
fn cd_path(p: &str) -> String {
    if p.starts_with('/') || p == "~" || p.starts_with("~/") {
        quote_path(p)
    } else {
        format!("./{}", quote(p))
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the names a shell can export.
pub fn is_env_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn env_key(k: &str) -> String {
    // Environment names are identifiers; anything else would be shell syntax, so it is
    // replaced rather than passed through.
    k.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_keeps_safe_words_bare() {
        assert_eq!(quote("abc/def-1.2"), "abc/def-1.2");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("-n"), "-n");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(id)"), "'$(id)'");
    }

    #[test]
    fn render_argv_with_cwd_env_and_sudo() {
        let c = Command::argv(["echo", "a b"])
            .cwd("/tmp/x y")
            .env("K", "v 1");
        assert_eq!(
            c.render(),
            "cd -- '/tmp/x y' && export K='v 1' && echo 'a b'"
        );
        let s = Command::argv(["id"]).sudo(true).env("A", "1");
        assert_eq!(s.render(), "sudo -n -- sh -c 'export A=1 && id'");
    }

    #[test]
    fn secrets_are_redacted_in_display_and_kept_out_of_sudo_argv() {
        let c = Command::argv(["env"])
            .sudo(true)
            .env_secret("TOKEN", Secret::new("s3cr3t"));
        assert!(!c.display().contains("s3cr3t"));
        assert!(c.display().contains("[REDACTED]"));
        let real = c.render();
        let sudo_part = real.split("sudo").nth(1).unwrap();
        assert!(
            !sudo_part.contains("s3cr3t"),
            "secret must not be in sudo argv: {real}"
        );
        assert!(real.contains("--preserve-env=TOKEN"));
    }

    #[test]
    fn a_leading_tilde_is_the_home_in_argv_and_paths() {
        let r = |a: &str| {
            Command::argv(["git", "clone", "--", "u", a])
                .home_paths()
                .render()
        };
        assert_eq!(r("~/x y"), "git clone -- u \"$HOME\"/'x y'");
        assert_eq!(r("~"), "git clone -- u \"$HOME\"");
        assert_eq!(r("a~/x"), "git clone -- u 'a~/x'");
        assert_eq!(r("~root/x"), "git clone -- u '~root/x'");
        assert_eq!(quote_path("~/it's"), "\"$HOME\"/'it'\\''s'");
        assert_eq!(
            Command::argv(["echo", "~/x"]).render(),
            "echo '~/x'",
            "argv a user wrote arrives byte for byte"
        );
    }

    #[test]
    fn relative_cwds_are_taken_literally() {
        let r = |cwd: &str| Command::argv(["pwd"]).cwd(cwd).render();
        assert_eq!(r("-"), "cd -- ./- && pwd");
        assert_eq!(r("-P"), "cd -- ./-P && pwd");
        assert_eq!(r("--"), "cd -- ./-- && pwd");
        assert_eq!(r("a b"), "cd -- ./'a b' && pwd");
        assert_eq!(r("~/x"), "cd -- \"$HOME\"/x && pwd");
        assert_eq!(r("~"), "cd -- \"$HOME\" && pwd");
    }

    #[test]
    fn nul_bytes_and_non_identifier_env_names_are_refused_by_name() {
        let e = Command::argv(["printf", "%s", "a\0b"])
            .validate()
            .unwrap_err();
        assert_eq!(
            e.message,
            "argument 2 of `printf` contains a NUL byte, which no command can be given"
        );
        let e = Command::shell("echo a\0b").validate().unwrap_err();
        assert!(
            e.message.starts_with("the command text contains a NUL"),
            "{e}"
        );
        let e = Command::argv(["ls"]).cwd("/tmp\0x").validate().unwrap_err();
        assert!(e.message.starts_with("cwd contains a NUL"), "{e}");
        let e = Command::argv(["env"])
            .env_secret("TOKEN", Secret::new("s3\0cret"))
            .validate()
            .unwrap_err();
        assert!(
            e.message
                .starts_with("the value of env TOKEN contains a NUL"),
            "{e}"
        );
        assert!(!e.render().contains("s3"), "no value shown: {e}");
        for bad in ["A-B", "1A", "", "A B", "A=B", "Ä"] {
            let e = Command::argv(["env"]).env(bad, "1").validate().unwrap_err();
            assert!(
                e.message.contains("is not a shell identifier"),
                "{bad}: {e}"
            );
        }
        for good in ["A_B", "_x", "PATH2"] {
            Command::argv(["env"]).env(good, "1").validate().unwrap();
        }
    }

    #[test]
    fn tilde_paths_expand_remotely() {
        assert_eq!(quote_path("~/apps/my app"), "\"$HOME\"/'apps/my app'");
    }
}
