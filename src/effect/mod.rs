//! The effect boundary. Every change a primitive makes — a command that is not a read-only
//! probe, a file written, a docker, registry or local file operation — is a [`Change`] that
//! passes one gate, [`crate::services::Services::perform`] (see [`crate::gate`]). In a real run the change goes ahead and is audited; in a
//! dry run (`--dry-run`) it is recorded in the [`Plan`] and not made, and the primitive goes on
//! with a placeholder result. Probes (reads, digests, `docker inspect`, `capture`) run in both
//! modes, so a plan is computed from the hosts' real state.

mod change;
pub mod diff;
mod performed;
mod plan;

use std::sync::Mutex;

pub use change::Change;
pub use performed::Performed;
pub use plan::{Plan, Planned, Uncertainty};

/// Whether changes are made or only planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Apply,
    /// `--dry-run`: record changes, make none.
    Plan,
}

/// The run's effect boundary (one per run, shared by every host).
#[derive(Default)]
pub struct Effects {
    mode: Mutex<Mode>,
    /// `--diff`: a real run shows the diff of each file it changed.
    show_diffs: std::sync::atomic::AtomicBool,
    plan: Mutex<Plan>,
    /// Files a dry run would have written (Some) or removed (None), by (host, path): later
    /// reads of the same run see them, so a plan that reads what it wrote stays exact.
    files: Mutex<std::collections::HashMap<FileKey, Option<Vec<u8>>>>,
}

/// (host, normalised path).
type FileKey = (String, String);

/// `a//b/./c` and `a/b/c` name one file for the dry run's file view.
fn file_key(host: &str, path: &str) -> FileKey {
    let mut p = String::with_capacity(path.len());
    for part in path.split('/') {
        if part.is_empty() || part == "." {
            if p.is_empty() && path.starts_with('/') {
                p.push('/');
            }
            continue;
        }
        if !p.is_empty() && !p.ends_with('/') {
            p.push('/');
        }
        p.push_str(part);
    }
    (host.to_string(), p)
}

impl Effects {
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().expect("effects lock") = mode;
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock().expect("effects lock")
    }

    /// A dry run: changes are recorded, not made.
    pub fn planning(&self) -> bool {
        self.mode() == Mode::Plan
    }

    pub fn set_show_diffs(&self, on: bool) {
        self.show_diffs
            .store(on, std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether primitives should read a file's old content to diff it (a plan, or `--diff`).
    pub fn wants_diffs(&self) -> bool {
        self.planning() || self.show_diffs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `change` may be made now (`false`: a dry run recorded it in the plan). Only
    /// the gate asks: primitives call [`crate::services::Services::perform`], which also runs,
    /// times and audits the change.
    pub(crate) fn admit(&self, host: &str, change: &Change) -> bool {
        if !self.planning() {
            return true;
        }
        self.plan.lock().expect("plan lock").changes.push(Planned {
            host: host.to_string(),
            step: crate::step::current(),
            change: change.clone(),
            notes: Vec::new(),
        });
        false
    }

    /// A script used a placeholder (the result of a change that was not made): the plan is
    /// not exact from `at` on. Recorded once per place.
    pub fn uncertain(&self, at: String, host: Option<String>, reason: String) {
        let mut plan = self.plan.lock().expect("plan lock");
        if !plan.uncertain.iter().any(|u| u.at == at) {
            plan.uncertain.push(Uncertainty { at, host, reason });
        }
    }

    /// Say more about the last change planned on `host` (see [`Planned::notes`]).
    pub fn annotate_last(&self, host: &str, notes: Vec<String>) {
        let mut plan = self.plan.lock().expect("plan lock");
        if let Some(last) = plan.changes.iter_mut().rev().find(|c| c.host == host) {
            last.notes.extend(notes);
        }
    }

    /// A dry run takes for granted what only the changes it did not make could show (a
    /// release becoming healthy): the plan says so.
    pub fn assume(&self, host: &str, what: String) {
        self.plan
            .lock()
            .expect("plan lock")
            .assumed
            .push((host.to_string(), what));
    }

    /// A dry run recorded that `path` on `host` would now hold `content` (None: removed).
    pub fn plan_file(&self, host: &str, path: &str, content: Option<Vec<u8>>) {
        self.files
            .lock()
            .expect("plan files lock")
            .insert(file_key(host, path), content);
    }

    /// What a dry run's earlier change left in `path` on `host`: None when no planned change
    /// touched it (read the host), Some(None) when it was removed.
    pub fn planned_file(&self, host: &str, path: &str) -> Option<Option<Vec<u8>>> {
        if !self.planning() {
            return None;
        }
        self.files
            .lock()
            .expect("plan files lock")
            .get(&file_key(host, path))
            .cloned()
    }

    /// The plan recorded so far.
    pub fn plan(&self) -> Plan {
        self.plan.lock().expect("plan lock").clone()
    }
}
