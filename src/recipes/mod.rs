//! Recipes: plain Rhai scripts, built in (embedded with `include_str!` so the binary is
//! self-contained) or the project's own in `recipes/` beside hoist.toml, which override
//! built-ins of the same name. A recipe documents itself in its header:
//!
//! ```text
//! //! Gather facts from every host and print a table.
//! //! @param group = "web"   the inventory group to ask
//! //! @param app             (required: no default) the app's name
//! ```

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::{Error, Result};

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
    ("release", include_str!("../../stdlib/release.rhai")),
    ("app", include_str!("../../stdlib/app.rhai")),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// None: the parameter is required.
    pub default: Option<serde_json::Value>,
    pub doc: String,
}

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
                let param = parse_param(p.trim()).map_err(|m| {
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

    /// Turn `--name value` arguments into vars, filling defaults; unknown or missing
    /// parameters are usage errors. A parameter without a default is also satisfied by a var
    /// the run already has (`known`: inventory vars and `--set`), e.g. a registry URL kept in
    /// hoist.toml.
    pub fn bind(
        &self,
        args: &[(String, serde_json::Value)],
        known: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut vars = serde_json::Map::new();
        for (k, v) in args {
            let key = k.replace('-', "_");
            if !self.params.contains_key(&key) {
                return Err(
                    Error::usage(format!("recipe `{}` has no parameter --{k}", self.name))
                        .hint(format!("see `hoist {} --help`", self.name)),
                );
            }
            vars.insert(key, v.clone());
        }
        for p in self.params.values() {
            if !vars.contains_key(&p.name) {
                match &p.default {
                    Some(d) => {
                        vars.insert(p.name.clone(), d.clone());
                    }
                    None if known.contains_key(&p.name) => {}
                    None => {
                        return Err(Error::usage(format!(
                            "recipe `{}` needs --{}",
                            self.name,
                            p.name.replace('_', "-")
                        ))
                        .hint(p.doc.clone()));
                    }
                }
            }
        }
        Ok(vars)
    }
}

/// `name [= default] doc`.
fn parse_param(text: &str) -> std::result::Result<Param, String> {
    let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("the parameter name must be an identifier".into());
    }
    let rest = rest.trim();
    let (default, doc) = match rest.strip_prefix('=') {
        Some(after) => {
            let after = after.trim();
            let mut de = serde_json::Deserializer::from_str(after).into_iter::<serde_json::Value>();
            let value = match de.next() {
                Some(Ok(v)) => v,
                _ => {
                    return Err("the default must be a JSON value (\"text\", 3, true, [..])".into());
                }
            };
            let used = de.byte_offset();
            (Some(value), after[used..].trim().to_string())
        }
        None => (None, rest.to_string()),
    };
    Ok(Param {
        name: name.to_string(),
        default,
        doc,
    })
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
        let none = serde_json::Map::new();
        let vars = r
            .bind(&[("app".into(), serde_json::json!("a1"))], &none)
            .unwrap();
        assert_eq!(vars["group"], "web");
        assert!(r.bind(&[], &none).unwrap_err().message.contains("--app"));
        let typo = r.bind(&[("ap".into(), serde_json::json!(1))], &none);
        assert!(typo.unwrap_err().message.contains("--ap"));
        let mut inventory = serde_json::Map::new();
        inventory.insert("app".into(), serde_json::json!("from-inventory"));
        assert!(
            r.bind(&[], &inventory).is_ok(),
            "a required parameter may come from the inventory"
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
