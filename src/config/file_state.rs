//! `h.file(path, #{state, mode, owner, group, recurse, src})`: a file, directory or symlink
//! exists (or not) with the given mode and ownership. One read-only probe learns what is
//! there; [`plan`] turns facts + desired state into the commands that change only what
//! differs.

use crate::command::{Command, quote, quote_path};
use crate::error::{Error, Result};
use crate::host::Host;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A regular file (created empty when missing).
    #[default]
    File,
    Directory,
    Link,
    Absent,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStateOpts {
    #[serde(default)]
    pub state: Kind,
    #[serde(default, deserialize_with = "crate::host::de_mode")]
    pub mode: Option<u32>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// Directories: apply mode/owner/group to everything below too.
    #[serde(default)]
    pub recurse: bool,
    /// Links: what the link points to.
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub sudo: bool,
}

/// What the probe found at the path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub kind: Option<Kind>,
    pub mode: Option<u32>,
    pub owner: String,
    pub group: String,
    pub link_target: String,
    /// With `recurse`: something below differs in owner, group or mode.
    pub below_differs: bool,
}

/// The shell commands that bring `facts` to `want` at `path` (empty: nothing to do).
pub fn plan(path: &str, facts: &Facts, want: &FileStateOpts) -> Result<Vec<String>> {
    let p = quote_path(path);
    let mut cmds = vec![];
    let present = facts.kind.is_some();
    match want.state {
        Kind::Absent => {
            if present {
                cmds.push(format!("rm -rf -- {p}"));
            }
            return Ok(cmds);
        }
        Kind::Link => {
            let src = want
                .src
                .as_deref()
                .ok_or_else(|| Error::usage("h.file(): state \"link\" needs `src`"))?;
            if facts.kind != Some(Kind::Link) || facts.link_target != src {
                if present && facts.kind != Some(Kind::Link) {
                    return Err(Error::failed(format!(
                        "{path} exists and is not a link: remove it first (state \"absent\")"
                    )));
                }
                cmds.push(format!("ln -sfn -- {} {p}", quote(src)));
            }
            // A link's own mode means nothing; ownership is set on the link itself.
            let who = ownership(facts, want);
            if !who.is_empty() {
                cmds.push(format!("chown -h {} -- {p}", quote(&who)));
            }
            return Ok(cmds);
        }
        Kind::File | Kind::Directory => {
            if present && facts.kind != Some(want.state) {
                return Err(Error::failed(format!(
                    "{path} exists as a {} where a {} is wanted: remove it first (state \"absent\")",
                    name(facts.kind.unwrap_or_default()),
                    name(want.state)
                )));
            }
            if !present {
                cmds.push(match want.state {
                    Kind::Directory => format!("mkdir -p -- {p}"),
                    _ => format!("touch -- {p}"),
                });
            }
        }
    }
    let r = if want.recurse && want.state == Kind::Directory {
        "-R "
    } else {
        ""
    };
    let deep = !r.is_empty() && facts.below_differs;
    if let Some(m) = want.mode
        && (!present || facts.mode != Some(m) || deep)
    {
        cmds.push(format!("chmod {r}{m:o} -- {p}"));
    }
    let who = ownership(facts, want);
    if !who.is_empty() || (deep && (want.owner.is_some() || want.group.is_some())) {
        let full = match (&want.owner, &want.group) {
            (Some(o), Some(g)) => format!("{o}:{g}"),
            (Some(o), None) => o.clone(),
            (None, Some(g)) => format!(":{g}"),
            (None, None) => String::new(),
        };
        cmds.push(format!("chown {r}{} -- {p}", quote(&full)));
    }
    Ok(cmds)
}

/// `owner[:group]` where either differs from the facts ("" when both match).
fn ownership(facts: &Facts, want: &FileStateOpts) -> String {
    let owner = want.owner.as_ref().filter(|o| **o != facts.owner);
    let group = want.group.as_ref().filter(|g| **g != facts.group);
    match (owner, group) {
        (None, None) => String::new(),
        (Some(o), None) => o.clone(),
        (None, Some(g)) => format!(":{g}"),
        (Some(o), Some(g)) => format!("{o}:{g}"),
    }
}

fn name(k: Kind) -> &'static str {
    match k {
        Kind::File => "file",
        Kind::Directory => "directory",
        Kind::Link => "link",
        Kind::Absent => "nothing",
    }
}

/// Parse the probe's output: `KIND` then `MODE OWNER GROUP`, then the link target, then
/// `deep` when something below differs.
fn parse(out: &str) -> Facts {
    let mut l = out.lines();
    let kind = match l.next().unwrap_or("") {
        "link" => Some(Kind::Link),
        "directory" => Some(Kind::Directory),
        "file" => Some(Kind::File),
        _ => None,
    };
    let stat: Vec<&str> = l.next().unwrap_or("").split_whitespace().collect();
    Facts {
        kind,
        mode: stat.first().and_then(|m| u32::from_str_radix(m, 8).ok()),
        owner: stat.get(1).unwrap_or(&"").to_string(),
        group: stat.get(2).unwrap_or(&"").to_string(),
        link_target: l.next().unwrap_or("").to_string(),
        below_differs: l.next() == Some("deep"),
    }
}

