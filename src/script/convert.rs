//! Converting values across the boundary: Rhai `Dynamic` <-> JSON values, and option maps
//! into typed Rust structs (`deny_unknown_fields`, so a typo'd key is an error naming it).

use rhai::{Dynamic, Map};
use serde::de::DeserializeOwned;

use super::errors::{RhaiResult, to_rhai};
use crate::error::Error;
use crate::secret::Secret;
use crate::sensitive::SecretOr;

/// A script value as JSON (a script's result, `--json`, tables). Arrays and maps are walked
/// so hoist's own types inside them read as data too: an `Output` as its fields, an error as
/// its report, a host as its name, a secret as `[REDACTED]`.
pub fn to_json(d: &Dynamic) -> serde_json::Value {
    use serde_json::Value;
    if let Some(s) = d.read_lock::<Secret>() {
        // A secret inside data stays hidden; it is exposed only where a primitive asks for it.
        return Value::String(s.to_string());
    }
    if let Some(o) = d.read_lock::<super::script_output::ScriptOutput>() {
        return o.to_json();
    }
    if let Some(e) = d.read_lock::<Error>() {
        return e.to_json();
    }
    if let Some(h) = d.read_lock::<crate::host::Host>() {
        return Value::String(h.name().to_string());
    }
    if let Some(a) = d.read_lock::<rhai::Array>() {
        return Value::Array(a.iter().map(to_json).collect());
    }
    if let Some(m) = d.read_lock::<Map>() {
        return Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect());
    }
    rhai::serde::from_dynamic::<Value>(d).unwrap_or_else(|_| Value::String(d.to_string()))
}

pub fn from_json(v: &serde_json::Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

pub fn map_from_json(m: &serde_json::Map<String, serde_json::Value>) -> Map {
    m.iter()
        .map(|(k, v)| (k.as_str().into(), from_json(v)))
        .collect()
}

/// A list of serializable rows as an array of maps (the CLI shows it as a table).
pub fn rows<T: serde::Serialize>(items: &[T]) -> RhaiResult<rhai::Array> {
    items.iter().map(to_dynamic).collect()
}

/// Any serializable Rust value as a Rhai value.
pub fn to_dynamic<T: serde::Serialize>(v: &T) -> RhaiResult<Dynamic> {
    rhai::serde::to_dynamic(v)
}

/// An option map as a typed struct. `what` names the call in the error (`h.run()`).
/// Secrets in the map reach the struct's [`crate::sensitive`] fields (and only those).
pub fn options<T: DeserializeOwned + Default>(map: Option<Map>, what: &str) -> RhaiResult<T> {
    let Some(map) = map else {
        return Ok(T::default());
    };
    let mut secrets = Vec::new();
    let value = stash_secrets(Dynamic::from_map(map), String::new(), &mut secrets);
    let read = || {
        // The key path (`credentials.password`) of a complaint inside a value says where.
        serde_path_to_error::deserialize::<_, T>(rhai::serde::DynamicDeserializer::new(&value))
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = plain_serde_error(&e.into_inner().to_string());
                if path.is_empty() || path == "." || inner.contains(&format!("`{path}`")) {
                    inner
                } else {
                    format!("{path}: {inner}")
                }
            })
    };
    crate::sensitive::with_secrets(secrets, read).map_err(|msg| {
        let msg = msg.split(" (line ").next().unwrap_or(&msg);
        // Rhai calls every serde complaint a "syntax error"; the key named after it is the news.
        let msg = msg.strip_prefix("Syntax error: ").unwrap_or(msg);
        to_rhai(Error::usage(format!("bad option for {what}: {msg}")))
    })
}

/// Rhai's words for a value of the wrong type, as a user would say them: "expected a map,
/// not string" instead of `Output type incorrect: string (expecting BTreeMap<..>)`.
fn plain_serde_error(msg: &str) -> String {
    let msg = msg.split(" (line ").next().unwrap_or(msg);
    let msg = msg.strip_prefix("Syntax error: ").unwrap_or(msg);
    let Some(rest) = msg.strip_prefix("Output type incorrect: ") else {
        return msg.to_string();
    };
    let (got, expected) = rest
        .split_once(" (expecting ")
        .map(|(g, e)| (g, e.trim_end_matches(')')))
        .unwrap_or((rest, ""));
    let wanted = if expected.contains("Map<") {
        "a map"
    } else if expected.contains("Vec<") {
        "an array"
    } else if expected.contains("String") || expected.contains("str") {
        "a string"
    } else if expected == "bool" {
        "true or false"
    } else if expected.starts_with('i') || expected.starts_with('u') {
        "an integer"
    } else if expected.starts_with('f') {
        "a number"
    } else {
        return msg.to_string();
    };
    format!("expected {wanted}, not {got}")
}

