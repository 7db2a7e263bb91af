//! `h.packages(names, #{state, update})` on apt, dnf/yum and apk (runbook 003 installs
//! `cifs-utils`). The manager is detected once per host; the package index is refreshed at most
//! once per run; a probe learns which packages are installed (and, with apt, which have a newer
//! candidate); [`plan`] returns the one install/remove command that closes the gap. A package
//! the manager does not know is an error naming it, before anything is installed.

use std::collections::BTreeMap;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PkgState {
    #[default]
    Present,
    Absent,
    /// Installed and at the newest version the index knows.
    Latest,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageOpts {
    #[serde(default)]
    pub state: PkgState,
    /// Refresh the package index first (at most once per run and host).
    #[serde(default)]
    pub update: bool,
    #[serde(default)]
    pub sudo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Apt,
    Dnf,
    Yum,
    Apk,
}

impl Manager {
    fn tag(self) -> &'static str {
        match self {
            Manager::Apt => "apt",
            Manager::Dnf => "dnf",
            Manager::Yum => "yum",
            Manager::Apk => "apk",
        }
    }
    fn parse(s: &str) -> Option<Manager> {
        match s.trim() {
            "apt" => Some(Manager::Apt),
            "dnf" => Some(Manager::Dnf),
            "yum" => Some(Manager::Yum),
            "apk" => Some(Manager::Apk),
            _ => None,
        }
    }
    fn update(self) -> Vec<&'static str> {
        match self {
            Manager::Apt => vec!["apt-get", "update", "-q"],
            Manager::Dnf => vec!["dnf", "makecache", "-q"],
            Manager::Yum => vec!["yum", "makecache", "-q"],
            Manager::Apk => vec!["apk", "update", "-q"],
        }
    }
}

/// What the probe learnt of one package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkg {
    pub installed: Option<String>,
    /// The version the index offers (apt only); `None` when the index does not know it.
    pub candidate: Option<String>,
}

/// The argv that bring the packages to `state` (empty: nothing to do).
pub fn plan(
    m: Manager,
    names: &[String],
    facts: &BTreeMap<String, Pkg>,
    state: PkgState,
) -> Result<Vec<Vec<String>>> {
    let missing = Pkg::default();
    let fact = |n: &String| facts.get(n).unwrap_or(&missing);
    let todo: Vec<String> = names
        .iter()
        .filter(|n| match state {
            PkgState::Absent => fact(n).installed.is_some(),
            PkgState::Present => fact(n).installed.is_none(),
            PkgState::Latest => {
                let f = fact(n);
                f.installed.is_none() || (f.candidate.is_some() && f.candidate != f.installed)
            }
        })
        .cloned()
        .collect();
    if todo.is_empty() {
        return Ok(vec![]);
    }
    if m == Manager::Apt && state != PkgState::Absent {
        let unknown: Vec<&str> = todo
            .iter()
            .filter(|n| fact(n).installed.is_none() && fact(n).candidate.is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::failed(format!(
                "no package {} in the apt index (a typo, or run with #{{update: true}})",
                unknown.join(", ")
            )));
        }
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut argv = match (m, state) {
        (Manager::Apt, PkgState::Absent) => s(&["apt-get", "remove", "-y", "-q"]),
        (Manager::Apt, PkgState::Present) => {
            s(&["apt-get", "install", "-y", "-q", "--no-install-recommends"])
        }
        (Manager::Apt, PkgState::Latest) => s(&[
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "--only-upgrade",
        ]),
        (Manager::Dnf | Manager::Yum, PkgState::Absent) => s(&[m.tag(), "remove", "-y", "-q"]),
        (Manager::Dnf | Manager::Yum, PkgState::Present) => s(&[m.tag(), "install", "-y", "-q"]),
        (Manager::Apk, PkgState::Absent) => s(&["apk", "del", "-q"]),
        (Manager::Apk, PkgState::Present) => s(&["apk", "add", "-q"]),
        (_, PkgState::Latest) => {
            return Err(Error::usage(format!(
                "packages(): state \"latest\" is supported with apt only (this host has {})",
                m.tag()
            )));
        }
    };
    // `--only-upgrade` skips packages that are not installed yet: install those plainly.
    if state == PkgState::Latest && todo.iter().any(|n| fact(n).installed.is_none()) {
        argv.retain(|a| a != "--only-upgrade");
    }
    argv.push("--".into());
    argv.extend(todo);
    Ok(vec![argv])
}

