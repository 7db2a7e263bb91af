//! What every primitive needs from the run it belongs to: where events go, which secrets to
//! hide, the cancellation signal and the audit log. Cheap to clone.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::audit::{Audit, Entry};
use crate::report::{SharedReporter, Silent};
use crate::secret::Redactor;

struct Inner {
    redactor: Redactor,
    cancel: Mutex<CancellationToken>,
    /// Cancelled by a second stop signal: it stops undo and clean-up too (see [`shielded`]).
    abandon: Mutex<CancellationToken>,
    audit: Option<Audit>,
    echo: std::sync::atomic::AtomicBool,
    sudo_password: Mutex<Option<crate::secret::Secret>>,
    /// Where relative local paths start (see [`Services::local_dir`]).
    local_dir: Mutex<Option<std::path::PathBuf>>,
    effects: crate::effect::Effects,
    /// Failures a script asked to report after its result (`fail_at_end`).
    end_failures: Mutex<Vec<String>>,
}

#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
    pub reporter: SharedReporter,
    pub redactor: Redactor,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services")
    }
}

impl Services {
    pub fn new(reporter: SharedReporter, redactor: Redactor, audit: Option<Audit>) -> Self {
        Services {
            reporter: reporter.clone(),
            redactor: redactor.clone(),
            inner: Arc::new(Inner {
                redactor,
                cancel: Mutex::new(CancellationToken::new()),
                abandon: Mutex::new(CancellationToken::new()),
                audit,
                echo: std::sync::atomic::AtomicBool::new(false),
                sudo_password: Mutex::new(None),
                local_dir: Mutex::new(None),
                effects: crate::effect::Effects::default(),
                end_failures: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Nothing printed, nothing logged: for embedding and unit tests.
    pub fn silent() -> Self {
        Self::new(Arc::new(Silent), Redactor::default(), None)
    }

    /// Whether command output is streamed to the reporter by default.
    pub fn echo_output(&self) -> bool {
        self.inner.echo.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_echo_output(&self, on: bool) {
        self.inner
            .echo
            .store(on, std::sync::atomic::Ordering::Relaxed)
    }

    /// The directory relative local paths resolve against — the project's (hoist.toml's),
    /// else the directory of the script being run — and the one local commands start in.
    /// `None`: the process's current directory (a library user who set nothing).
    pub fn local_dir(&self) -> Option<std::path::PathBuf> {
        self.inner.local_dir.lock().expect("local dir lock").clone()
    }

    pub fn set_local_dir(&self, dir: std::path::PathBuf) {
        *self.inner.local_dir.lock().expect("local dir lock") = Some(dir);
    }

    /// A local path as the one path rule reads it: absolute and `~/` paths as they are (the
    /// latter in this user's home), relative ones against [`Services::local_dir`].
    pub fn resolve_local(&self, p: &str) -> std::path::PathBuf {
        let path = std::path::Path::new(p);
        if path.is_absolute() {
            return path.to_path_buf();
        }
        if (p == "~" || p.starts_with("~/"))
            && let Some(home) = dirs::home_dir()
        {
            return home.join(p.trim_start_matches('~').trim_start_matches('/'));
        }
        match self.local_dir() {
            Some(d) => d.join(path),
            None => path.to_path_buf(),
        }
    }

    /// The password `sudo: true` commands give sudo from now on (instead of `sudo -n`).
    pub fn set_sudo_password(&self, password: crate::secret::Secret) {
        self.inner.redactor.register(&password);
        *self.inner.sudo_password.lock().expect("sudo password lock") = Some(password);
    }

    pub fn sudo_password(&self) -> Option<crate::secret::Secret> {
        self.inner
            .sudo_password
            .lock()
            .expect("sudo password lock")
            .clone()
    }

    /// The token commands watch; cancelled by Ctrl-C. Inside [`shielded`] the token of a
    /// second signal, so clean-up (undo, releasing a lock) still runs after the first
    /// interrupt and stops at the second. Inside [`last_words`] a token never cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        if LAST_WORDS.with(|s| s.get()) {
            return CancellationToken::new();
        }
        if SHIELDED.with(|s| s.get()) {
            return self.inner.abandon.lock().expect("abandon lock").clone();
        }
        self.inner.cancel.lock().expect("cancel lock").clone()
    }

    /// A second stop signal: undo steps are skipped from here on (their running command is
    /// killed), each says what it leaves behind, and the run ends.
    pub fn abandon(&self) {
        self.cancel();
        self.inner.abandon.lock().expect("abandon lock").cancel();
    }

    /// Whether a second stop signal came (see [`Services::abandon`]).
    pub fn is_abandoned(&self) -> bool {
        self.inner
            .abandon
            .lock()
            .expect("abandon lock")
            .is_cancelled()
    }

    /// Stop whatever is running now.
    pub fn cancel(&self) {
        self.inner.cancel.lock().expect("cancel lock").cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner
            .cancel
            .lock()
            .expect("cancel lock")
            .is_cancelled()
    }

    /// Arm a fresh token (the REPL goes on after a Ctrl-C).
    pub fn reset_cancel(&self) {
        *self.inner.cancel.lock().expect("cancel lock") = CancellationToken::new();
        *self.inner.abandon.lock().expect("abandon lock") = CancellationToken::new();
    }

    /// The run ends as failed with `message` once its result is shown (`fail_at_end`).
    pub fn fail_at_end(&self, message: &str) {
        self.inner
            .end_failures
            .lock()
            .expect("end failures lock")
            .push(message.to_string());
    }

    /// What [`Services::fail_at_end`] collected, emptied.
    pub fn take_end_failures(&self) -> Vec<String> {
        std::mem::take(&mut *self.inner.end_failures.lock().expect("end failures lock"))
    }

    /// The run's effect boundary: every change passes it (see [`crate::effect`]).
    pub fn effects(&self) -> &crate::effect::Effects {
        &self.inner.effects
    }

    /// Append one change to the audit log (if there is one), secrets redacted. Probes are
    /// logged only with `-v`; a dry run logs nothing (it changed nothing).
    pub fn audit(&self, mut entry: Entry) {
        if self.inner.effects.planning() || (entry.probe && !self.echo_output()) {
            return;
        }
        if let Some(a) = &self.inner.audit {
            entry.command = self.inner.redactor.redact(&entry.command);
            if let Some(c) = &mut entry.change
                && let Some(s) = c.get("summary").and_then(|s| s.as_str())
            {
                c["summary"] = self.inner.redactor.redact(s).into();
            }
            a.append(entry);
        }
    }

    /// Name the recipe this run runs, with its parameters, for the audit log.
    pub fn audit_recipe(&self, name: &str, params: serde_json::Value) {
        if let Some(a) = &self.inner.audit {
            let redacted = self.inner.redactor.redact(&params.to_string());
            // Should redaction have broken the JSON, the redacted text is kept, never the values.
            a.set_recipe(
                name,
                serde_json::from_str(&redacted).unwrap_or(serde_json::Value::String(redacted)),
            );
        }
    }

    pub fn audit_path(&self) -> Option<std::path::PathBuf> {
        self.inner.audit.as_ref().map(|a| a.path().to_path_buf())
    }
}

thread_local! {
    static SHIELDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_WORDS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` (clean-up after a failure or an interrupt) with commands on this thread deaf to
/// the first Ctrl-C: the undo must reach the hosts. A second Ctrl-C stops it too (see
/// [`Services::abandon`]).
pub fn shielded<R>(f: impl FnOnce() -> R) -> R {
    let was = SHIELDED.with(|s| s.replace(true));
    let r = f();
    SHIELDED.with(|s| s.set(was));
    r
}

/// [`shielded`] for async work: every poll of `f` runs shielded (the future is driven on
/// the thread that awaits it, as `Runtime::block_on` does).
pub async fn shielded_async<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| shielded(|| f.as_mut().poll(cx))).await
}

/// Whether this thread is inside [`shielded`] (the script engine stays quiet about the
/// interrupt there too, so an undo written in Rhai runs to its end).
pub fn is_shielded() -> bool {
    SHIELDED.with(|s| s.get())
}

/// Run `f` deaf to every signal: what a run does on its way out after a second signal
/// (saying what each host is left in, removing its lock). The caller bounds its time.
pub fn last_words<R>(f: impl FnOnce() -> R) -> R {
    let was = LAST_WORDS.with(|s| s.replace(true));
    let r = f();
    LAST_WORDS.with(|s| s.set(was));
    r
}

/// Whether this thread is inside [`last_words`].
pub fn in_last_words() -> bool {
    LAST_WORDS.with(|s| s.get())
}
