//! The checks compose v2 makes beyond its schema, on the typed model: names, references
//! between services, volumes, networks, secrets and configs, port and volume strings,
//! durations, command lines, dependency cycles. Each failure is (YAML path, reason) so the
//! caller can point at `file:line`.

use std::collections::{HashMap, HashSet};

use super::model::{
    ComposeFile, DependsOn, Port, Service, ServiceVolume, StringOrList, StringOrNumber,
};
use super::short_syntax::{check_port, parse_volume};

/// A file a service names (`env_file`, `extends.file`) that compose will read; compose
/// refuses the project when a required one is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referenced {
    pub service: String,
    pub what: &'static str,
    pub path: String,
    pub required: bool,
}

type Check<T> = std::result::Result<T, (String, String)>;

/// The closest of `known` to `word` (edit distance at most a third of its length, min 2).
pub fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (word.len() / 3).max(2);
    known
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Go's `time.ParseDuration` grammar: `[-+]` then one or more `number unit` (`1h30m`, `1.5s`,
/// `500ms`); a bare `0` is allowed.
pub fn check_duration(text: &str) -> std::result::Result<(), String> {
    let bad = || {
        Err(format!(
            "`{text}` is not a duration (like 30s, 1m30s, 500ms)"
        ))
    };
    let s = text.strip_prefix(['+', '-']).unwrap_or(text);
    if s == "0" {
        return Ok(());
    }
    if s.is_empty() {
        return bad();
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        let num = &s[start..i];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return bad();
        }
        let ustart = i;
        while i < b.len() && !(b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&&s[ustart..i]) {
            return bad();
        }
    }
    Ok(())
}

fn svc_path(name: &str, key: &str) -> String {
    format!("services.{name}.{key}")
}

/// The checks compose makes on every service, active or not: names, image or build,
/// durations, ports, volume strings, command lines.
pub fn check_shapes(model: &ComposeFile) -> Check<()> {
    for (name, s) in &model.services {
        let ok_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok_name {
            return Err((
                format!("services.{name}"),
                format!("service name `{name}` may only use letters, digits, `.`, `_` and `-`"),
            ));
        }
        check_service_shape(name, s)?;
    }
    Ok(())
}

/// The checks compose makes on the active services: an image or build, references to
/// services, volumes, networks, secrets and configs, dependency cycles. Returns the files
/// the services reference.
pub fn check_references(model: &ComposeFile) -> Check<Vec<Referenced>> {
    let mut files = Vec::new();
    for (name, s) in &model.services {
        if s.image.is_none() && s.build.is_none() && s.extends.is_none() {
            return Err((
                format!("services.{name}"),
                format!("service `{name}` has neither an image nor a build context"),
            ));
        }
        check_service_refs(model, name, s, &mut files)?;
    }
    check_cycles(model)?;
    // `include` is kept as written, but compose reads the files it names: one missing is
    // an error there.
    for item in model.include.iter().flatten() {
        let paths: Vec<&serde_json::Value> = match item {
            serde_json::Value::Object(m) => match m.get("path") {
                Some(serde_json::Value::Array(a)) => a.iter().collect(),
                Some(p) => vec![p],
                None => Vec::new(),
            },
            other => vec![other],
        };
        for p in paths.into_iter().filter_map(|p| p.as_str()) {
            files.push(Referenced {
                service: String::new(),
                what: "include",
                path: p.to_string(),
                required: true,
            });
        }
    }
    Ok(files)
}

fn deps(s: &Service) -> Vec<String> {
    match &s.depends_on {
        None => Vec::new(),
        Some(DependsOn::List(l)) => l.clone(),
        Some(DependsOn::Map(m)) => m.keys().cloned().collect(),
    }
}

fn check_service_shape(name: &str, s: &Service) -> Check<()> {
    let durations = s
        .healthcheck
        .iter()
        .flat_map(|h| {
            [
                ("healthcheck.interval", &h.interval),
                ("healthcheck.timeout", &h.timeout),
                ("healthcheck.start_period", &h.start_period),
                ("healthcheck.start_interval", &h.start_interval),
            ]
        })
        .chain([("stop_grace_period", &s.stop_grace_period)]);
    for (key, v) in durations {
        if let Some(v) = v {
            check_duration(v).map_err(|why| (svc_path(name, key), why))?;
        }
    }
    for (i, p) in s.ports.iter().flatten().enumerate() {
        let at = || svc_path(name, &format!("ports[{i}]"));
        match p {
            Port::Short(StringOrNumber::String(t)) => check_port(t).map_err(|w| (at(), w))?,
            Port::Short(StringOrNumber::Number(n)) => {
                if n.as_u64().is_none_or(|n| n > 65535) {
                    return Err((at(), format!("invalid port {n}")));
                }
            }
            Port::Long(l) => {
                let target_ok = match &l.target {
                    StringOrNumber::Number(n) => n.as_u64().is_some_and(|n| n <= 65535),
                    StringOrNumber::String(t) => check_port(t).is_ok(),
                };
                if !target_ok {
                    return Err((at(), "invalid target port".into()));
                }
            }
        }
    }
    for (i, v) in s.volumes.iter().flatten().enumerate() {
        if let ServiceVolume::Short(spec) = v {
            parse_volume(spec).map_err(|w| (svc_path(name, &format!("volumes[{i}]")), w))?;
        }
    }
    for (key, v) in [("command", &s.command), ("entrypoint", &s.entrypoint)] {
        if let Some(StringOrList::String(line)) = v {
            super::shellwords::split(line).map_err(|why| (svc_path(name, key), why))?;
        }
    }
    Ok(())
}

