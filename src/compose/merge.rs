//! compose's rules for merging files (and `extends`): mappings merge key by key, most lists
//! append, some paths have their own rule (`environment` and `labels` merge by name,
//! `command` is replaced, `build: ctx` is a mapping ...), `!reset`/`!override` tags apply,
//! and afterwards the lists compose keeps unique are de-duplicated by their key.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::short_syntax;
use super::yaml::{self, MergeTag};

/// A path as `services.web.ports[0]`.
pub(super) fn path_text(parts: &[String]) -> String {
    let mut out = String::new();
    for p in parts {
        if p.starts_with('[') {
            out.push_str(p);
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(p);
        }
    }
    out
}

/// compose's pattern match on paths: `*` is any key, `[]` any list item.
pub(super) fn matches(path: &[String], pattern: &str) -> bool {
    let pat: Vec<&str> = pattern.split('.').collect();
    pat.len() == path.len()
        && pat.iter().zip(path).all(|(p, k)| match *p {
            "*" => !k.starts_with('['),
            "[]" => k.starts_with('['),
            other => other == k,
        })
}

/// How compose merges a path of an override file into the base.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// The override replaces (`command`, `entrypoint`, `healthcheck.test`).
    Replace,
    /// Both become `KEY=value` lists, appended (then de-duplicated by key).
    ToSequence,
    /// `build: ctx` is `{context: ctx}`; then merged as mappings.
    Build,
    /// Lists of names become mappings; then merged as mappings.
    AsMapping,
    /// Appended, without the items already present.
    AppendNew,
    Logging,
}

const RULES: &[(&str, Rule)] = &[
    ("networks.*.labels", Rule::ToSequence),
    ("volumes.*.labels", Rule::ToSequence),
    ("services.*.annotations", Rule::ToSequence),
    ("services.*.build", Rule::Build),
    ("services.*.build.args", Rule::ToSequence),
    ("services.*.build.additional_contexts", Rule::ToSequence),
    ("services.*.build.extra_hosts", Rule::AppendNew),
    ("services.*.build.labels", Rule::ToSequence),
    ("services.*.command", Rule::Replace),
    ("services.*.depends_on", Rule::AsMapping),
    ("services.*.deploy.labels", Rule::ToSequence),
    ("services.*.dns", Rule::ToSequence),
    ("services.*.dns_opt", Rule::ToSequence),
    ("services.*.dns_search", Rule::ToSequence),
    ("services.*.entrypoint", Rule::Replace),
    ("services.*.env_file", Rule::ToSequence),
    ("services.*.label_file", Rule::ToSequence),
    ("services.*.environment", Rule::ToSequence),
    ("services.*.extra_hosts", Rule::AppendNew),
    ("services.*.healthcheck.test", Rule::Replace),
    ("services.*.labels", Rule::ToSequence),
    ("services.*.logging", Rule::Logging),
    ("services.*.networks", Rule::AsMapping),
    ("services.*.sysctls", Rule::ToSequence),
    ("services.*.tmpfs", Rule::ToSequence),
    ("services.*.ulimits.*", Rule::Replace),
];