/// `value` with each secret in it replaced by its vault token; the secrets, with the key path
/// each was at, are pushed to `secrets` in token order.
fn stash_secrets(value: Dynamic, path: String, secrets: &mut Vec<(String, Secret)>) -> Dynamic {
    if let Some(s) = value.read_lock::<Secret>().map(|s| s.clone()) {
        let token = crate::sensitive::token(secrets.len());
        secrets.push((path, s));
        return token.into();
    }
    if value.is_map() {
        let map = value.cast::<Map>();
        let out: Map = map
            .into_iter()
            .map(|(k, v)| {
                let at = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                (k, stash_secrets(v, at, secrets))
            })
            .collect();
        return Dynamic::from_map(out);
    }
    if value.is_array() {
        let items = value.cast::<rhai::Array>();
        let out: rhai::Array = items
            .into_iter()
            .enumerate()
            .map(|(i, v)| stash_secrets(v, format!("{path}[{i}]"), secrets))
            .collect();
        return Dynamic::from_array(out);
    }
    value
}

/// A string or a Secret (numbers, bools and chars read as their text).
pub fn text(d: Dynamic, what: &str) -> RhaiResult<SecretOr> {
    if let Some(s) = d.read_lock::<Secret>() {
        return Ok(SecretOr::Secret(s.clone()));
    }
    if d.is_string() {
        return Ok(SecretOr::Plain(d.into_string().unwrap_or_default()));
    }
    if d.is_int() || d.is_float() || d.is_bool() || d.is_char() {
        return Ok(SecretOr::Plain(d.to_string()));
    }
    Err(to_rhai(Error::usage(format!(
        "{what} must be a string or secret, not {}",
        d.type_name()
    ))))
}

/// An array of strings (argv).
pub fn strings(arr: rhai::Array, what: &str) -> RhaiResult<Vec<String>> {
    arr.into_iter()
        .map(|d| match text(d, what)? {
            SecretOr::Plain(s) => Ok(s),
            SecretOr::Secret(_) => Err(to_rhai(
                Error::usage(format!("{what}: a secret cannot go into a command line (argv is visible to every user on the host)"))
                    .hint("pass it through opts.env or opts.stdin"),
            )),
        })
        .collect()
}

/// An array of hosts (`hosts("web")`, `[h1, h2]`); `what` names the call (`on()`) when an
/// item is something else.
pub fn hosts(arr: rhai::Array, what: &str) -> RhaiResult<Vec<crate::host::Host>> {
    arr.into_iter()
        .map(|d| {
            let t = d.type_name();
            d.try_cast::<crate::host::Host>().ok_or(t)
        })
        .collect::<Result<_, _>>()
        .map_err(|t| {
            to_rhai(Error::usage(format!(
                "{what}: every item must be a Host, found {t}"
            )))
        })
}

/// A command for exec in a container: a string is run by `sh -c` (as `h.run` does); an array
/// is an argv. `what` names the call in errors (`d.exec()`).
pub fn exec_argv(cmd: Dynamic, what: &str) -> RhaiResult<Vec<String>> {
    if cmd.is_string() {
        return Ok(vec![
            "sh".into(),
            "-c".into(),
            cmd.into_string().unwrap_or_default(),
        ]);
    }
    if cmd.is_array() {
        let argv = strings(
            cmd.into_array().unwrap_or_default(),
            &format!("{what} argv"),
        )?;
        if argv.is_empty() {
            return Err(to_rhai(Error::usage(format!(
                "{what}: the argv array is empty"
            ))));
        }
        return Ok(argv);
    }
    Err(to_rhai(Error::usage(format!(
        "{what}: the command must be a string (run by sh) or an array (argv), not {}",
        cmd.type_name()
    ))))
}
