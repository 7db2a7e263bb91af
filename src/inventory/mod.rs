//! The inventory: `hoist.toml`, found in the current directory or a parent (like a
//! justfile). Environments hold host groups and vars:
//!
//! ```toml
//! [env.production]
//! vars = { registry = "registry.example.org/lab" }
//! [env.production.hosts]
//! web = ["deploy@web1.example.org", "deploy@web2.example.org:2222"]
//! [env.production.group_vars.web]
//! port = 8080
//! [env.production.host_vars."web2.example.org"]
//! port = 8081
//! ```
//!
//! Group and host vars reach a script as `h.vars` (see [`crate::run_vars`]); a host_vars key
//! names a host as its group lists it, by its address, or as `h.name` shows it.

mod limit;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::host::HostSpec;

pub use limit::{Limit, glob};

pub const FILE_NAME: &str = "hoist.toml";

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    #[serde(default)]
    env: IndexMap<String, EnvModel>,
    /// Vars shared by every environment (an environment's own vars win).
    #[serde(default)]
    vars: toml::Table,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvModel {
    #[serde(default)]
    vars: toml::Table,
    #[serde(default)]
    hosts: IndexMap<String, Vec<String>>,
    /// group -> vars for that group's hosts.
    #[serde(default)]
    group_vars: IndexMap<String, toml::Table>,
    /// host -> vars for that host alone.
    #[serde(default)]
    host_vars: IndexMap<String, toml::Table>,
}

/// One environment, resolved.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub name: String,
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// group -> host specs, in file order.
    pub groups: IndexMap<String, Vec<HostSpec>>,
    /// group -> vars of that group's hosts (`[env.E.group_vars.G]`).
    pub group_vars: IndexMap<String, serde_json::Map<String, serde_json::Value>>,
    /// host key (as written in hoist.toml) -> the host's own vars (`[env.E.host_vars."H"]`).
    pub host_vars: IndexMap<String, serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The hoist.toml read (None: no project file was found).
    pub path: Option<PathBuf>,
    pub envs: IndexMap<String, Environment>,
}