impl Host {
    /// Bring `path` to the wanted state; true if anything changed.
    pub async fn file_state(&self, path: &str, want: &FileStateOpts) -> Result<bool> {
        let p = quote_path(path);
        let mut probe = format!(
            "if [ -L {p} ]; then echo link; elif [ -d {p} ]; then echo directory; \
             elif [ -e {p} ]; then echo file; else echo absent; exit 0; fi; \
             stat -c '%a %U %G' -- {p}; readlink -- {p} || echo"
        );
        if want.recurse && want.state == Kind::Directory {
            let mut tests = vec![];
            if let Some(o) = &want.owner {
                tests.push(format!("! -user {}", quote(o)));
            }
            if let Some(g) = &want.group {
                tests.push(format!("! -group {}", quote(g)));
            }
            if let Some(m) = want.mode {
                tests.push(format!("! -perm {m:o}"));
            }
            if !tests.is_empty() {
                probe.push_str(&format!(
                    "; [ -n \"$(find {p} \\( {} \\) -print -quit 2>/dev/null)\" ] && echo deep",
                    tests.join(" -o ")
                ));
            }
        }
        let out = self
            .run(&Command::shell(probe).sudo(want.sudo).quiet().probe())
            .await?;
        let facts = parse(&out.stdout);
        let cmds = plan(path, &facts, want).map_err(|e| e.host(self.name()))?;
        if cmds.is_empty() {
            return Ok(false);
        }
        self.run(&Command::shell(cmds.join(" && ")).sudo(want.sudo))
            .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(state: Kind) -> FileStateOpts {
        FileStateOpts {
            state,
            ..FileStateOpts::default()
        }
    }

    fn dir(mode: u32, owner: &str) -> Facts {
        Facts {
            kind: Some(Kind::Directory),
            mode: Some(mode),
            owner: owner.into(),
            group: owner.into(),
            ..Facts::default()
        }
    }

    #[test]
    fn only_what_differs_is_planned() {
        let w = FileStateOpts {
            mode: Some(0o755),
            owner: Some("app".into()),
            ..want(Kind::Directory)
        };
        assert_eq!(
            plan("/run/gunicorn", &Facts::default(), &w).unwrap(),
            [
                "mkdir -p -- /run/gunicorn",
                "chmod 755 -- /run/gunicorn",
                "chown app -- /run/gunicorn"
            ]
        );
        assert!(plan("/d", &dir(0o755, "app"), &w).unwrap().is_empty());
        assert_eq!(
            plan("/d", &dir(0o700, "app"), &w).unwrap(),
            ["chmod 755 -- /d"]
        );
        assert_eq!(
            plan("/d", &dir(0o755, "root"), &w).unwrap(),
            ["chown app -- /d"]
        );
    }

    #[test]
    fn recurse_acts_only_when_something_below_differs() {
        let w = FileStateOpts {
            owner: Some("app".into()),
            recurse: true,
            ..want(Kind::Directory)
        };
        assert!(plan("/d", &dir(0o755, "app"), &w).unwrap().is_empty());
        let deep = Facts {
            below_differs: true,
            ..dir(0o755, "app")
        };
        assert_eq!(plan("/d", &deep, &w).unwrap(), ["chown -R app -- /d"]);
    }

    #[test]
    fn links_absent_and_conflicts() {
        let w = FileStateOpts {
            src: Some("/srv/app/releases/2".into()),
            ..want(Kind::Link)
        };
        assert_eq!(
            plan("/srv/app/current", &Facts::default(), &w).unwrap(),
            ["ln -sfn -- /srv/app/releases/2 /srv/app/current"]
        );
        let same = Facts {
            kind: Some(Kind::Link),
            link_target: "/srv/app/releases/2".into(),
            ..Facts::default()
        };
        assert!(plan("/srv/app/current", &same, &w).unwrap().is_empty());
        assert!(plan("/x", &Facts::default(), &want(Kind::Link)).is_err());
        assert_eq!(
            plan("/x y", &dir(0o755, "root"), &want(Kind::Absent)).unwrap(),
            ["rm -rf -- '/x y'"]
        );
        assert!(
            plan("/x", &Facts::default(), &want(Kind::Absent))
                .unwrap()
                .is_empty()
        );
        let e = plan("/d", &dir(0o755, "root"), &want(Kind::File)).unwrap_err();
        assert!(e.message.contains("exists as a directory"), "{}", e.message);
    }

    #[test]
    fn probe_output_parses() {
        let f = parse("directory\n755 app staff\n\ndeep\n");
        assert_eq!(f.kind, Some(Kind::Directory));
        assert_eq!(f.mode, Some(0o755));
        assert_eq!((f.owner.as_str(), f.group.as_str()), ("app", "staff"));
        assert!(f.below_differs);
        assert_eq!(parse("absent\n"), Facts::default());
    }
}
