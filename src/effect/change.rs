//! A change to the world, as data. Every primitive that changes something describes it as a
//! [`Change`] before it happens; the effect boundary ([`super::Effects`]) then records it (a
//! dry run's plan) or lets it happen and audits it (a real run). The plan and the audit log
//! show the same value, so a plan is the run's own description of itself.

use serde_json::{Value, json};

use super::diff;

/// What a change does.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A command that may change the host (anything not marked as a read-only probe).
    Command { command: String },
    /// A file written whole: content before (None: absent, or not read) and after.
    File {
        path: String,
        before: Option<Vec<u8>>,
        existed: bool,
        after: Vec<u8>,
        mode: Option<u32>,
        owner: Option<String>,
    },
    /// A local file copied whole to the host (`upload`): streamed, so described by its size
    /// and digest rather than its content (no diff).
    Upload {
        path: String,
        local: String,
        existed: bool,
        size: u64,
        sha256: String,
        mode: Option<u32>,
        owner: Option<String>,
    },
    /// An operation on a Docker engine (through its API).
    Docker { op: String, detail: String },
    /// An operation on a registry (through its HTTP API).
    Registry { op: String, detail: String },
    /// A file on the machine hoist runs on.
    Local { op: String, path: String },
    /// A change of a host's front proxy (Caddy, through its admin API): the whole config
    /// before and after, as pretty JSON, so a plan shows the route change as a diff.
    Proxy {
        summary: String,
        before: String,
        after: String,
    },
}

impl Change {
    /// A short name of the kind of change: `command`, `file`, `docker push`, ...
    pub fn kind(&self) -> String {
        match self {
            Change::Command { .. } => "command".into(),
            Change::File { .. } | Change::Upload { .. } => "file".into(),
            Change::Docker { op, .. } => format!("docker {op}"),
            Change::Registry { op, .. } => format!("registry {op}"),
            Change::Local { op, .. } => format!("local {op}"),
            Change::Proxy { .. } => "proxy".into(),
        }
    }

    /// One line saying what changes (the plan's line, the audit log's `command`).
    pub fn summary(&self) -> String {
        match self {
            Change::Command { command } => command.clone(),
            Change::File {
                path,
                existed,
                after,
                mode,
                owner,
                ..
            } => {
                let mut s = format!(
                    "{} {path} ({} bytes",
                    if *existed { "write" } else { "create" },
                    after.len()
                );
                if let Some(m) = mode {
                    s.push_str(&format!(", mode {m:o}"));
                }
                if let Some(o) = owner {
                    s.push_str(&format!(", owner {o}"));
                }
                s.push(')');
                s
            }
            Change::Upload {
                path,
                local,
                existed,
                size,
                mode,
                owner,
                ..
            } => {
                let mut s = format!(
                    "{} {path} from {local} ({size} bytes",
                    if *existed { "write" } else { "create" },
                );
                if let Some(m) = mode {
                    s.push_str(&format!(", mode {m:o}"));
                }
                if let Some(o) = owner {
                    s.push_str(&format!(", owner {o}"));
                }
                s.push(')');
                s
            }
            Change::Docker { detail, .. } | Change::Registry { detail, .. } => detail.clone(),
            Change::Local { op, path } => format!("{op} {path}"),
            Change::Proxy { summary, .. } => summary.clone(),
        }
    }

    /// The unified diff a person reads for this change (files only).
    pub fn diff(&self) -> Option<String> {
        match self {
            Change::File {
                path,
                before,
                existed,
                after,
                ..
            } => Some(diff::unified(
                path,
                if *existed {
                    before.as_deref()
                } else {
                    Some(b"")
                },
                after,
            )),
            Change::Proxy { before, after, .. } => Some(diff::unified(
                "caddy config (hoist-proxy)",
                Some(before.as_bytes()),
                after.as_bytes(),
            )),
            _ => None,
        }
    }

    /// The change as data (`--json` plans and the audit log): digests rather than contents.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"kind": self.kind(), "summary": self.summary()});
        if let Change::File {
            path,
            before,
            existed,
            after,
            mode,
            owner,
        } = self
        {
            v["path"] = json!(path);
            v["existed"] = json!(existed);
            v["size"] = json!(after.len());
            v["sha256"] = json!(diff::sha256(after));
            if let Some(b) = before {
                v["sha256_before"] = json!(diff::sha256(b));
            }
            v["mode"] = json!(mode.map(|m| format!("{m:o}")));
            v["owner"] = json!(owner);
        }
        if let Change::Upload {
            path,
            local,
            existed,
            size,
            sha256,
            mode,
            owner,
        } = self
        {
            v["path"] = json!(path);
            v["local"] = json!(local);
            v["existed"] = json!(existed);
            v["size"] = json!(size);
            v["sha256"] = json!(sha256);
            v["mode"] = json!(mode.map(|m| format!("{m:o}")));
            v["owner"] = json!(owner);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_change_summarises_and_diffs_its_content() {
        let c = Change::File {
            path: "/etc/app.conf".into(),
            before: Some(b"a\nb\n".to_vec()),
            existed: true,
            after: b"a\nc\n".to_vec(),
            mode: Some(0o600),
            owner: None,
        };
        assert_eq!(c.kind(), "file");
        assert_eq!(c.summary(), "write /etc/app.conf (4 bytes, mode 600)");
        assert_eq!(
            c.diff().unwrap(),
            "--- /etc/app.conf\n+++ /etc/app.conf\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
        );
        let j = c.to_json();
        assert_eq!(j["mode"], "600");
        assert_eq!(j["size"], 4);
    }

    #[test]
    fn a_new_file_diffs_against_nothing() {
        let c = Change::File {
            path: "x".into(),
            before: None,
            existed: false,
            after: b"hi\n".to_vec(),
            mode: None,
            owner: None,
        };
        assert_eq!(c.summary(), "create x (3 bytes)");
        assert_eq!(c.diff().unwrap(), "--- x\n+++ x\n@@ -0,0 +1 @@\n+hi\n");
    }
}