impl Inventory {
    /// Look for hoist.toml from `start` upwards; no file is an empty inventory.
    pub fn discover(start: &Path) -> Result<Self> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Self::load(&candidate);
            }
            dir = d.parent();
        }
        Ok(Inventory::default())
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let model: FileModel = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    format!(":{line}")
                })
                .unwrap_or_default();
            Error::usage(format!("{}{at}: {}", path.display(), e.message()))
        })?;
        let shared = table_to_json(&model.vars);
        let mut envs = IndexMap::new();
        for (name, env) in model.env {
            let mut vars = shared.clone();
            vars.extend(table_to_json(&env.vars));
            let mut groups = IndexMap::new();
            for (group, specs) in env.hosts {
                let parsed = specs
                    .iter()
                    .map(|s| {
                        HostSpec::parse(s).map_err(|e| {
                            Error::usage(format!(
                                "{}: env.{name}.hosts.{group}: {}",
                                path.display(),
                                e.message
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                groups.insert(group, parsed);
            }
            let mut group_vars = IndexMap::new();
            for (group, table) in env.group_vars {
                if !groups.contains_key(&group) {
                    return Err(Error::usage(format!(
                        "{}: env.{name}.group_vars.{group}: no host group `{group}` in env.{name}.hosts",
                        path.display()
                    )));
                }
                group_vars.insert(group, table_to_json(&table));
            }
            let mut resolved = Environment {
                name: name.clone(),
                vars,
                groups,
                group_vars,
                host_vars: IndexMap::new(),
            };
            for (host, table) in env.host_vars {
                if resolved.host_by_key(&host).is_none() {
                    return Err(Error::usage(format!(
                        "{}: env.{name}.host_vars.\"{host}\": no host `{host}` in env.{name}.hosts",
                        path.display()
                    ))
                    .hint("name the host as its group lists it, by its address, or as h.name shows it"));
                }
                resolved.host_vars.insert(host, table_to_json(&table));
            }
            envs.insert(name, resolved);
        }
        Ok(Inventory {
            path: Some(path.to_path_buf()),
            envs,
        })
    }

    /// The directory hoist.toml is in: the project's root.
    pub fn project_dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }

    /// Pick the environment: the one asked for, else the only one there is.
    pub fn select(&self, name: Option<&str>) -> Result<Option<&Environment>> {
        match name {
            Some(n) => self.envs.get(n).map(Some).ok_or_else(|| {
                let file = self
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "no hoist.toml found".into());
                Error::usage(format!("unknown environment `{n}` ({file})")).hint(
                    if self.envs.is_empty() {
                        "define it as [env.NAME] in hoist.toml".to_string()
                    } else {
                        format!(
                            "known environments: {}",
                            self.envs.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    },
                )
            }),
            None if self.envs.len() == 1 => Ok(self.envs.values().next()),
            None => Ok(None),
        }
    }
}

impl Environment {
    /// Hosts of one group, or of all groups (each host once) for `None`.
    pub fn hosts(&self, group: Option<&str>) -> Result<Vec<HostSpec>> {
        match group {
            Some(g) => self.groups.get(g).cloned().ok_or_else(|| {
                Error::usage(format!(
                    "unknown host group `{g}` in environment `{}`",
                    self.name
                ))
                .hint(format!(
                    "groups in `{}`: {}",
                    self.name,
                    self.groups.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            }),
            None => {
                let mut all: Vec<HostSpec> = Vec::new();
                for spec in self.groups.values().flatten() {
                    if !all.contains(spec) {
                        all.push(spec.clone());
                    }
                }
                Ok(all)
            }
        }
    }
}

impl Environment {
    /// The host a host_vars key names: as a group lists it (`deploy@web1:2222`), by its address
    /// (`web1`), or by its display name (`deploy@web1`).
    pub fn host_by_key(&self, key: &str) -> Option<&HostSpec> {
        let parsed = HostSpec::parse(key).ok();
        self.groups
            .values()
            .flatten()
            .find(|s| s.host == key || s.display_name() == key || parsed.as_ref() == Some(*s))
    }

    /// The group and host vars of one host, merged in order: its groups' vars (in file order),
    /// then its own. Empty for a host not in this environment.
    pub fn scoped_vars(&self, spec: &HostSpec) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (group, specs) in &self.groups {
            if specs.contains(spec)
                && let Some(v) = self.group_vars.get(group)
            {
                m.extend(v.clone());
            }
        }
        for (key, v) in &self.host_vars {
            if self.host_by_key(key) == Some(spec) {
                m.extend(v.clone());
            }
        }
        m
    }

    /// Every group and host layer with a label for errors: `hoist.toml env.E.group_vars.G`.
    pub fn layers(&self) -> Vec<(String, &serde_json::Map<String, serde_json::Value>)> {
        let n = &self.name;
        let groups = self
            .group_vars
            .iter()
            .map(|(g, v)| (format!("hoist.toml env.{n}.group_vars.{g}:"), v));
        let hosts = self
            .host_vars
            .iter()
            .map(|(h, v)| (format!("hoist.toml env.{n}.host_vars.\"{h}\":"), v));
        groups.chain(hosts).collect()
    }
}

fn table_to_json(t: &toml::Table) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(t) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// Parse a `--set k=v` value: JSON scalars (numbers, true/false, quoted strings, arrays,
/// objects) as such; anything else as a plain string.
pub fn parse_set(arg: &str) -> Result<(String, serde_json::Value)> {
    let (k, v) = arg
        .split_once('=')
        .ok_or_else(|| Error::usage(format!("--set `{arg}`: write key=value")))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(Error::usage(format!("--set `{arg}`: empty key")));
    }
    let value =
        serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
vars = { app = "shared" }
[env.production]
vars  = { registry = "registry.example.org/lab/images", app_dir = "~/apps" }
[env.production.hosts]
web     = ["deploy@web1.example.org", "deploy@web2.example.org:2222"]
db      = ["deploy@db1.example.org", "deploy@web1.example.org"]

[env.local.hosts]
web = ["local"]
"#;

    #[test]
    fn reads_envs_groups_and_vars() {
        let inv = Inventory::parse(SAMPLE, Path::new("hoist.toml")).unwrap();
        let prod = inv.select(Some("production")).unwrap().unwrap();
        assert_eq!(prod.vars["app"], "shared");
        assert_eq!(prod.vars["app_dir"], "~/apps");
        assert_eq!(prod.hosts(Some("web")).unwrap()[1].port, Some(2222));
        assert_eq!(prod.hosts(None).unwrap().len(), 3, "all hosts, each once");
        assert!(
            inv.select(None).unwrap().is_none(),
            "two envs and none chosen"
        );
        let e = prod.hosts(Some("wbe")).unwrap_err();
        assert!(e.message.contains("`wbe`") && e.hint.clone().unwrap().contains("web"));
        let e = inv.select(Some("prod")).unwrap_err();
        assert!(e.hint.clone().unwrap().contains("production"));
    }

    #[test]
    fn malformed_files_name_the_file_line_and_key() {
        let e = Inventory::parse("[env.x]\nhostz = 1\n", Path::new("/p/hoist.toml")).unwrap_err();
        assert!(
            e.message.contains("/p/hoist.toml:2") && e.message.contains("hostz"),
            "{}",
            e.message
        );
        let e =
            Inventory::parse("[env.x.hosts]\nweb = [\"a:b\"]\n", Path::new("h.toml")).unwrap_err();
        assert!(e.message.contains("env.x.hosts.web"), "{}", e.message);
    }

    #[test]
    fn set_values_are_typed() {
        assert_eq!(parse_set("n=3").unwrap().1, serde_json::json!(3));
        assert_eq!(parse_set("tag=v1.2").unwrap().1, serde_json::json!("v1.2"));
        assert!(parse_set("novalue").is_err());
    }
}
