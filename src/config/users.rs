//! `h.user(name, #{uid, group, groups, shell, home, system, state})` and
//! `h.group(name, #{gid, system, state})` (runbook 003 creates `kraken-read` and
//! `kraken-write`). A probe reads the account through `getent` and `id`; [`plan_user`] and
//! [`plan_group`] return the useradd/usermod/userdel (groupadd/...) argv that close the gap.

use super::Presence;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserOpts {
    #[serde(default)]
    pub uid: Option<u32>,
    /// Primary group.
    #[serde(default)]
    pub group: Option<String>,
    /// Supplementary groups: exactly these (the primary group aside).
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub shell: Option<String>,
    #[serde(default)]
    pub home: Option<String>,
    /// A system account (created with `--system`, no home unless `home` is given).
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub state: Presence,
    /// With state "absent": remove the home directory too.
    #[serde(default)]
    pub remove_home: bool,
    #[serde(default)]
    pub sudo: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupOpts {
    #[serde(default)]
    pub gid: Option<u32>,
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub state: Presence,
    #[serde(default)]
    pub sudo: bool,
}

/// An account as `getent passwd` and `id` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub group: String,
    pub groups: Vec<String>,
    pub home: String,
    pub shell: String,
}

fn valid_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{kind} name `{name}`: use letters, digits, '.', '_' or '-' (not first), at most 32"
        )))
    }
}

/// The argv that make the account `want` (empty: it already is).
pub fn plan_user(name: &str, have: Option<&Account>, want: &UserOpts) -> Result<Vec<Vec<String>>> {
    valid_name("user", name)?;
    let s = |v: &str| v.to_string();
    match (want.state, have) {
        (Presence::Absent, None) => Ok(vec![]),
        (Presence::Absent, Some(_)) => {
            let mut argv = vec![s("userdel")];
            if want.remove_home {
                argv.push(s("--remove"));
            }
            argv.extend([s("--"), s(name)]);
            Ok(vec![argv])
        }
        (Presence::Present, None) => {
            let mut argv = vec![s("useradd")];
            if want.system {
                argv.push(s("--system"));
            } else {
                argv.push(s("--create-home"));
            }
            push_fields(&mut argv, want, None);
            argv.extend([s("--"), s(name)]);
            Ok(vec![argv])
        }
        (Presence::Present, Some(a)) => {
            let mut argv = vec![s("usermod")];
            push_fields(&mut argv, want, Some(a));
            if argv.len() == 1 {
                return Ok(vec![]);
            }
            argv.extend([s("--"), s(name)]);
            Ok(vec![argv])
        }
    }
}

/// The useradd/usermod flags for the fields that differ from `have` (all when creating).
fn push_fields(argv: &mut Vec<String>, want: &UserOpts, have: Option<&Account>) {
    let differs = |f: &dyn Fn(&Account) -> bool| have.is_none_or(|a| !f(a));
    if let Some(uid) = want.uid
        && differs(&|a| a.uid == uid)
    {
        argv.extend(["--uid".into(), uid.to_string()]);
    }
    if let Some(g) = &want.group
        && differs(&|a| &a.group == g)
    {
        argv.extend(["--gid".into(), g.clone()]);
    }
    if let Some(gs) = &want.groups {
        let mut w: Vec<&String> = gs.iter().collect();
        w.sort();
        w.dedup();
        if differs(&|a| {
            let mut h: Vec<&String> = a.groups.iter().filter(|x| **x != a.group).collect();
            h.sort();
            h == w
        }) {
            argv.extend(["--groups".into(), gs.join(",")]);
        }
    }
    if let Some(sh) = &want.shell
        && differs(&|a| &a.shell == sh)
    {
        argv.extend(["--shell".into(), sh.clone()]);
    }
    if let Some(home) = &want.home
        && differs(&|a| &a.home == home)
    {
        argv.extend(["--home".into(), home.clone()]);
        if have.is_some() {
            argv.push("--move-home".into());
        }
    }
}

/// The argv that make the group `want` (empty: it already is). `have` is its gid.
pub fn plan_group(name: &str, have: Option<u32>, want: &GroupOpts) -> Result<Vec<Vec<String>>> {
    valid_name("group", name)?;
    let s = |v: &str| v.to_string();
    Ok(match (want.state, have) {
        (Presence::Absent, None) => vec![],
        (Presence::Absent, Some(_)) => vec![vec![s("groupdel"), s("--"), s(name)]],
        (Presence::Present, None) => {
            let mut argv = vec![s("groupadd")];
            if want.system {
                argv.push(s("--system"));
            }
            if let Some(g) = want.gid {
                argv.extend([s("--gid"), g.to_string()]);
            }
            argv.extend([s("--"), s(name)]);
            vec![argv]
        }
        (Presence::Present, Some(gid)) => match want.gid {
            Some(g) if g != gid => vec![vec![
                s("groupmod"),
                s("--gid"),
                g.to_string(),
                s("--"),
                s(name),
            ]],
            _ => vec![],
        },
    })
}

