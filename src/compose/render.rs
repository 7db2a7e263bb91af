//! From compose file texts and variables to the interpolated YAML and the typed model —
//! pure, so a plan or `p.render()` needs no compose tool and no engine. The steps are
//! compose v2's: parse each file (YAML as go-yaml reads it, merge keys applied), interpolate
//! every string value (keys are left alone) and cast the values compose casts, merge the
//! files in order with compose's merge rules, drop the services of inactive profiles, then
//! validate against the model and compose's own checks. Every error names `file:line`.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::merge::{matches, merge, path_text, unique_lists};
use super::model::ComposeFile;
use super::schema;
use super::validate::{self, Referenced};
use super::yaml::{self, Lines};
use crate::error::{Error, Result};
use crate::interpolate::{InterpolateError, Mode, interpolate_noting, interpolate_with};

/// One compose file: where it came from (for errors) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// The result of rendering: the merged, interpolated YAML and its typed form.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub value: Value,
    pub model: ComposeFile,
    /// Files the active services reference, relative to the project directory or absolute.
    pub files: Vec<Referenced>,
    /// Every service of the files, whatever their profiles (compose runs a service of an
    /// inactive profile when a command names it).
    pub all_services: Vec<String>,
    /// Variables read without a default while unset, in the order met (compose warns
    /// `The "X" variable is not set. Defaulting to a blank string.` for each).
    pub unset: Vec<String>,
}

impl Rendered {
    pub fn yaml(&self) -> String {
        yaml::to_string(&self.value)
    }
}

/// Where each file's nodes are, to point errors at the file that set a value.
struct Located {
    docs: Vec<(String, Lines)>,
}

