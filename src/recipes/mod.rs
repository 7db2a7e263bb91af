//! Recipes: plain Rhai scripts, built in (embedded with `include_str!` so the binary is
//! self-contained) or the project's own in `recipes/` beside hoist.toml, which override
//! built-ins of the same name. A recipe documents itself in its header:
//!
//! ```text
//! //! Gather facts from every host and print a table.
//! //! @param group = "web"   the inventory group to ask
//! //! @param app             (required: no default) the app's name
//! //! @param services: array (required, a list) the services to restart
//! //! @param user = ()       (optional: `()` unless given; a string) the registry user
//! ```
//!
//! A parameter's type is its default's (or the declared one); every value it receives is
//! checked against it before the recipe runs (see [`param`]).

pub mod markdown;
pub mod param;
pub mod run_vars;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use run_vars::RunVars;

/// Built-in recipes: (name, source).
pub const BUILTIN: &[(&str, &str)] = &[
    ("facts", include_str!("../../recipes/facts.rhai")),
    ("adhoc", include_str!("../../recipes/adhoc.rhai")),
    ("gitpull", include_str!("../../recipes/gitpull.rhai")),
    ("deploy", include_str!("../../recipes/deploy.rhai")),
    ("upgrade", include_str!("../../recipes/upgrade.rhai")),
    ("bluegreen", include_str!("../../recipes/bluegreen.rhai")),
    ("status", include_str!("../../recipes/status.rhai")),
    ("releases", include_str!("../../recipes/releases.rhai")),
    ("logs", include_str!("../../recipes/logs.rhai")),
    ("exec", include_str!("../../recipes/exec.rhai")),
    ("destroy", include_str!("../../recipes/destroy.rhai")),
    ("stack", include_str!("../../recipes/stack.rhai")),
];

/// Embedded helper modules for `import "NAME"`.
pub const STDLIB: &[(&str, &str)] = &[
    ("util", include_str!("../../stdlib/util.rhai")),
    ("app", include_str!("../../stdlib/app.rhai")),
];

pub use param::{Param, ParamType};

#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub source: String,
    /// Where it came from: "built-in" or the file path.
    pub origin: String,
    pub path: Option<PathBuf>,
    pub summary: String,
    pub doc: String,
    pub params: IndexMap<String, Param>,
}

impl Recipe {
    pub fn parse(name: &str, source: &str, origin: &str, path: Option<PathBuf>) -> Result<Self> {
        let mut doc_lines = Vec::new();
        let mut params = IndexMap::new();
        for line in source.lines() {
            let Some(rest) = line.trim_start().strip_prefix("//!") else {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            };
            let rest = rest.trim();
            if let Some(p) = rest.strip_prefix("@param") {
                let param = Param::parse(p.trim()).map_err(|m| {
                    Error::usage(format!(
                        "recipe {name} ({origin}): bad @param line `{rest}`: {m}"
                    ))
                })?;
                params.insert(param.name.clone(), param);
            } else {
                doc_lines.push(rest.to_string());
            }
        }
        Ok(Recipe {
            name: name.to_string(),
            source: source.to_string(),
            origin: origin.to_string(),
            path,
            summary: doc_lines.first().cloned().unwrap_or_default(),
            doc: doc_lines.join("\n").trim().to_string(),
            params,
        })
    }

    /// "no parameter --helth-port (did you mean --health-port?)": `flag` as given (with or
    /// without its dashes), offering the closest of this recipe's parameters and of `also`
    /// (the command line's other long flags, without dashes).
    pub fn no_parameter(&self, flag: &str, also: &[String]) -> String {
        let bare = flag.trim_start_matches('-');
        // Compared as parameter names are kept (`health_port`), shown as flags are typed.
        let word = bare.replace('-', "_");
        let known: Vec<String> = self
            .params
            .keys()
            .cloned()
            .chain(also.iter().map(|f| f.replace('-', "_")))
            .collect();
        match crate::did_you_mean::closest(&word, known.iter().map(String::as_str)) {
            Some(k) => format!(
                "no parameter --{bare} (did you mean --{}?)",
                k.replace('_', "-")
            ),
            None => format!("no parameter --{bare}"),
        }
    }