fn check_service_refs(
    model: &ComposeFile,
    name: &str,
    s: &Service,
    files: &mut Vec<Referenced>,
) -> Check<()> {
    for d in deps(s) {
        // `required: false`: compose goes on without it (it may be of an inactive profile).
        let optional = match &s.depends_on {
            Some(DependsOn::Map(m)) => m
                .get(&d)
                .and_then(|c| c.get("required"))
                .is_some_and(|r| r == &serde_json::Value::Bool(false)),
            _ => false,
        };
        if !model.services.contains_key(&d) && !optional {
            return Err((
                svc_path(name, "depends_on"),
                format!("service `{name}` depends on undefined service `{d}`"),
            ));
        }
    }
    for (i, v) in s.volumes.iter().flatten().enumerate() {
        let at = || svc_path(name, &format!("volumes[{i}]"));
        let named = match v {
            ServiceVolume::Short(spec) => {
                let parsed = parse_volume(spec).map_err(|w| (at(), w))?;
                parsed.named().map(str::to_string)
            }
            ServiceVolume::Long(l) if l.kind == "volume" => l.source.clone(),
            ServiceVolume::Long(_) => None,
        };
        if let Some(vol) = named
            && !model.volumes.contains_key(&vol)
        {
            return Err((
                at(),
                format!("service `{name}` refers to undefined volume `{vol}`"),
            ));
        }
    }
    if s.network_mode.is_none() {
        let nets: Vec<String> = match &s.networks {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            Some(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        for n in nets {
            if n != "default" && !model.networks.contains_key(&n) {
                return Err((
                    svc_path(name, "networks"),
                    format!("service `{name}` refers to undefined network `{n}`"),
                ));
            }
        }
    }
    for (key, defined) in [("secrets", &model.secrets), ("configs", &model.configs)] {
        let refs = match key {
            "secrets" => &s.secrets,
            _ => &s.configs,
        };
        if let Some(serde_json::Value::Array(items)) = refs {
            for item in items {
                let source = match item {
                    serde_json::Value::String(x) => Some(x.clone()),
                    serde_json::Value::Object(m) => {
                        m.get("source").and_then(|x| x.as_str()).map(String::from)
                    }
                    _ => None,
                };
                if let Some(src) = source
                    && !defined.contains_key(&src)
                {
                    let what = &key[..key.len() - 1];
                    return Err((
                        svc_path(name, key),
                        format!("service `{name}` refers to undefined {what} `{src}`"),
                    ));
                }
            }
        }
    }
    match &s.env_file {
        Some(serde_json::Value::String(p)) => files.push(Referenced {
            service: name.into(),
            what: "env_file",
            path: p.clone(),
            required: true,
        }),
        Some(serde_json::Value::Array(items)) => {
            for it in items {
                let (path, required) = match it {
                    serde_json::Value::String(p) => (p.clone(), true),
                    serde_json::Value::Object(m) => (
                        m.get("path")
                            .and_then(|x| x.as_str())
                            .unwrap_or_default()
                            .to_string(),
                        m.get("required").and_then(|x| x.as_bool()).unwrap_or(true),
                    ),
                    _ => continue,
                };
                files.push(Referenced {
                    service: name.into(),
                    what: "env_file",
                    path,
                    required,
                });
            }
        }
        _ => {}
    }
    let label_files = match &s.label_file {
        Some(serde_json::Value::String(p)) => vec![p.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    for path in label_files {
        files.push(Referenced {
            service: name.into(),
            what: "label_file",
            path,
            required: true,
        });
    }
    if let Some(serde_json::Value::Object(m)) = &s.extends
        && let Some(f) = m.get("file").and_then(|x| x.as_str())
    {
        files.push(Referenced {
            service: name.into(),
            what: "extends.file",
            path: f.into(),
            required: true,
        });
    }
    Ok(())
}

/// `depends_on` must not loop (a → b → a).
fn check_cycles(model: &ComposeFile) -> Check<()> {
    let graph: HashMap<&str, Vec<String>> = model
        .services
        .iter()
        .map(|(n, s)| (n.as_str(), deps(s)))
        .collect();
    let mut done: HashSet<String> = HashSet::new();
    for start in model.services.keys() {
        let mut stack: Vec<String> = Vec::new();
        visit(start, &graph, &mut stack, &mut done)?;
    }
    Ok(())
}

fn visit(
    node: &str,
    graph: &HashMap<&str, Vec<String>>,
    stack: &mut Vec<String>,
    done: &mut HashSet<String>,
) -> Check<()> {
    if done.contains(node) {
        return Ok(());
    }
    if let Some(pos) = stack.iter().position(|n| n == node) {
        let mut cycle = stack[pos..].to_vec();
        cycle.push(node.to_string());
        return Err((
            svc_path(&stack[pos], "depends_on"),
            format!("dependency cycle: {}", cycle.join(" -> ")),
        ));
    }
    stack.push(node.to_string());
    for d in graph.get(node).into_iter().flatten() {
        visit(d, graph, stack, done)?;
    }
    stack.pop();
    done.insert(node.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names() {
        for ok in ["10s", "1m30s", "1.5h", "500ms", "0"] {
            check_duration(ok).unwrap();
        }
        for bad in ["10", "ten", "1x", ""] {
            assert!(check_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(closest("imagee", &["image", "init"]), Some("image"));
        assert_eq!(closest("zzz", &["image"]), None);
    }
}