/// Parse `dpkg-query -W` lines (`name<TAB>status<TAB>version`) and `apt-cache policy` blocks.
fn parse_apt(dpkg: &str, policy: &str) -> BTreeMap<String, Pkg> {
    let mut out: BTreeMap<String, Pkg> = BTreeMap::new();
    for l in dpkg.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() == 3 && f[1].starts_with("ii") {
            out.entry(f[0].into()).or_default().installed = Some(f[2].into());
        }
    }
    let mut current: Option<String> = None;
    for l in policy.lines() {
        if !l.starts_with(' ') && l.ends_with(':') {
            current = Some(l.trim_end_matches(':').to_string());
        } else if let (Some(name), Some(c)) = (&current, l.trim().strip_prefix("Candidate:")) {
            let c = c.trim();
            if c != "(none)" {
                out.entry(name.clone()).or_default().candidate = Some(c.into());
            }
        }
    }
    out
}

const MEMO_MANAGER: &str = "pkg-manager";
const MEMO_UPDATED: &str = "pkg-index-updated";

fn valid(names: &[String]) -> Result<()> {
    for n in names {
        if n.is_empty()
            || n.starts_with('-')
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-._:=~*".contains(c))
        {
            return Err(Error::usage(format!(
                "packages(): `{n}` is not a package name"
            )));
        }
    }
    Ok(())
}

impl Host {
    /// The package manager (detected once per host and run).
    pub async fn package_manager(&self) -> Result<Manager> {
        if let Some(m) = self.recall(MEMO_MANAGER).and_then(|m| Manager::parse(&m)) {
            return Ok(m);
        }
        let out = self
            .run(
                &Command::shell(
                    "for m in apt-get dnf yum apk; do command -v $m >/dev/null && { echo ${m%-get}; exit 0; }; done",
                )
                .quiet().probe(),
            )
            .await?;
        let m = Manager::parse(&out.stdout).ok_or_else(|| {
            Error::failed("packages(): no apt-get, dnf, yum or apk on this host").host(self.name())
        })?;
        self.remember(MEMO_MANAGER, m.tag());
        Ok(m)
    }

    async fn package_facts(&self, m: Manager, names: &[String]) -> Result<BTreeMap<String, Pkg>> {
        let q = |cmd: Vec<String>| Command::argv(cmd).check(false).quiet().probe();
        let names_v = names.to_vec();
        Ok(match m {
            Manager::Apt => {
                let mut dq = vec![
                    "dpkg-query".to_string(),
                    "-W".into(),
                    "-f=${Package}\t${db:Status-Abbrev}\t${Version}\n".into(),
                    "--".into(),
                ];
                dq.extend(names_v.clone());
                let mut pol = vec!["apt-cache".to_string(), "policy".into(), "--".into()];
                pol.extend(names_v);
                let dpkg = self.run(&q(dq)).await?.stdout;
                let policy = self.run(&q(pol)).await?.stdout;
                parse_apt(&dpkg, &policy)
            }
            Manager::Dnf | Manager::Yum | Manager::Apk => {
                let mut out = BTreeMap::new();
                for n in names {
                    let probe = if m == Manager::Apk {
                        vec!["apk".to_string(), "info".into(), "-e".into(), n.clone()]
                    } else {
                        vec!["rpm".to_string(), "-q".into(), n.clone()]
                    };
                    let r = self.run(&q(probe)).await?;
                    let installed = (r.code == 0).then(|| r.stdout.trim().to_string());
                    out.insert(
                        n.clone(),
                        Pkg {
                            installed,
                            candidate: None,
                        },
                    );
                }
                out
            }
        })
    }