impl Located {
    /// `file:line` of `path`: the last file that sets it, else the nearest ancestor.
    fn at(&self, path: &str) -> String {
        for (name, lines) in self.docs.iter().rev() {
            if lines.has(path) {
                return format!("{name}:{}", lines.find(path).unwrap_or(1));
            }
        }
        for (name, lines) in self.docs.iter().rev() {
            if let Some(l) = lines.find(path) {
                return format!("{name}:{l}");
            }
        }
        self.docs
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Render `sources` (in `-f` order) with variables from `lookup`, keeping the services of
/// `profiles` (`*` = all) and those without profiles.
pub fn render(
    sources: &[Source],
    lookup: &dyn Fn(&str) -> Option<String>,
    profiles: &[String],
) -> Result<Rendered> {
    render_with(sources, lookup, profiles, Mode::default())
}

/// [`render`] with the interpolation `mode` (see [`Mode`]).
pub fn render_with(
    sources: &[Source],
    lookup: &dyn Fn(&str) -> Option<String>,
    profiles: &[String],
    mode: Mode,
) -> Result<Rendered> {
    render_with_files(sources, lookup, profiles, mode, &HashMap::new())
}

/// The `extends: {file}` values of `sources` (as written, interpolated with `lookup`): the
/// files a caller reads and passes to [`render_with_files`].
pub fn extends_files(sources: &[Source], lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    // Most files have no `extends`: no second parse for them.
    for src in sources.iter().filter(|s| s.text.contains("extends")) {
        let Ok(doc) = yaml::parse(&src.text) else {
            continue;
        };
        if let Some(Value::Object(services)) = doc.value.get("services") {
            for s in services.values() {
                if let Some(f) = s
                    .get("extends")
                    .and_then(|e| e.get("file"))
                    .and_then(Value::as_str)
                    && let Ok(f) = interpolate_with(f, lookup, Mode::Lazy)
                    && !out.contains(&f)
                {
                    out.push(f);
                }
            }
        }
    }
    out
}

/// [`render_with`] with the texts of the files `extends: {file}` names (keyed as written);
/// a service extending a file not given is left as written.
pub fn render_with_files(
    sources: &[Source],
    lookup: &dyn Fn(&str) -> Option<String>,
    profiles: &[String],
    mode: Mode,
    extends: &HashMap<String, String>,
) -> Result<Rendered> {
    if sources.is_empty() {
        return Err(Error::usage("no compose file to render"));
    }
    let mut located = Located { docs: Vec::new() };
    let mut merged: Option<Value> = None;
    let unset = RefCell::new(Vec::new());
    // compose refuses an empty file, and merges the documents of a multi-document file
    // in order, as if each were a file of its own.
    let mut docs = Vec::new();
    for src in sources {
        let parsed = yaml::parse_documents(&src.text)
            .map_err(|e| Error::usage(format!("{}:{}: {}", src.name, e.line, e.message)))?;
        let before = docs.len();
        docs.extend(
            parsed
                .into_iter()
                .filter(|d| !d.doc.value.is_null())
                .map(|d| (src, d.doc)),
        );
        if docs.len() == before {
            return Err(Error::usage(format!("{}: empty compose file", src.name)));
        }
    }
    for (src, doc) in docs {
        let mut value = match doc.value {
            v @ Value::Object(_) => v,
            _ => {
                return Err(Error::usage(format!(
                    "{}:1: a compose file is a mapping with `services:` at the top",
                    src.name
                )));
            }
        };
        let at = |path: &str| match doc.lines.find(path) {
            Some(l) => format!("{}:{l}", src.name),
            None => src.name.clone(),
        };
        interpolate_value(&mut value, &mut Vec::new(), lookup, mode, &unset).map_err(
            |(e, path)| {
                let path = path_text(&path);
                Error::usage(format!("{}: {path}: {e}", at(&path)))
            },
        )?;
        let other = |file: &str| -> Option<std::result::Result<Value, String>> {
            let text = extends.get(file)?;
            Some(load_extended(file, text, lookup, mode, &unset))
        };
        apply_extends(&mut value, &other)
            .map_err(|(path, why)| Error::usage(format!("{}: {path}: {why}", at(&path))))?;
        merged = Some(match merged {
            None => value,
            Some(base) => merge(base, value, &mut Vec::new(), &doc.tags)
                .map_err(|path| Error::usage(format!("{}: cannot override {path}", at(&path))))?,
        });
        located.docs.push((src.name.clone(), doc.lines));
    }
    let mut merged = merged.unwrap_or(Value::Null);
    unique_lists(&mut merged, &mut Vec::new())
        .map_err(|(path, why)| Error::usage(format!("{}: {path}: {why}", located.at(&path))))?;
    resolve_bare_environment(&mut merged, lookup);
    // compose checks the shape of every service (schema, ports, volumes, command lines,
    // durations), then drops inactive profiles, then checks references between what is left.
    let located_err = |(path, why): (String, String)| {
        Error::usage(format!(
            "{}: {}{why}",
            located.at(&path),
            if path.is_empty() {
                String::new()
            } else {
                format!("{path}: ")
            }
        ))
    };
    let all_services = service_names(&merged);
    schema::check(&merged).map_err(located_err)?;
    let whole = validate_model(&merged, &located)?;
    validate::check_shapes(&whole).map_err(located_err)?;
    keep_active_profiles(&mut merged, profiles);
    let model = if whole.services.len() == service_names(&merged).len() {
        whole
    } else {
        validate_model(&merged, &located)?
    };
    let files = validate::check_references(&model).map_err(|(path, why)| {
        Error::usage(format!(
            "{}: {}{why}",
            located.at(&path),
            if path.is_empty() {
                String::new()
            } else {
                format!("{path}: ")
            }
        ))
    })?;
    Ok(Rendered {
        value: merged,
        model,
        files,
        all_services,
        unset: unset.into_inner(),
    })
}

#[derive(Clone, Copy)]
enum Cast {
    Int,
    Float,
    Bool,
}

/// Values compose casts after interpolation (strings there become numbers or booleans,
/// whether they came from a variable or were quoted).
const CASTS: &[(&str, Cast)] = &[
    ("services.*.cpu_count", Cast::Int),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int),
    ("services.*.cpu_quota", Cast::Int),
    ("services.*.cpu_rt_period", Cast::Int),
    ("services.*.cpu_rt_runtime", Cast::Int),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Int),
    ("services.*.init", Cast::Bool),
    ("services.*.depends_on.*.required", Cast::Bool),
    ("services.*.depends_on.*.restart", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    (
        "services.*.deploy.update_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    (
        "services.*.deploy.rollback_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    (
        "services.*.deploy.placement.max_replicas_per_node",
        Cast::Int,
    ),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int),
    ("services.*.pids_limit", Cast::Int),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("services.*.volumes.[].read_only", Cast::Bool),
    ("services.*.volumes.[].volume.nocopy", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("networks.*.attachable", Cast::Bool),
    ("networks.*.enable_ipv4", Cast::Bool),
    ("networks.*.enable_ipv6", Cast::Bool),
    ("volumes.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
    ("configs.*.external", Cast::Bool),
];

fn cast(text: &str, how: Cast) -> std::result::Result<Value, String> {
    match how {
        Cast::Int => {
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("`{text}` is not an integer"));
            }
            text.parse::<i64>()
                .map(|i| Value::Number(i.into()))
                .map_err(|_| format!("`{text}` is out of range"))
        }
        Cast::Float => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number")),
        Cast::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" | "on" => Ok(Value::Bool(true)),
            "false" | "n" | "no" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean (true or false)")),
        },
    }
}

