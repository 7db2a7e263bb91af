//! A dry run's plan: the changes the run would have made, host by host, in order, and the
//! places from which the plan is no longer exact (the script used a value that only a change
//! that was not made could produce).

use serde_json::{Value, json};

use super::Change;

/// One change a dry run would make.
#[derive(Debug, Clone)]
pub struct Planned {
    pub host: String,
    pub step: Option<String>,
    pub change: Change,
    /// What the change does in detail, when a primitive can say (compose's per-service
    /// create / recreate / unchanged of an `up`).
    pub notes: Vec<String>,
}

/// Where the plan stops being exact, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    /// `file:line` of the script that used the placeholder.
    pub at: String,
    pub host: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default, Clone)]
pub struct Plan {
    pub changes: Vec<Planned>,
    pub uncertain: Vec<Uncertainty>,
    /// (host, what) a dry run took for granted, e.g. that a release becomes healthy.
    pub assumed: Vec<(String, String)>,
}

impl Plan {
    /// Hosts in the order they first appear.
    pub fn hosts(&self) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for c in &self.changes {
            if !seen.contains(&c.host) {
                seen.push(c.host.clone());
            }
        }
        seen
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plan as data: `{hosts: {NAME: [change...]}, uncertain: [...]}`; `redact` hides
    /// secret values in summaries and diffs.
    pub fn to_json(&self, redact: &dyn Fn(&str) -> String) -> Value {
        let mut hosts = serde_json::Map::new();
        for h in self.hosts() {
            let list: Vec<Value> = self
                .changes
                .iter()
                .filter(|c| c.host == h)
                .map(|c| {
                    let mut v = c.change.to_json();
                    v["summary"] = json!(redact(&c.change.summary()));
                    v["step"] = json!(c.step);
                    if !c.notes.is_empty() {
                        v["notes"] = json!(c.notes);
                    }
                    if let Some(d) = c.change.diff() {
                        v["diff"] = json!(redact(&d));
                    }
                    v
                })
                .collect();
            hosts.insert(h, Value::Array(list));
        }
        let uncertain: Vec<Value> = self
            .uncertain
            .iter()
            .map(|u| json!({"at": u.at, "host": u.host, "reason": redact(&u.reason)}))
            .collect();
        let assumed: Vec<Value> = self
            .assumed
            .iter()
            .map(|(h, w)| json!({"host": h, "assumed": redact(w)}))
            .collect();
        json!({"changes": self.changes.len(), "hosts": hosts, "uncertain": uncertain, "assumed": assumed})
    }
}