/// Parse `getent passwd NAME` then `id -gn`, then `id -Gn` (three lines; empty when absent).
fn parse_account(out: &str) -> Option<Account> {
    let mut l = out.lines();
    let pw: Vec<&str> = l.next()?.split(':').collect();
    if pw.len() < 7 {
        return None;
    }
    Some(Account {
        uid: pw[2].parse().ok()?,
        home: pw[5].to_string(),
        shell: pw[6].to_string(),
        group: l.next().unwrap_or("").trim().to_string(),
        groups: l
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    })
}

impl Host {
    pub async fn user_account(&self, name: &str) -> Result<Option<Account>> {
        valid_name("user", name)?;
        let q = crate::command::quote(name);
        let out = self
            .run(
                &Command::shell(format!(
                    "getent passwd -- {q} || exit 0; id -gn -- {q}; id -Gn -- {q}"
                ))
                .quiet()
                .probe(),
            )
            .await?;
        Ok(parse_account(&out.stdout))
    }

    /// Make the account as wanted; true if anything changed.
    pub async fn ensure_user(&self, name: &str, want: &UserOpts) -> Result<bool> {
        let have = self.user_account(name).await?;
        let cmds = plan_user(name, have.as_ref(), want).map_err(|e| e.host(self.name()))?;
        for argv in &cmds {
            self.run(&Command::argv(argv).sudo(want.sudo)).await?;
        }
        Ok(!cmds.is_empty())
    }

    pub async fn ensure_group(&self, name: &str, want: &GroupOpts) -> Result<bool> {
        valid_name("group", name)?;
        let out = self
            .run(
                &Command::argv(["getent", "group", "--", name])
                    .check(false)
                    .quiet()
                    .probe(),
            )
            .await?;
        let gid = out
            .stdout
            .split(':')
            .nth(2)
            .and_then(|g| g.trim().parse().ok());
        let cmds = plan_group(name, gid, want).map_err(|e| e.host(self.name()))?;
        for argv in &cmds {
            self.run(&Command::argv(argv).sudo(want.sudo)).await?;
        }
        Ok(!cmds.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct() -> Account {
        Account {
            uid: 1001,
            group: "kraken".into(),
            groups: vec!["kraken".into(), "docker".into()],
            home: "/home/kraken".into(),
            shell: "/bin/sh".into(),
        }
    }

    #[test]
    fn create_modify_remove() {
        let w = UserOpts {
            groups: Some(vec!["docker".into()]),
            shell: Some("/bin/bash".into()),
            ..UserOpts::default()
        };
        assert_eq!(
            plan_user("kraken", None, &w).unwrap(),
            [vec![
                "useradd",
                "--create-home",
                "--groups",
                "docker",
                "--shell",
                "/bin/bash",
                "--",
                "kraken"
            ]]
        );
        assert_eq!(
            plan_user("kraken", Some(&acct()), &w).unwrap(),
            [vec!["usermod", "--shell", "/bin/bash", "--", "kraken"]],
            "groups already match (primary group aside)"
        );
        let same = UserOpts {
            shell: Some("/bin/sh".into()),
            ..w
        };
        assert!(
            plan_user("kraken", Some(&acct()), &same)
                .unwrap()
                .is_empty()
        );
        let gone = UserOpts {
            state: Presence::Absent,
            ..UserOpts::default()
        };
        assert_eq!(
            plan_user("kraken", Some(&acct()), &gone).unwrap(),
            [vec!["userdel", "--", "kraken"]]
        );
        assert!(plan_user("kraken", None, &gone).unwrap().is_empty());
        assert!(plan_user("-rf", None, &UserOpts::default()).is_err());
        assert!(plan_user("a b", None, &UserOpts::default()).is_err());
    }

    #[test]
    fn groups() {
        let w = GroupOpts {
            gid: Some(2000),
            ..GroupOpts::default()
        };
        assert_eq!(
            plan_group("pool", None, &w).unwrap(),
            [vec!["groupadd", "--gid", "2000", "--", "pool"]]
        );
        assert!(plan_group("pool", Some(2000), &w).unwrap().is_empty());
        assert_eq!(plan_group("pool", Some(7), &w).unwrap()[0][0], "groupmod");
    }

    #[test]
    fn probe_output_parses() {
        let a = parse_account("kraken:x:1001:1001::/home/kraken:/bin/sh\nkraken\nkraken docker\n");
        assert_eq!(a, Some(acct()));
        assert_eq!(parse_account(""), None);
    }
}
