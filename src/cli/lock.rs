//! `hoist lock status|release --app A`: the app's lock on every host of the environment.

use std::sync::Arc;

use serde_json::{Value, json};

use super::args::LockAction;
use crate::error::Result;
use crate::release::lock::{self, State};
use crate::runtime::Runtime;

pub fn run(rt: &Arc<Runtime>, action: &LockAction) -> Result<Value> {
    let (target, breaking) = match action {
        LockAction::Status(t) => (t, false),
        LockAction::Release(t) => (t, true),
    };
    lock::check_name(&target.app)?;
    let group = (!target.group.is_empty()).then_some(target.group.as_str());
    let hosts = rt.group(group)?;
    let app = target.app.as_str();
    // Every host answers for itself: one that cannot be reached still gets its row.
    let rows = rt.block_on(futures_util::future::join_all(hosts.iter().map(
        |h| async move {
            let r = if breaking {
                lock::break_lock(h, app).await
            } else {
                lock::status(h, app).await
            };
            row(h.name(), r, breaking)
        },
    )));
    Ok(Value::Array(rows))
}

fn row(host: &str, r: Result<State>, breaking: bool) -> Value {
    match r {
        Err(e) => json!({"host": host, "state": "unreachable", "holder": "", "note": e.message}),
        Ok(State::Free) => json!({"host": host, "state": "free", "holder": "", "note": ""}),
        Ok(State::Held(holder)) => {
            let (state, note) = match holder.as_ref().and_then(|h| h.stale_reason()) {
                Some(why) => ("stale", why),
                None => ("held", String::new()),
            };
            let state = if breaking { "released" } else { state };
            let who = holder
                .as_ref()
                .map(|h| h.describe())
                .unwrap_or_else(|| "(record being written)".into());
            json!({"host": host, "state": state, "holder": who, "note": note})
        }
    }
}