    /// The run's vars for this recipe: recipe defaults < inventory vars < flags < `--set`.
    /// `flags` are the `--name value` arguments (text as typed, one entry per occurrence;
    /// `Null` for a bare `--flag`; a typed JSON value is checked as it is). Every value a
    /// parameter gets — and every group or per-host inventory var named like one — is checked
    /// against the parameter's type here, before anything runs; unknown flags and missing
    /// required parameters are usage errors too.
    pub fn bind(&self, flags: &[(String, Value)], src: &Sources<'_>) -> Result<RunVars> {
        let usage = |m: String| {
            Error::usage(format!("recipe `{}`: {m}", self.name))
                .hint(format!("see `hoist {} --help`", self.name))
        };
        let mut given: IndexMap<String, Vec<&Value>> = IndexMap::new();
        for (k, v) in flags {
            let key = k.replace('-', "_");
            if !self.params.contains_key(&key) {
                return Err(usage(self.no_parameter(k, &[])));
            }
            given.entry(key).or_default().push(v);
        }
        let mut vars = Map::new();
        for p in self.params.values() {
            if let Some(d) = &p.default {
                vars.insert(p.name.clone(), d.clone());
            }
        }
        // Inventory vars (the environment's) and --set, each read as its parameter's type.
        let read = |layer: &Map<String, Value>, label: &str| -> Result<Map<String, Value>> {
            let mut out = Map::new();
            for (k, v) in layer {
                let value = match self.params.get(k) {
                    Some(p) => p
                        .from_value(v)
                        .map_err(|m| usage(format!("{label} {k}: {m}")))?,
                    None => v.clone(),
                };
                out.insert(k.clone(), value);
            }
            Ok(out)
        };
        vars.extend(read(src.env_vars, &src.env_label)?);
        let sets = read(src.sets, "--set")?;
        for (label, layer) in &src.scoped {
            for (k, v) in *layer {
                if let Some(p) = self.params.get(k) {
                    p.from_value(v)
                        .map_err(|m| usage(format!("{label} {k}: {m}")))?;
                }
            }
        }
        let mut pinned = Map::new();
        for (key, values) in given {
            let p = &self.params[&key];
            let value = match values.as_slice() {
                [v] if !matches!(v, Value::String(_) | Value::Null) => p.from_value(v),
                _ => p.from_flags(
                    &values
                        .iter()
                        .map(|v| match v {
                            Value::Null => None,
                            Value::String(s) => Some(s.clone()),
                            other => Some(other.to_string()),
                        })
                        .collect::<Vec<_>>(),
                ),
            }
            .map_err(usage)?;
            vars.insert(key.clone(), value.clone());
            pinned.insert(key, value);
        }
        // --set has the last word, over flags too.
        vars.extend(sets.clone());
        pinned.extend(sets);
        // A required parameter may also come from group or host vars (for the hosts that
        // have them: a recipe reads it from `h.vars`).
        let scoped = |name: &str| src.scoped.iter().any(|(_, l)| l.contains_key(name));
        for p in self.params.values() {
            if !vars.contains_key(&p.name) && !scoped(&p.name) {
                return Err(Error::usage(format!(
                    "recipe `{}` needs {} ({})",
                    self.name,
                    p.flag(),
                    p.ty.expected()
                ))
                .hint(p.doc.clone()));
            }
        }
        Ok(RunVars {
            vars,
            pinned,
            params: self.params.clone(),
        })
    }
}

/// Where a recipe's vars come from besides its flags.
#[derive(Debug)]
pub struct Sources<'a> {
    /// The selected environment's vars (shared `vars` of hoist.toml included).
    pub env_vars: &'a Map<String, Value>,
    /// Names that source in errors, e.g. "hoist.toml env `fleet` var".
    pub env_label: String,
    /// Group and per-host vars with their labels: they reach `h.vars`, not `vars`, and are
    /// checked against the parameters' types here.
    pub scoped: Vec<(String, &'a Map<String, Value>)>,
    /// `--set k=v`.
    pub sets: &'a Map<String, Value>,
}