/// Merge an override document into `base` with compose's rules: mappings merge key by key,
/// lists append (see [`unique_lists`] for the ones de-duplicated afterwards), scalars are
/// replaced; `!reset` removes, `!override` replaces. Err = the path that cannot be merged.
pub(super) fn merge(
    base: Value,
    over: Value,
    path: &mut Vec<String>,
    tags: &HashMap<String, MergeTag>,
) -> std::result::Result<Value, String> {
    if !path.is_empty() {
        match tags.get(&path_text(path)) {
            Some(MergeTag::Override) => return Ok(over),
            Some(MergeTag::Reset) => return Ok(Value::Null),
            None => {}
        }
    }
    if let Some((_, rule)) = RULES.iter().find(|(p, _)| matches(path, p)) {
        match rule {
            Rule::Replace => return Ok(over),
            Rule::ToSequence => {
                // `KEY: !reset` in a mapping drops KEY from what earlier files set.
                let mut over = over;
                let mut reset = Vec::new();
                if let Value::Object(m) = &mut over {
                    m.retain(|k, _| {
                        let mut at = path.clone();
                        at.push(k.clone());
                        let r = tags.get(&path_text(&at)) == Some(&MergeTag::Reset);
                        if r {
                            reset.push(k.clone());
                        }
                        !r
                    });
                }
                let mut a = to_sequence(base);
                a.retain(|item| {
                    let key = item
                        .as_str()
                        .map(|s| s.split_once('=').map_or(s, |(k, _)| k));
                    !key.is_some_and(|k| reset.iter().any(|r| r == k))
                });
                a.extend(to_sequence(over));
                return Ok(Value::Array(a));
            }
            Rule::AppendNew => {
                let mut a = to_sequence(base);
                for item in to_sequence(over) {
                    if !a.contains(&item) {
                        a.push(item);
                    }
                }
                return Ok(Value::Array(a));
            }
            Rule::Build => {
                let as_map = |v: Value| match v {
                    Value::String(s) => {
                        let mut m = Map::new();
                        m.insert("context".into(), Value::String(s));
                        Value::Object(m)
                    }
                    other => other,
                };
                return merge_mappings(as_map(base), as_map(over), path, tags);
            }
            Rule::AsMapping => {
                return merge_mappings(names_to_mapping(base), names_to_mapping(over), path, tags);
            }
            Rule::Logging => {
                let driver = |v: &Value| v.get("driver").cloned();
                let (b, o) = (driver(&base), driver(&over));
                if b.is_none() || o.is_none() || b == o {
                    return merge_mappings(base, over, path, tags);
                }
                return Ok(over);
            }
        }
    }
    if over.is_null() {
        return Ok(base);
    }
    match base {
        Value::Object(_) => merge_mappings(base, over, path, tags),
        Value::Array(mut a) => match over {
            Value::Array(o) => {
                a.extend(o);
                Ok(Value::Array(a))
            }
            _ => Err(path_text(path)),
        },
        _ => Ok(over),
    }
}

fn merge_mappings(
    base: Value,
    over: Value,
    path: &mut Vec<String>,
    tags: &HashMap<String, MergeTag>,
) -> std::result::Result<Value, String> {
    let (Value::Object(mut b), Value::Object(o)) = (base, over) else {
        return Err(path_text(path));
    };
    for (k, v) in o {
        path.push(k.clone());
        let reset = tags.get(&path_text(path)) == Some(&MergeTag::Reset);
        if reset {
            b.shift_remove(&k);
        } else {
            let merged = match b.shift_remove(&k) {
                Some(e) => merge(e, v, path, tags)?,
                None => v,
            };
            b.insert(k, merged);
        }
        path.pop();
    }
    Ok(Value::Object(b))
}

/// `{A: 1, B: null}` as `["A=1", "B"]` (sorted, as compose does); a list stays.
fn to_sequence(v: Value) -> Vec<Value> {
    match v {
        Value::Object(m) => {
            let mut items: Vec<String> = Vec::new();
            for (k, val) in m {
                match val {
                    Value::Null => items.push(k),
                    Value::Array(vs) => {
                        for x in vs {
                            items.push(format!("{k}={}", go_text(&x)));
                        }
                    }
                    other => items.push(format!("{k}={}", go_text(&other))),
                }
            }
            items.sort();
            items.into_iter().map(Value::String).collect()
        }
        Value::Array(a) => a,
        Value::String(s) => vec![Value::String(s)],
        _ => Vec::new(),
    }
}

/// A value as Go's `%v` prints it.
fn go_text(v: &Value) -> String {
    yaml::scalar_text(v).unwrap_or_else(|| v.to_string())
}

/// `[a, b]` as `{a: null, b: null}` (service networks, depends_on).
fn names_to_mapping(v: Value) -> Value {
    match v {
        Value::Array(a) => {
            Value::Object(a.into_iter().map(|x| (go_text(&x), Value::Null)).collect())
        }
        other => other,
    }
}

