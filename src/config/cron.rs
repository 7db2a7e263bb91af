//! `h.cron(name, #{schedule, command, user, state})`: one named entry in a user's crontab
//! (runbook 002's hourly job). The entry is the line after a `# hoist: NAME` marker, so it is
//! replaced or removed by name and never duplicated; every other line of the crontab is kept.

use super::Presence;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronOpts {
    /// Five fields ("0 * * * *") or a keyword ("@hourly").
    #[serde(default)]
    pub schedule: Option<String>,
    /// Run by the user's shell as written (`%` is escaped for cron).
    #[serde(default)]
    pub command: Option<String>,
    /// Whose crontab (default: the login user's).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub state: Presence,
    #[serde(default)]
    pub sudo: bool,
}

const KEYWORDS: &[&str] = &[
    "@reboot",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

fn marker(name: &str) -> String {
    format!("# hoist: {name}")
}

/// The entry line for `o`, validated.
fn entry(name: &str, o: &CronOpts) -> Result<String> {
    let what = format!("cron(\"{name}\")");
    let schedule = o
        .schedule
        .as_deref()
        .ok_or_else(|| Error::usage(format!("{what}: `schedule` is required")))?
        .trim();
    let fields = schedule.split_whitespace().count();
    if !(KEYWORDS.contains(&schedule) || fields == 5) {
        return Err(Error::usage(format!(
            "{what}: schedule `{schedule}` is neither five fields (\"0 * * * *\") nor one of {}",
            KEYWORDS.join(" ")
        )));
    }
    let command = o
        .command
        .as_deref()
        .ok_or_else(|| Error::usage(format!("{what}: `command` is required")))?;
    if command.contains('\n') || command.trim().is_empty() {
        return Err(Error::usage(format!(
            "{what}: `command` is one non-empty line"
        )));
    }
    // cron turns an unescaped `%` into a newline (and stdin): the command runs as written.
    Ok(format!("{schedule} {}", command.replace('%', "\\%")))
}

/// The crontab with the named entry set (or removed).
pub fn edit(crontab: &str, name: &str, o: &CronOpts) -> Result<String> {
    if name.is_empty() || name.contains('\n') {
        return Err(Error::usage("cron(): the name is one non-empty line"));
    }
    let mark = marker(name);
    let mut lines: Vec<String> = crontab.lines().map(str::to_string).collect();
    // Drop every marked entry of this name (a hand-edited duplicate goes too).
    let mut i = 0;
    let mut at = None;
    while i < lines.len() {
        if lines[i] == mark {
            at.get_or_insert(i);
            let n = if i + 1 < lines.len() { 2 } else { 1 };
            lines.drain(i..i + n);
        } else {
            i += 1;
        }
    }
    if o.state == Presence::Present {
        let e = entry(name, o)?;
        let at = at.unwrap_or(lines.len());
        lines.splice(at..at, [mark, e]);
    }
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

impl Host {
    /// Set the named cron entry; true if the crontab changed. The crontab is changed as a
    /// file (`crontab -` installs it whole): a plan shows its diff, and a later cron edit of
    /// the same dry run starts from the crontab the earlier one planned.
    pub async fn cron(&self, name: &str, o: &CronOpts) -> Result<bool> {
        let mut argv = vec!["crontab".to_string()];
        if let Some(u) = &o.user {
            argv.extend(["-u".into(), u.clone()]);
        }
        let whose = match &o.user {
            Some(u) => u.clone(),
            None if o.sudo => "root".into(),
            None => self.user(),
        };
        // The name the plan, the audit log and the dry run's file view give this crontab.
        let file = format!("crontab of {whose}");
        let effects = self.services().effects();
        let (old, existed) = match effects.planned_file(self.name(), &file) {
            Some(planned) => {
                let existed = planned.is_some();
                (
                    String::from_utf8_lossy(&planned.unwrap_or_default()).into_owned(),
                    existed,
                )
            }
            None => {
                let mut list = argv.clone();
                list.push("-l".into());
                let out = self
                    .run(
                        &Command::argv(&list)
                            .sudo(o.sudo)
                            .check(false)
                            .quiet()
                            .probe(),
                    )
                    .await?;
                // `crontab -l` exits 1 with "no crontab for USER" when there is none yet.
                if out.code != 0 && !out.stderr.contains("no crontab") {
                    return Err(Error::failed(format!(
                        "cannot read the crontab: {}",
                        out.stderr.trim()
                    ))
                    .host(self.name()));
                }
                if out.code == 0 {
                    (out.stdout, true)
                } else {
                    (String::new(), false)
                }
            }
        };
        let new = edit(&old, name, o).map_err(|e| e.host(self.name()))?;
        if new == old {
            return Ok(false);
        }
        let change = crate::effect::Change::File {
            path: file.clone(),
            before: Some(old.into_bytes()),
            existed,
            after: new.clone().into_bytes(),
            mode: None,
            owner: None,
        };
        argv.push("-".into());
        let out = self
            .run(
                &Command::argv(&argv)
                    .stdin(new.clone().into_bytes())
                    .sudo(o.sudo)
                    .describe(change),
            )
            .await?;
        if out.planned {
            effects.plan_file(self.name(), &file, Some(new.into_bytes()));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(schedule: &str, command: &str) -> CronOpts {
        CronOpts {
            schedule: Some(schedule.into()),
            command: Some(command.into()),
            ..CronOpts::default()
        }
    }

    #[test]
    fn named_entries_are_added_replaced_in_place_and_removed() {
        let mine = "MAILTO=ops\n5 4 * * * backup\n";
        let t = edit(mine, "clean", &job("@hourly", "find /tmp -delete")).unwrap();
        assert_eq!(
            t,
            format!("{mine}# hoist: clean\n@hourly find /tmp -delete\n")
        );
        assert_eq!(
            edit(&t, "clean", &job("@hourly", "find /tmp -delete")).unwrap(),
            t
        );
        let t2 = edit(
            &format!("{t}0 0 * * * other\n"),
            "clean",
            &job("0 * * * *", "x"),
        )
        .unwrap();
        assert_eq!(
            t2,
            format!("{mine}# hoist: clean\n0 * * * * x\n0 0 * * * other\n"),
            "replaced where it was"
        );
        let gone = CronOpts {
            state: Presence::Absent,
            ..CronOpts::default()
        };
        assert_eq!(
            edit(&t2, "clean", &gone).unwrap(),
            format!("{mine}0 0 * * * other\n")
        );
    }

    #[test]
    fn percent_signs_reach_the_shell_as_written() {
        let t = edit("", "stamp", &job("@daily", "date +%s >> /tmp/x")).unwrap();
        assert_eq!(t, "# hoist: stamp\n@daily date +\\%s >> /tmp/x\n");
        assert_eq!(
            edit(&t, "stamp", &job("@daily", "date +%s >> /tmp/x")).unwrap(),
            t
        );
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!(
            edit("", "x", &job("every hour", "y"))
                .unwrap_err()
                .message
                .contains("five fields")
        );
        assert!(edit("", "x", &job("@hourly", "a\nb")).is_err());
        assert!(edit("", "x", &CronOpts::default()).is_err());
    }
}