    /// Bring `names` to the wanted state; true if anything was installed or removed.
    pub async fn packages(&self, names: &[String], o: &PackageOpts) -> Result<bool> {
        valid(names)?;
        let m = self.package_manager().await?;
        if o.update && self.recall(MEMO_UPDATED).is_none() {
            // Refreshing the index installs nothing: it is the probe a plan needs to know
            // what `latest` and unknown names mean, so a --dry-run runs it too.
            let mut c = Command::argv(m.update()).sudo(o.sudo).probe();
            if m == Manager::Apt {
                c = c.env("DEBIAN_FRONTEND", "noninteractive");
            }
            self.run(&c).await?;
            self.remember(MEMO_UPDATED, "yes");
        }
        let facts = self.package_facts(m, names).await?;
        let cmds = plan(m, names, &facts, o.state).map_err(|e| e.host(self.name()))?;
        for argv in &cmds {
            let mut c = Command::argv(argv).sudo(o.sudo);
            if m == Manager::Apt {
                c = c.env("DEBIAN_FRONTEND", "noninteractive");
            }
            self.run(&c).await?;
        }
        Ok(!cmds.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn apt_plans_only_what_differs_and_names_unknown_packages() {
        let facts = parse_apt(
            "cifs-utils\tii \t2:7.0-2\ncurl\tun \t\n",
            "cifs-utils:\n  Installed: 2:7.0-2\n  Candidate: 2:7.1-1\ncurl:\n  Installed: (none)\n  Candidate: 7.88\nnope:\n  Installed: (none)\n  Candidate: (none)\n",
        );
        assert_eq!(facts["cifs-utils"].installed.as_deref(), Some("2:7.0-2"));
        assert_eq!(facts["curl"].installed, None);
        let p = plan(
            Manager::Apt,
            &names(&["cifs-utils", "curl"]),
            &facts,
            PkgState::Present,
        )
        .unwrap();
        assert_eq!(
            p,
            [names(&[
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "--",
                "curl"
            ])]
        );
        assert!(
            plan(
                Manager::Apt,
                &names(&["cifs-utils"]),
                &facts,
                PkgState::Present
            )
            .unwrap()
            .is_empty()
        );
        assert_eq!(
            plan(
                Manager::Apt,
                &names(&["cifs-utils"]),
                &facts,
                PkgState::Latest
            )
            .unwrap()[0],
            names(&[
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "--only-upgrade",
                "--",
                "cifs-utils"
            ])
        );
        assert_eq!(
            plan(
                Manager::Apt,
                &names(&["cifs-utils", "curl"]),
                &facts,
                PkgState::Absent
            )
            .unwrap()[0],
            names(&["apt-get", "remove", "-y", "-q", "--", "cifs-utils"])
        );
        let e = plan(
            Manager::Apt,
            &names(&["curl", "nope"]),
            &facts,
            PkgState::Present,
        )
        .unwrap_err();
        assert!(e.message.contains("no package nope"), "{}", e.message);
    }

    #[test]
    fn other_managers() {
        let facts: BTreeMap<String, Pkg> = BTreeMap::new();
        assert_eq!(
            plan(Manager::Apk, &names(&["curl"]), &facts, PkgState::Present).unwrap()[0],
            names(&["apk", "add", "-q", "--", "curl"])
        );
        assert_eq!(
            plan(Manager::Dnf, &names(&["curl"]), &facts, PkgState::Present).unwrap()[0][0],
            "dnf"
        );
        assert!(plan(Manager::Yum, &names(&["curl"]), &facts, PkgState::Latest).is_err());
        assert!(valid(&names(&["-oops"])).is_err());
        assert!(valid(&names(&["a b"])).is_err());
    }
}
