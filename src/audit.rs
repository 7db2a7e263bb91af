//! The audit log: one JSON line per change, appended (time, run id, recipe and its
//! parameters, user, env, host, step, the change as data, outcome, duration; secrets
//! redacted). Read-only probes are logged only with `-v`. `hoist log` reads it back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// One action as the caller knows it; the log adds time, user and env.
#[derive(Debug, Clone)]
pub struct Entry {
    pub host: String,
    pub step: Option<String>,
    pub action: String,
    pub command: String,
    pub exit_code: Option<i32>,
    pub ms: u64,
    pub error: Option<String>,
    /// A read-only probe (logged only with `-v`), not a change.
    pub probe: bool,
    /// The change as data (see [`crate::effect::Change::to_json`]).
    pub change: Option<serde_json::Value>,
}

pub struct Audit {
    path: PathBuf,
    user: String,
    env: Option<String>,
    /// Tells this run's lines from every other run's.
    run_id: String,
    /// The recipe this run runs and its parameters (secrets redacted by the caller).
    recipe: Mutex<Option<(String, serde_json::Value)>>,
    file: Mutex<std::fs::File>,
}

impl Audit {
    pub fn open(path: &Path, env: Option<String>) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::failed(format!(
                    "cannot create audit log dir {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::failed(format!("cannot open audit log {}: {e}", path.display())))?;
        Ok(Audit {
            path: path.to_path_buf(),
            user: crate::local_user::current_user(),
            env,
            run_id: format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff),
            recipe: Mutex::new(None),
            file: Mutex::new(file),
        })
    }

    /// The default place: `.hoist/audit.jsonl` beside hoist.toml, else the user's state dir.
    pub fn default_path(project_dir: Option<&Path>) -> PathBuf {
        match project_dir {
            Some(d) => d.join(".hoist").join("audit.jsonl"),
            None => dirs::state_dir()
                .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
                .unwrap_or_else(std::env::temp_dir)
                .join("hoist")
                .join("audit.jsonl"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Name the recipe (or script) this run runs, with its parameters.
    pub fn set_recipe(&self, name: &str, params: serde_json::Value) {
        *self.recipe.lock().expect("audit recipe lock") = Some((name.to_string(), params));
    }

    pub fn append(&self, e: Entry) {
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let (recipe, params) = self
            .recipe
            .lock()
            .expect("audit recipe lock")
            .clone()
            .unzip();
        let line = serde_json::json!({
            "time": time,
            "run": self.run_id,
            "recipe": recipe,
            "params": params,
            "user": self.user,
            "env": self.env,
            "host": e.host,
            "step": e.step,
            "action": e.action,
            "command": e.command,
            "exit_code": e.exit_code,
            "ms": e.ms,
            "error": e.error,
            "probe": e.probe,
            "change": e.change,
        });
        let mut f = self.file.lock().expect("audit lock");
        // One write per line so concurrent hoist runs do not interleave within a line.
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}
