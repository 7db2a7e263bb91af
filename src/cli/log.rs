//! `hoist log [--app A] [--since T] [--run ID]`: the audit log read back as a table, one row
//! per change (probes too when the run that wrote them had `-v`).

use serde_json::{Value, json};

use crate::audit::Audit;
use crate::error::{Error, Result};

/// Which lines of the log to show.
pub struct Filter {
    pub app: Option<String>,
    /// A duration (`2h`, `30m`) back from now, or an RFC 3339 time.
    pub since: Option<String>,
    pub run: Option<String>,
}

/// The rows of the log at the project's default place that pass `f`, oldest first.
pub fn rows(project_dir: Option<&std::path::Path>, f: &Filter) -> Result<Value> {
    let path = Audit::default_path(project_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::usage(format!(
                "no audit log at {}: nothing has run here yet",
                path.display()
            )));
        }
        Err(e) => return Err(Error::wrap(format!("cannot read {}", path.display()), e)),
    };
    let since = f.since.as_deref().map(since_time).transpose()?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // A line another version wrote, or one cut by a crash, is skipped, not fatal.
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(app) = &f.app
            && e.pointer("/params/app").and_then(Value::as_str) != Some(app.as_str())
        {
            continue;
        }
        if let Some(run) = &f.run
            && !s("run").starts_with(run.as_str())
        {
            continue;
        }
        if let Some(t) = since {
            let at = time::OffsetDateTime::parse(
                &s("time"),
                &time::format_description::well_known::Rfc3339,
            );
            if at.map(|a| a < t).unwrap_or(true) {
                continue;
            }
        }
        let outcome = match (e.get("error").and_then(Value::as_str), e.get("exit_code")) {
            (Some(err), _) => format!("error: {err}"),
            (None, Some(Value::Number(n))) if n.as_i64() == Some(0) => "ok".into(),
            (None, Some(Value::Number(n))) => format!("exit {n}"),
            _ => "ok".into(),
        };
        // Seconds are enough to read; the log keeps the full time.
        let t = s("time");
        let shown = match t.split_once('.') {
            Some((secs, _)) => format!("{secs}Z"),
            None => t.clone(),
        };
        out.push(json!({
            "time": shown,
            "run": s("run"),
            "recipe": s("recipe"),
            "user": s("user"),
            "host": s("host"),
            "step": s("step"),
            "change": s("action"),
            "what": s("command"),
            "outcome": outcome,
            "ms": e.get("ms").cloned().unwrap_or(Value::Null),
        }));
    }
    Ok(Value::Array(out))
}

fn since_time(s: &str) -> Result<time::OffsetDateTime> {
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let d = humantime::parse_duration(s).map_err(|_| {
        Error::usage(format!(
            "--since {s}: not a duration (2h, 30m) nor an RFC 3339 time"
        ))
    })?;
    Ok(time::OffsetDateTime::now_utc() - d)
}