#[derive(Debug)]
enum InterpolationFailure {
    Template(InterpolateError),
    Cast(String),
}

impl std::fmt::Display for InterpolationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpolationFailure::Template(e) => e.fmt(f),
            InterpolationFailure::Cast(why) => write!(f, "failed to cast to expected type: {why}"),
        }
    }
}

fn interpolate_value(
    v: &mut Value,
    path: &mut Vec<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
    mode: Mode,
    unset: &RefCell<Vec<String>>,
) -> std::result::Result<(), (InterpolationFailure, Vec<String>)> {
    match v {
        Value::String(s) => {
            let text = interpolate_noting(s, lookup, mode, &mut unset.borrow_mut())
                .map_err(|e| (InterpolationFailure::Template(e), path.clone()))?;
            match CASTS.iter().find(|(p, _)| matches(path, p)) {
                Some((_, how)) => {
                    *v = cast(&text, *how)
                        .map_err(|why| (InterpolationFailure::Cast(why), path.clone()))?;
                }
                None => *s = text,
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("[{i}]"));
                interpolate_value(item, path, lookup, mode, unset)?;
                path.pop();
            }
        }
        Value::Object(m) => {
            for (k, item) in m.iter_mut() {
                path.push(k.clone());
                interpolate_value(item, path, lookup, mode, unset)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Loads a file named by `extends: {file}` (None: not provided, left as written).
type OtherFile<'a> = dyn Fn(&str) -> Option<std::result::Result<Value, String>> + 'a;

/// Another compose file named by `extends: {file}`, parsed, interpolated and with its own
/// same-file `extends` applied.
fn load_extended(
    file: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    mode: Mode,
    unset: &RefCell<Vec<String>>,
) -> std::result::Result<Value, String> {
    let doc = yaml::parse(text).map_err(|e| format!("{file}:{}: {}", e.line, e.message))?;
    let mut value = doc.value;
    interpolate_value(&mut value, &mut Vec::new(), lookup, mode, unset)
        .map_err(|(e, path)| format!("{file}: {}: {e}", path_text(&path)))?;
    apply_extends(&mut value, &|_| None).map_err(|(path, why)| format!("{file}: {path}: {why}"))?;
    Ok(value)
}

/// `extends` (`extends: base`, `{service: base}`, `{file, service}`): the service is the
/// base service (itself extended first) with its own keys merged over it by the override
/// rules, as compose does per file.
fn apply_extends(
    doc: &mut Value,
    other: &OtherFile<'_>,
) -> std::result::Result<(), (String, String)> {
    let Some(Value::Object(services)) = doc.get("services") else {
        return Ok(());
    };
    let names: Vec<String> = services.keys().cloned().collect();
    let mut done: HashMap<String, Value> = HashMap::new();
    for name in &names {
        resolve_extends(name, services, &mut done, &mut Vec::new(), other)?;
    }
    if let Some(Value::Object(services)) = doc.get_mut("services") {
        for (name, v) in done {
            services.insert(name, v);
        }
    }
    Ok(())
}

fn resolve_extends(
    name: &str,
    services: &Map<String, Value>,
    done: &mut HashMap<String, Value>,
    stack: &mut Vec<String>,
    other: &OtherFile<'_>,
) -> std::result::Result<Option<Value>, (String, String)> {
    if let Some(v) = done.get(name) {
        return Ok(Some(v.clone()));
    }
    let at = format!("services.{name}.extends");
    let Some(service) = services.get(name) else {
        return Ok(None);
    };
    let base_name = match service.get("extends") {
        None => return Ok(Some(service.clone())),
        Some(Value::String(b)) => b.clone(),
        Some(Value::Object(m)) if m.get("file").is_some() => {
            let file = m.get("file").and_then(Value::as_str).unwrap_or_default();
            let Some(base_name) = m.get("service").and_then(Value::as_str) else {
                return Err((at, "extends needs `service`".into()));
            };
            let Some(loaded) = other(file) else {
                return Ok(Some(service.clone()));
            };
            let loaded = loaded.map_err(|why| (at.clone(), why))?;
            let Some(base) = loaded.get("services").and_then(|s| s.get(base_name)) else {
                return Err((
                    at,
                    format!(
                        "cannot extend service `{name}`: service `{base_name}` not found in {file}"
                    ),
                ));
            };
            let mut own = service.clone();
            if let Value::Object(o) = &mut own {
                o.shift_remove("extends");
            }
            let mut path = vec!["services".to_string(), name.to_string()];
            let merged = merge(base.clone(), own, &mut path, &HashMap::new())
                .map_err(|p| (p, "cannot extend".into()))?;
            done.insert(name.to_string(), merged.clone());
            return Ok(Some(merged));
        }
        Some(Value::Object(m)) => match m.get("service").and_then(Value::as_str) {
            Some(b) => b.to_string(),
            None => return Err((at, "extends needs `service`".into())),
        },
        Some(_) => return Err((at, "extends is a service name or {service, file}".into())),
    };
    if stack.iter().any(|s| s == name) {
        return Err((
            at,
            format!("extends loops: {} -> {name}", stack.join(" -> ")),
        ));
    }
    if !services.contains_key(&base_name) {
        return Err((
            at,
            format!("cannot extend service `{name}`: service `{base_name}` not found"),
        ));
    }
    stack.push(name.to_string());
    let base = resolve_extends(&base_name, services, done, stack, other)?.unwrap_or(Value::Null);
    stack.pop();
    let mut own = service.clone();
    if let Value::Object(m) = &mut own {
        m.shift_remove("extends");
    }
    let mut path = vec!["services".to_string(), name.to_string()];
    let merged =
        merge(base, own, &mut path, &HashMap::new()).map_err(|p| (p, "cannot extend".into()))?;
    done.insert(name.to_string(), merged.clone());
    Ok(Some(merged))
}

/// `environment: [KEY]` / `{KEY: null}` takes KEY's value from the variables, as compose
/// does; an unset one stays without a value.
fn resolve_bare_environment(v: &mut Value, lookup: &dyn Fn(&str) -> Option<String>) {
    let Some(Value::Object(services)) = v.get_mut("services") else {
        return;
    };
    for (_, s) in services.iter_mut() {
        match s.get_mut("environment") {
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    if let Value::String(k) = item
                        && !k.contains('=')
                        && let Some(val) = lookup(k)
                    {
                        *item = Value::String(format!("{k}={val}"));
                    }
                }
            }
            Some(Value::Object(m)) => {
                for (k, val) in m.iter_mut() {
                    if val.is_null()
                        && let Some(x) = lookup(k)
                    {
                        *val = Value::String(x);
                    }
                }
            }
            _ => {}
        }
    }
}

fn service_names(v: &Value) -> Vec<String> {
    match v.get("services") {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Drop the services whose profiles are all inactive (compose's `config` does the same).
fn keep_active_profiles(v: &mut Value, active: &[String]) {
    let Some(Value::Object(services)) = v.get_mut("services") else {
        return;
    };
    services.retain(|_, s| match s.get("profiles") {
        Some(Value::Array(p)) if !p.is_empty() => p.iter().any(|x| {
            active.iter().any(|a| a == "*")
                || x.as_str().is_some_and(|x| active.iter().any(|a| a == x))
        }),
        _ => true,
    });
}

/// Keys of these mappings are the user's data, not compose's keywords: `x-` stays there.
const DATA_MAPPINGS: &[&str] = &[
    "environment",
    "labels",
    "annotations",
    "args",
    "driver_opts",
    "sysctls",
    "extra_hosts",
    "options",
    "additional_contexts",
    "services",
    "networks",
    "volumes",
    "secrets",
    "configs",
];

/// Remove `x-*` extension keys from every mapping of compose's own (compose allows them
/// anywhere its schema has keywords).
fn without_extensions(v: &Value, parent: &str) -> Value {
    match v {
        Value::Object(m) => {
            let data = DATA_MAPPINGS.contains(&parent);
            Value::Object(
                m.iter()
                    .filter(|(k, _)| data || !k.starts_with("x-"))
                    .map(|(k, x)| {
                        // Entries of services/networks/... are compose mappings again.
                        let child_parent = if data && parent != "environment" && parent != "labels"
                        {
                            ""
                        } else {
                            k.as_str()
                        };
                        (k.clone(), without_extensions(x, child_parent))
                    })
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| without_extensions(x, "")).collect()),
        other => other.clone(),
    }
}

/// Deserialize into the model; a schema error names `file:line`, the YAML path and, for an
/// unknown key, the closest known one.
fn validate_model(value: &Value, located: &Located) -> Result<ComposeFile> {
    let mut clean = without_extensions(value, "");
    // The top level is a compose mapping even though its keys are section names.
    if let Value::Object(m) = &mut clean {
        m.retain(|k, _| !k.starts_with("x-"));
    }
    serde_path_to_error::deserialize(clean).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner().to_string();
        let why = explain(&path, &inner);
        Error::usage(format!(
            "{}: {}{why}",
            located.at(&path),
            if path.is_empty() {
                String::new()
            } else {
                format!("{path}: ")
            }
        ))
    })
}

/// serde's message, said the way a compose user needs it.
fn explain(path: &str, serde_message: &str) -> String {
    if let Some(rest) = serde_message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match validate::closest(field, &known) {
            Some(k) => format!("unknown key `{field}` (did you mean `{k}`?)"),
            None => format!("unknown key `{field}`"),
        };
    }
    if serde_message.starts_with("data did not match any variant") {
        let last = path
            .rsplit('.')
            .next()
            .unwrap_or(path)
            .split('[')
            .next()
            .unwrap_or_default();
        let shape = match last {
            "ports" => {
                "a port is a string like \"8080:80\" or \"127.0.0.1:80:80/udp\", a number, or a mapping with target (and published, host_ip, protocol, mode, name, app_protocol)"
            }
            "volumes" => {
                "a service volume is a string like \"./data:/data:ro\" or a mapping with type and target (and source, read_only, bind, volume, tmpfs, image)"
            }
            "build" => {
                "build is a context path or a mapping with context, dockerfile, args, target ..."
            }
            "command" | "entrypoint" | "dns" | "dns_search" | "tmpfs" | "test" => {
                "this is a string or a list of strings"
            }
            "environment" | "labels" | "args" => {
                "this is a mapping of names to strings, numbers, booleans or null, or a list of \"KEY=value\""
            }
            "depends_on" => {
                "depends_on is a list of service names or a mapping of names to {condition, restart, required}"
            }
            "expose" | "group_add" | "user" | "version" | "target" | "published" | "retries"
            | "shm_size" => "this is a string or a number",
            _ => "this value has the wrong shape",
        };
        return shape.to_string();
    }
    serde_message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Vec<Source> {
        vec![Source {
            name: "docker-compose.yml".into(),
            text: text.into(),
        }]
    }

    fn r(text: &str) -> Result<Rendered> {
        render(&src(text), &|_| None, &[])
    }

    #[test]
    fn missing_required_variable_names_file_line_and_variable() {
        let text =
            "services:\n  web:\n    image: x\n    volumes:\n      - ${DATA:?set DATA}:/data\n";
        let e = r(text).unwrap_err();
        assert!(
            e.message
                .contains("docker-compose.yml:5: services.web.volumes[0]: required variable DATA"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_key_and_wrong_type_are_rejected_with_their_path_and_line() {
        let e = r("services:\n  web:\n    image: x\n    imagee: 1\n").unwrap_err();
        assert!(
            e.message
                .contains("docker-compose.yml:4: services.web.imagee: unknown key `imagee` (did you mean `image`?)"),
            "{}",
            e.message
        );
        let e = r("services:\n  web:\n    image: x\n    ports: 8080\n").unwrap_err();
        assert!(
            e.message.contains(":4: services.web.ports"),
            "{}",
            e.message
        );
        let e =
            r("services:\n  web:\n    image: x\n    ports:\n      - {targt: 80}\n").unwrap_err();
        assert!(
            e.message.contains(":5: services.web.ports[0]: a port is"),
            "{}",
            e.message
        );
        // Extensions are fine anywhere compose has keywords.
        r("x-common: &c {a: 1}\nservices:\n  web:\n    image: x\n    x-note: hi\n    ports:\n      - {target: 80, x-y: 1}\n")
            .unwrap();
    }

    #[test]
    fn override_files_merge() {
        let a = Source {
            name: "a.yml".into(),
            text: "services:\n  web:\n    image: x:1\n    ports: ['80:80']\n    dns: [a]\n    environment: [A=1, B=2]\n".into(),
        };
        let b = Source {
            name: "b.yml".into(),
            text: "services:\n  web:\n    image: x:2\n    ports: ['443:443']\n    dns: b\n    environment: {B: '3'}\n".into(),
        };
        let r = render(&[a, b], &|_| None, &[]).unwrap();
        let web = &r.model.services["web"];
        assert_eq!(web.image.as_deref(), Some("x:2"));
        assert_eq!(web.ports.as_ref().unwrap().len(), 2);
        assert_eq!(
            r.value["services"]["web"]["dns"],
            serde_json::json!(["a", "b"])
        );
        let env = web.environment.as_ref().unwrap().pairs();
        assert_eq!(
            env,
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("3".into()))
            ]
        );
    }

    #[test]
    fn extends_in_the_file_and_from_another() {
        let text = "services:\n  base:\n    image: b\n    environment: {A: '1'}\n    command: [base]\n  web:\n    extends: base\n    environment: {B: '2'}\n  far:\n    extends: {file: other.yaml, service: o}\n    ports: ['81:81']\n";
        let other = HashMap::from([(
            "other.yaml".to_string(),
            "services:\n  o:\n    image: o:${T:-1}\n    ports: ['80:80']\n".to_string(),
        )]);
        let r = render_with_files(&src(text), &|_| None, &[], Mode::Lazy, &other).unwrap();
        let web = &r.value["services"]["web"];
        assert_eq!(web["image"], "b");
        assert_eq!(web["command"], serde_json::json!(["base"]));
        assert_eq!(web["environment"], serde_json::json!(["A=1", "B=2"]));
        let far = &r.value["services"]["far"];
        assert_eq!(far["image"], "o:1");
        assert_eq!(far["ports"], serde_json::json!(["80:80", "81:81"]));
        let e = render(
            &src("services:\n  a:\n    extends: b\n  b:\n    extends: a\n"),
            &|_| None,
            &[],
        )
        .unwrap_err();
        assert!(e.message.contains("extends loops"), "{}", e.message);
    }

    #[test]
    fn profiles_merge_keys_and_casts() {
        let text = "x-b: &b\n  image: busybox\nservices:\n  a:\n    <<: *b\n    deploy: {replicas: '${N:-2}'}\n  b:\n    <<: *b\n    profiles: [p]\n";
        let out = render(&src(text), &|_| None, &[]).unwrap();
        assert_eq!(out.model.services.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(out.value["services"]["a"]["deploy"]["replicas"], 2);
        let out = render(&src(text), &|_| None, &["p".into()]).unwrap();
        assert_eq!(out.model.services.len(), 2);
    }
}
