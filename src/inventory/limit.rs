//! `--limit PATTERN`: a run works only on the inventory hosts a pattern names. Patterns are
//! globs (`*` any run of characters, `?` one) over host addresses (`web1`), host names as
//! `h.name` shows them (`deploy@web1`) and group names (`web`); several are separated by
//! commas or given as repeated flags. A pattern that matches nothing is an error, so a typo
//! never turns into "nothing to do".

use super::Environment;
use crate::error::{Error, Result};
use crate::host::HostSpec;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limit {
    patterns: Vec<String>,
}

impl Limit {
    /// From the `--limit` values (each may hold several patterns, comma-separated).
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Self {
        Limit {
            patterns: values
                .iter()
                .flat_map(|v| v.as_ref().split(','))
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Every pattern must match a host or a group of `env` (no environment: an error).
    pub fn check(&self, env: Option<&Environment>) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let env = env.ok_or_else(|| {
            Error::usage("--limit needs an inventory environment to pick hosts from")
                .hint("select one with --env (hoist.toml's [env.NAME.hosts])")
        })?;
        for p in &self.patterns {
            let hosts = env.hosts(None)?;
            let group = env.groups.keys().any(|g| glob(p, g));
            if !group && !hosts.iter().any(|h| host_matches(p, h)) {
                let names: Vec<String> = hosts.iter().map(HostSpec::display_name).collect();
                return Err(Error::usage(format!(
                    "--limit `{p}` matches no host or group of environment `{}`",
                    env.name
                ))
                .hint(format!(
                    "hosts: {}; groups: {}",
                    names.join(", "),
                    env.groups.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Whether a run limited so works on `spec` (always, without patterns).
    pub fn allows(&self, env: &Environment, spec: &HostSpec) -> bool {
        self.is_empty()
            || self.patterns.iter().any(|p| {
                host_matches(p, spec)
                    || env
                        .groups
                        .iter()
                        .any(|(g, specs)| glob(p, g) && specs.contains(spec))
            })
    }
}

fn host_matches(pattern: &str, spec: &HostSpec) -> bool {
    glob(pattern, &spec.host) || glob(pattern, &spec.display_name())
}

/// `*` matches any run of characters, `?` one; everything else itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point: the last `*` seen.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("web*", "web1"));
        assert!(glob("*", ""));
        assert!(glob("host?", "host3"));
        assert!(!glob("host?", "host10"));
        assert!(glob("*.example.org", "web1.example.org"));
        assert!(!glob("web", "web1"));
        assert!(glob("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn patterns_name_hosts_and_groups_and_a_miss_is_an_error() {
        let inv = super::super::Inventory::parse(
            "[env.p.hosts]\nweb = [\"deploy@web1\", \"deploy@web2:2222\"]\ndb = [\"db1\"]\n",
            std::path::Path::new("hoist.toml"),
        )
        .unwrap();
        let env = &inv.envs["p"];
        let web2 = HostSpec::parse("deploy@web2:2222").unwrap();
        let db1 = HostSpec::parse("db1").unwrap();
        let l = Limit::parse(&["web2"]);
        assert!(l.allows(env, &web2) && !l.allows(env, &db1));
        let l = Limit::parse(&["db,deploy@web1"]);
        assert!(l.allows(env, &db1) && !l.allows(env, &web2));
        assert!(Limit::parse(&["w*"]).check(Some(env)).is_ok());
        let e = Limit::parse(&["web9"]).check(Some(env)).unwrap_err();
        assert!(
            e.message
                .contains("--limit `web9` matches no host or group"),
            "{e}"
        );
        assert!(Limit::parse(&["x"]).check(None).is_err());
        assert!(Limit::parse::<&str>(&[]).check(None).is_ok());
    }
}