/// compose keeps one item per key in these lists (the later one, at the first one's place).
fn unique_key(path: &[String], item: &Value) -> Option<std::result::Result<String, String>> {
    let p = |pat: &str| matches(path, pat);
    let key_value = |v: &Value| match v {
        Value::String(s) => Ok(s.split_once('=').map_or(s.as_str(), |(k, _)| k).to_string()),
        other => Err(format!("unexpected value {other}")),
    };
    if [
        "networks.*.labels",
        "services.*.annotations",
        "services.*.build.args",
        "services.*.build.additional_contexts",
        "services.*.build.tags",
        "services.*.build.labels",
        "services.*.cap_add",
        "services.*.cap_drop",
        "services.*.deploy.labels",
        "services.*.dns",
        "services.*.dns_opt",
        "services.*.dns_search",
        "services.*.environment",
        "services.*.labels",
        "services.*.links",
        "services.*.networks.*.aliases",
        "services.*.profiles",
        "services.*.sysctls",
        "services.*.tmpfs",
    ]
    .iter()
    .any(|x| p(x))
    {
        return Some(key_value(item));
    }
    if p("services.*.volumes") {
        return Some(Ok(match item {
            Value::Object(m) => m.get("target").map(go_text).unwrap_or_default(),
            Value::String(s) => short_syntax::parse_volume(s)
                .map(|v| v.target)
                .unwrap_or_else(|_| s.clone()),
            _ => String::new(),
        }));
    }
    if p("services.*.ports") {
        // compose turns short ports into the long form first, so `":80"` and
        // `{target: 80}` are the same port.
        return Some(Ok(match item {
            Value::Object(m) => {
                let get = |k: &str, d: &str| m.get(k).map(go_text).unwrap_or_else(|| d.into());
                format!(
                    "{}:{}:{}/{}",
                    get("host_ip", ""),
                    get("published", ""),
                    get("target", ""),
                    get("protocol", "tcp")
                )
            }
            other => match short_syntax::parse_port(&go_text(other)) {
                Ok(sp) if sp.target.0 == sp.target.1 => {
                    format!("{}:{}:{}/{}", sp.ip, sp.published, sp.target.0, sp.protocol)
                }
                _ => go_text(other),
            },
        }));
    }
    if p("services.*.expose") {
        return Some(Ok(go_text(item)));
    }
    if p("services.*.env_file") {
        return Some(Ok(match item {
            Value::Object(m) => m.get("path").map(go_text).unwrap_or_default(),
            other => go_text(other),
        }));
    }
    if p("services.*.secrets") || p("services.*.configs") {
        let dir = if p("services.*.secrets") {
            "/run/secrets"
        } else {
            ""
        };
        return Some(Ok(match item {
            Value::Object(m) => match m.get("target") {
                Some(t) => go_text(t),
                None => format!("{dir}/{}", m.get("source").map(go_text).unwrap_or_default()),
            },
            other => format!("{dir}/{}", go_text(other)),
        }));
    }
    if p("services.*.devices") {
        return Some(Ok(match item {
            Value::Object(m) => m.get("target").map(go_text).unwrap_or_default(),
            Value::String(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                parts.get(1).unwrap_or(&parts[0]).to_string()
            }
            _ => String::new(),
        }));
    }
    None
}

pub(super) fn unique_lists(
    v: &mut Value,
    path: &mut Vec<String>,
) -> std::result::Result<(), (String, String)> {
    match v {
        Value::Object(m) => {
            for (k, item) in m.iter_mut() {
                path.push(k.clone());
                unique_lists(item, path)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            if items.is_empty() || unique_key(path, &items[0]).is_none() {
                return Ok(());
            }
            let mut out: Vec<Value> = Vec::new();
            let mut seen: HashMap<String, usize> = HashMap::new();
            for item in items.drain(..) {
                let key = unique_key(path, &item)
                    .unwrap_or(Ok(String::new()))
                    .map_err(|why| (path_text(path), why))?;
                match seen.get(&key) {
                    Some(&j) => out[j] = item,
                    None => {
                        seen.insert(key, out.len());
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        _ => {}
    }
    Ok(())
}