/// Every recipe the resolver finds: built-ins, then the project's (overriding by name).
pub fn discover(project_dir: Option<&Path>) -> Result<IndexMap<String, Recipe>> {
    let mut all = IndexMap::new();
    for (name, src) in BUILTIN {
        all.insert(
            name.to_string(),
            Recipe::parse(name, src, "built-in", None)?,
        );
    }
    if let Some(dir) = project_dir.map(|d| d.join("recipes"))
        && dir.is_dir()
    {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.extension().and_then(|e| e.to_str()) != Some("rhai") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let src = std::fs::read_to_string(&path)
                .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
            let origin = path.display().to_string();
            all.insert(
                name.clone(),
                Recipe::parse(&name, &src, &origin, Some(path))?,
            );
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    type Map = serde_json::Map<String, Value>;

    #[test]
    fn header_gives_summary_and_params() {
        let r = Recipe::parse(
            "x",
            "//! Do the thing.\n//! More text.\n//! @param group = \"web\" hosts to use\n//! @param app the app\nlet a = 1;\n",
            "built-in",
            None,
        )
        .unwrap();
        assert_eq!(r.summary, "Do the thing.");
        assert_eq!(r.params["group"].default, Some(serde_json::json!("web")));
        assert_eq!(r.params["group"].doc, "hosts to use");
        assert_eq!(r.params["app"].default, None);
        let none = Map::new();
        let src = |env: &'static Map, sets: &'static Map| Sources {
            env_vars: env,
            env_label: "hoist.toml env.p.vars:".into(),
            scoped: Vec::new(),
            sets,
        };
        let empty: &'static Map = Box::leak(Box::new(none));
        let vars = r
            .bind(&[("app".into(), json!("a1"))], &src(empty, empty))
            .unwrap();
        assert_eq!(vars.vars["group"], "web");
        assert!(
            r.bind(&[], &src(empty, empty))
                .unwrap_err()
                .message
                .contains("--app")
        );
        let typo = r.bind(&[("ap".into(), json!(1))], &src(empty, empty));
        assert!(typo.unwrap_err().message.contains("--ap"));
        let inventory: &'static Map = Box::leak(Box::new(
            json!({"app": "from-inventory", "group": "db"})
                .as_object()
                .unwrap()
                .clone(),
        ));
        let bound = r.bind(&[], &src(inventory, empty)).unwrap();
        assert_eq!(
            (bound.vars["app"].clone(), bound.vars["group"].clone()),
            (json!("from-inventory"), json!("db")),
            "inventory vars beat recipe defaults and serve required parameters"
        );
        let sets: &'static Map = Box::leak(Box::new(
            json!({"group": "set"}).as_object().unwrap().clone(),
        ));
        let bound = r
            .bind(&[("group".into(), json!("flag"))], &src(inventory, sets))
            .unwrap();
        assert_eq!(bound.vars["group"], "set", "--set beats a flag");
        assert_eq!(bound.pinned["group"], "set");
    }

    #[test]
    fn every_value_is_checked_against_the_parameter_type_first() {
        let r = Recipe::parse(
            "x",
            "//! X.\n//! @param port = 8080\n//! @param cmd = \"\"\n//! @param user = ()\n",
            "built-in",
            None,
        )
        .unwrap();
        let empty = Map::new();
        let src = |env: &Map| -> std::result::Result<(), String> {
            let s = Sources {
                env_vars: env,
                env_label: "hoist.toml env.p.vars:".into(),
                scoped: Vec::new(),
                sets: &empty,
            };
            r.bind(&[], &s).map(|_| ()).map_err(|e| e.message.clone())
        };
        let bad = json!({"port": "80x"}).as_object().unwrap().clone();
        assert_eq!(
            src(&bad).unwrap_err(),
            "recipe `x`: hoist.toml env.p.vars: port: --port `80x`: expected an integer (its default is 8080)"
        );
        let s = Sources {
            env_vars: &empty,
            env_label: String::new(),
            scoped: Vec::new(),
            sets: &empty,
        };
        let b = r
            .bind(
                &[("cmd".into(), json!("true")), ("port".into(), json!("81"))],
                &s,
            )
            .unwrap();
        assert_eq!(
            (b.vars["cmd"].clone(), b.vars["port"].clone()),
            (json!("true"), json!(81))
        );
        assert_eq!(b.vars["user"], Value::Null, "an optional parameter is ()");
        let host = json!({"port": "eighty"}).as_object().unwrap().clone();
        let s = Sources {
            env_vars: &empty,
            env_label: String::new(),
            scoped: vec![("hoist.toml env.p.host_vars.\"web1\":".into(), &host)],
            sets: &empty,
        };
        let e = r.bind(&[], &s).unwrap_err();
        assert!(
            e.message
                .contains("host_vars.\"web1\": port: --port `eighty`"),
            "{e}"
        );
        let needs = Recipe::parse("n", "//! N.\n//! @param dir\n", "built-in", None).unwrap();
        let host = json!({"dir": "~/x"}).as_object().unwrap().clone();
        let s = Sources {
            env_vars: &empty,
            env_label: String::new(),
            scoped: vec![("h".into(), &host)],
            sets: &empty,
        };
        assert!(
            needs.bind(&[], &s).is_ok(),
            "a required parameter may come from a host's vars"
        );
    }

    #[test]
    fn builtins_parse() {
        let all = discover(None).unwrap();
        assert!(
            all.values().all(|r| !r.summary.is_empty()),
            "every built-in recipe has a summary line"
        );
    }
}
