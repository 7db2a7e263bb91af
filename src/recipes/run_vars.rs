//! The vars of one run, and how the inventory's group and per-host vars layer into each
//! host's view of them (`h.vars`).
//!
//! Precedence, lowest first: recipe defaults < the environment's vars < a group's vars < the
//! host's own vars < recipe flags < `--set`. `vars` in a script is the run-wide part (no group
//! or host layer); `h.vars` adds the layers of that host.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::param::Param;

#[derive(Debug, Clone, Default)]
pub struct RunVars {
    /// Recipe defaults < environment vars < flags < `--set`.
    pub vars: Map<String, Value>,
    /// What `--set` and flags gave: these beat group and per-host vars too.
    pub pinned: Map<String, Value>,
    /// The recipe's parameters, so a group or host var named like one is read as its type.
    pub params: IndexMap<String, Param>,
}

impl RunVars {
    /// A plain script run: the runtime's vars (environment vars < `--set`), no parameters.
    pub fn plain(vars: &Map<String, Value>, sets: &Map<String, Value>) -> Self {
        RunVars {
            vars: vars.clone(),
            pinned: sets.clone(),
            params: IndexMap::new(),
        }
    }

    /// One host's vars: these vars with its group and host layers (`scoped`, already merged
    /// in order) put over them, except where `--set` or a flag said otherwise.
    pub fn for_host(&self, scoped: &Map<String, Value>) -> Map<String, Value> {
        let mut m = self.vars.clone();
        for (k, v) in scoped {
            if self.pinned.contains_key(k) {
                continue;
            }
            let value = match self.params.get(k) {
                // Checked when the recipe's vars were bound; a value that still does not read
                // (none should) is kept as the inventory wrote it.
                Some(p) => p.from_value(v).unwrap_or_else(|_| v.clone()),
                None => v.clone(),
            };
            m.insert(k.clone(), value);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_layers_sit_between_environment_vars_and_flags() {
        let mut rv = RunVars::default();
        rv.vars.insert("a".into(), json!("env"));
        rv.vars.insert("b".into(), json!("flag"));
        rv.pinned.insert("b".into(), json!("flag"));
        let mut scoped = Map::new();
        scoped.insert("a".into(), json!("host"));
        scoped.insert("b".into(), json!("host"));
        scoped.insert("c".into(), json!("host"));
        let h = rv.for_host(&scoped);
        assert_eq!(
            (h["a"].clone(), h["b"].clone(), h["c"].clone()),
            (json!("host"), json!("flag"), json!("host"))
        );
    }
}
