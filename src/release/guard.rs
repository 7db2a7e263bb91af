//! The host's dead man's switch. Before a run changes what serves (a pre-flight beside the
//! live release, a cutover, a held lock), it arms a guard on the host: an undo script and a
//! small watcher started in a session of its own, detached from hoist's SSH session. The
//! watcher runs the undo by itself when
//!
//! - the session that armed it is gone (hoist was killed, the laptop slept, the connection
//!   dropped: the remote shell whose pid it watches ends with the connection),
//! - or its deadline passes (a network cut leaves that shell waiting forever),
//! - or hoist asks it to ([`Guard::fire`]: a failed check, Ctrl-C) — so the undo runs on the
//!   host even when a second signal then makes hoist leave at once.
//!
//! Success disarms it ([`Guard::disarm`]). Whoever comes first — the watcher firing or hoist
//! disarming — claims it with one `mkdir` (atomic), so an undo never runs after a disarm and
//! a disarm never hides a fired undo: hoist then learns the host undid the step on its own.
//! A guard whose watcher is gone without firing (the host rebooted) is found by the next run
//! on the project ([`reconcile`]), which runs its undo then.

use std::time::Duration;

use crate::command::{Command, quote, quote_path};
use crate::effect::Change;
use crate::error::{Error, Result};
use crate::host::Host;

/// How often the watcher looks (its latency once hoist is gone).
const TICK_MS: u64 = 250;

/// The watcher, run as `sh -c WATCHER hoist-guard G PID TICKS`: `G` the guard's path prefix,
/// `PID` the session to watch ("" = none), `TICKS` the deadline in ticks ("" = none). It holds
/// nothing of the undo in its argv: the undo is the file `G.sh`. Once it has fired with no
/// session left to read its report, it removes its files: what the undo did is in the
/// records it wrote, and a run that reconnects finds the guard gone (so it knows it fired).
const WATCHER: &str = r#"G=$1; pid=$2; ticks=$3; n=0; why=
echo $$ > "$G.pid"
while :; do
  [ -e "$G.sh" ] || exit 0
  if [ -e "$G.fire" ]; then why=asked; break; fi
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then why=lost; break; fi
  n=$((n + 1))
  if [ -n "$ticks" ] && [ "$n" -ge "$ticks" ]; then why=deadline; break; fi
  sleep 0.25 2>/dev/null || sleep 1
done
mkdir "$G.claim" 2>/dev/null || exit 0
printf '%s\n' "$why" > "$G.why"
HOIST_GUARD_WHY=$why sh "$G.sh" > "$G.out" 2>&1
printf '%s\n' "$?" > "$G.rc" && mv -f "$G.rc" "$G.done"
if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then rm -rf -- "$G".*; fi"#;

/// Shell that sets `w` to the process whose end means this run is gone from the host, and
/// `ws` to its start time (so a reused pid is never taken for it). Over SSH that is the sshd
/// process of hoist's connection: every shell hoist opens on the host (it keeps a pool, and
/// drops a shell whose command was stopped) is its child, and it ends when the connection
/// does — hoist killed, the laptop asleep, the network gone. Found by walking up from the
/// shell (HOIST_SESSION_PID) through /proc; where there is no sshd above it (the local host:
/// HOIST_SESSION_LOCAL) it is that pid itself.
const SESSION: &str = "w=${HOIST_SESSION_PID:-}\n\
     if [ -n \"$w\" ] && [ -z \"${HOIST_SESSION_LOCAL:-}\" ]; then p=$w\n\
       while [ -n \"$p\" ] && [ \"$p\" -gt 1 ] 2>/dev/null; do\n\
         c=$(cat /proc/$p/comm 2>/dev/null) || break\n\
         case \"$c\" in sshd*) w=$p; break;; esac\n\
         s=$(cat /proc/$p/stat 2>/dev/null) || break; s=${s##*) }; set -- $s; p=$2\n\
       done\n\
     fi\n\
     ws=; if [ -n \"$w\" ] && s=$(cat /proc/$w/stat 2>/dev/null); then s=${s##*) }; set -- $s; ws=${20}; fi\n";

/// Why a guard's undo ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// hoist asked (a failure, an interrupt).
    Asked,
    /// The session that armed it ended: the controller was lost.
    Lost,
    /// Its deadline passed before the step was confirmed.
    Deadline,
}

impl Why {
    fn parse(s: &str) -> Why {
        match s.trim() {
            "lost" => Why::Lost,
            "deadline" => Why::Deadline,
            _ => Why::Asked,
        }
    }

    /// Said of the host: "the host …".
    pub fn explain(self) -> &'static str {
        match self {
            Why::Asked => "as asked",
            Why::Lost => {
                "because the run that armed it was lost (killed, or its connection dropped)"
            }
            Why::Deadline => "because the run did not confirm the step before its deadline",
        }
    }
}

/// What a fired guard did.
#[derive(Debug, Clone)]
pub struct Fired {
    pub why: Why,
    /// The undo script's exit code (0: everything it did succeeded).
    pub code: i32,
    /// What the undo printed (its commands' output).
    pub output: String,
}

impl Fired {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// What disarming found.
#[derive(Debug, Clone)]
pub enum Disarmed {
    /// The step stands; the guard is gone.
    Disarmed,
    /// The host had undone the step already.
    Fired(Fired),
    /// A dry run: nothing was armed.
    Planned,
}

/// An armed guard on one host.
#[derive(Clone, Debug)]
pub struct Guard {
    pub host_name: String,
    /// `DIR/.hoist/guards/NAME` (files `.sh`, `.pid`, `.claim`, `.fire`, `.why`, `.out`, `.done`).
    pub prefix: String,
    /// What it protects, for messages ("the cutover to r5").
    pub what: String,
}

/// Where a login user's guards live on a host: beside the locks, so the guard of a run's
/// lock finds the guards of the run's steps (it waits for their undo before it frees the
/// lock).
pub const DIR: &str = "~/.hoist/guards";

fn name_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The path prefix of the guard `name` in `guards_dir` (its files are PREFIX.sh, .done …).
pub fn prefix_of(guards_dir: &str, name: &str) -> String {
    format!("{guards_dir}/{}", name_safe(name))
}

impl Guard {
    /// Arm a guard named `name` (unique per run and step) in `guards_dir` on `host`: `undo` is
    /// the shell script it runs; `deadline` None = only when the session ends or hoist asks.
    /// `summary` is what the plan and the audit log say of it (stable between a dry run and
    /// the run). In a dry run nothing is armed (the plan shows it).
    pub async fn arm(
        host: &Host,
        guards_dir: &str,
        name: &str,
        what: &str,
        undo: &str,
        deadline: Option<Duration>,
        summary: String,
    ) -> Result<Guard> {
        let prefix = prefix_of(guards_dir, name);
        let ticks = deadline
            .map(|d| (d.as_millis() as u64 / TICK_MS).max(1).to_string())
            .unwrap_or_default();
        let g = quote_path(&prefix);
        // umask 077: the undo may carry what compose needs (env values): the owner's alone.
        let script = format!(
            "umask 077; mkdir -p -- {d} || exit 1\n\
             rm -rf -- {g}.*\n\
             cat > {g}.sh || exit 1\n\
             {SESSION}\
             printf '%s %s\\n' \"$w\" \"$ws\" > {g}.session\n\
             setsid sh -c {watcher} hoist-guard {g} \"$w\" {ticks} </dev/null >/dev/null 2>&1 &\n\
             i=0; while [ ! -s {g}.pid ] && [ $i -lt 100 ]; do sleep 0.05 2>/dev/null || sleep 1; i=$((i + 1)); done\n\
             [ -s {g}.pid ] || {{ echo 'the guard did not start' >&2; exit 1; }}",
            d = quote_path(guards_dir),
            watcher = quote(WATCHER),
            ticks = quote(&ticks),
        );
        host.run(
            &Command::shell(script)
                .stdin(undo.as_bytes().to_vec())
                .quiet()
                .describe(Change::Command { command: summary }),
        )
        .await
        .map_err(|e| {
            let mut e = e;
            e.message = format!("cannot arm the host's guard for {what}: {}", e.message);
            e
        })?;
        Ok(Guard {
            host_name: host.name().to_string(),
            prefix,
            what: what.to_string(),
        })
    }

    /// The step stands: stop the guard — unless it fired first, then say what it did.
    pub async fn disarm(&self, host: &Host, summary: String) -> Result<Disarmed> {
        let g = quote_path(&self.prefix);
        let out = host
            .run(
                &Command::shell(format!(
                    "if mkdir {g}.claim 2>/dev/null; then\n\
                     if [ -e {g}.sh ]; then rm -rf -- {g}.*; echo HOIST-DISARMED;\n\
                     else rm -rf -- {g}.claim; echo HOIST-GONE; fi\n\
                     else echo HOIST-FIRED; fi"
                ))
                .quiet()
                .describe(Change::Command { command: summary }),
            )
            .await?;
        if out.planned {
            return Ok(Disarmed::Planned);
        }
        if out.stdout.contains("HOIST-DISARMED") {
            return Ok(Disarmed::Disarmed);
        }
        if out.stdout.contains("HOIST-GONE") {
            // It fired while this run's session was gone, and cleaned up after itself.
            return Ok(Disarmed::Fired(Fired {
                why: Why::Lost,
                code: 0,
                output:
                    "(its report went with the session that armed it; the records say what it did)"
                        .into(),
            }));
        }
        Ok(Disarmed::Fired(self.wait(host).await?))
    }

    /// Run the undo now, on the host (hoist waits for it; a second signal stops the wait, not
    /// the undo). `None` in a dry run.
    pub async fn fire(&self, host: &Host, summary: String) -> Result<Option<Fired>> {
        let g = quote_path(&self.prefix);
        let out = host
            .run(
                &Command::shell(format!(
                    "if [ -e {g}.sh ] || [ -e {g}.done ]; then touch {g}.fire; else echo HOIST-GONE; fi"
                ))
                .quiet()
                .describe(Change::Command { command: summary }),
            )
            .await?;
        if out.planned {
            return Ok(None);
        }
        if out.stdout.contains("HOIST-GONE") {
            return Ok(Some(Fired {
                why: Why::Lost,
                code: 0,
                output: "(it had fired already and its report went with the session that armed it)"
                    .into(),
            }));
        }
        self.wait(host).await.map(Some)
    }

    /// Wait for a fired guard's undo to end; its outcome. A watcher that is gone without
    /// finishing (the host rebooted) cannot finish it: hoist runs the undo itself then.
    async fn wait(&self, host: &Host) -> Result<Fired> {
        let g = quote_path(&self.prefix);
        let script = format!(
            "while [ ! -e {g}.done ]; do\n\
               if ! kill -0 \"$(cat {g}.pid 2>/dev/null)\" 2>/dev/null && [ ! -e {g}.done ]; then\n\
                 if [ ! -e {g}.sh ]; then echo HOIST-GONE; exit 0; fi\n\
                 mkdir {g}.claim 2>/dev/null; echo asked > {g}.why; HOIST_GUARD_WHY=asked sh {g}.sh > {g}.out 2>&1; echo $? > {g}.done; break\n\
               fi\n\
               sleep 0.2 2>/dev/null || sleep 1\n\
             done\n\
             printf 'HOIST-WHY %s\\n' \"$(cat {g}.why 2>/dev/null)\"; printf 'HOIST-RC %s\\n' \"$(cat {g}.done)\"; cat {g}.out 2>/dev/null\n\
             rm -rf -- {g}.*"
        );
        let out = host
            .run(
                &Command::shell(script)
                    .quiet()
                    .probe()
                    .describe(Change::Command {
                        command: format!("wait for the host's guard of {}", self.what),
                    }),
            )
            .await?;
        if out.stdout.trim() == "HOIST-GONE" {
            // It fired on its own, and cleaned up after itself: no report to read.
            return Ok(Fired {
                why: Why::Lost,
                code: 0,
                output:
                    "(it had fired on its own; its report is gone, the records say what it did)"
                        .into(),
            });
        }
        Ok(parse_fired(&out.stdout))
    }
}

fn parse_fired(stdout: &str) -> Fired {
    let mut why = Why::Asked;
    let mut code = -1;
    let mut output = Vec::new();
    for line in stdout.lines() {
        if let Some(w) = line.strip_prefix("HOIST-WHY ") {
            why = Why::parse(w);
        } else if let Some(c) = line.strip_prefix("HOIST-RC ") {
            code = c.trim().parse().unwrap_or(-1);
        } else {
            output.push(line);
        }
    }
    Fired {
        why,
        code,
        output: output.join("\n"),
    }
}

/// What a guard left that the next run must know: one that fired while no run was there
/// (its outcome), or one whose watcher died without firing (undone now).
#[derive(Debug, Clone)]
pub struct Leftover {
    pub name: String,
    pub fired: Fired,
    /// The watcher was gone and the undo had never run: this run ran it.
    pub ran_now: bool,
}

/// Settle the guards earlier runs left in `guards_dir`: report fired ones, run the undo of
/// armed ones whose watcher is gone, remove their files. Guards whose watcher is alive belong
/// to a run still going (or its undo running): left alone. Nothing in a dry run but the probe.
pub async fn reconcile(host: &Host, guards_dir: &str) -> Result<Vec<Leftover>> {
    let d = quote_path(guards_dir);
    let listing = host
        .run(
            &Command::shell(format!(
                "cd -- {d} 2>/dev/null || exit 0\n\
                 for s in *.sh *.done; do [ -e \"$s\" ] || continue; n=${{s%.*}}\n\
                   if [ -e \"$n.done\" ]; then echo \"done $n\";\n\
                   elif kill -0 \"$(cat \"$n.pid\" 2>/dev/null)\" 2>/dev/null; then :;\n\
                   else echo \"orphan $n\"; fi\n\
                 done | sort -u"
            ))
            .quiet()
            .probe(),
        )
        .await?;
    let mut out = Vec::new();
    if host.services().effects().planning() {
        // A dry run settles nothing: what it would find is for the real run to handle.
        return Ok(out);
    }
    for line in listing.stdout.lines() {
        let Some((kind, name)) = line.split_once(' ') else {
            continue;
        };
        let g = Guard {
            host_name: host.name().to_string(),
            prefix: format!("{guards_dir}/{name}"),
            what: name.to_string(),
        };
        let ran_now = kind == "orphan";
        let fired = if ran_now {
            // Claimed first: a watcher that is only slow to start cannot run it twice.
            let q = quote_path(&g.prefix);
            let claimed = host
                .run(
                    &Command::shell(format!(
                        "if mkdir {q}.claim 2>/dev/null; then echo asked > {q}.why; HOIST_GUARD_WHY=lost sh {q}.sh > {q}.out 2>&1; echo $? > {q}.done; echo HOIST-RAN; fi"
                    ))
                    .quiet()
                    .describe(Change::Command {
                        command: format!(
                            "run the undo an earlier run's guard {name} left armed in {guards_dir} (its watcher is gone)"
                        ),
                    }),
                )
                .await?;
            if claimed.planned || !claimed.stdout.contains("HOIST-RAN") {
                continue;
            }
            let mut f = g.wait(host).await?;
            f.why = Why::Lost;
            f
        } else {
            g.wait(host).await?
        };
        out.push(Leftover {
            name: name.to_string(),
            fired,
            ran_now,
        });
    }
    Ok(out)
}

/// Settle every guard a run that is gone (`run_id`) left armed on `host` — before another run
/// takes its place (its lock is taken over): each step's undo runs now, as it would have when
/// the run was lost (a cutover that finished stands), so the new run starts from a settled
/// app, and no guard of the old run can fire later over the new run's work. The old run's lock
/// guard is retired without running (its lock is gone). What each undo said.
pub async fn settle_run(host: &Host, run_id: &str) -> Result<Vec<(String, Fired)>> {
    let d = quote_path(DIR);
    let run = quote(&name_safe(run_id));
    let script = format!(
        "cd -- {d} 2>/dev/null || exit 0\n\
         for f in {run}-*.session; do [ -e \"$f\" ] || continue; read -r p ps < \"$f\"; [ -n \"$p\" ] || continue\n\
           s=$(cat /proc/$p/stat 2>/dev/null) || continue; s=${{s##*) }}; set -- $s; [ \"${{20}}\" = \"$ps\" ] || continue\n\
           kill -TERM \"$p\" 2>/dev/null; i=0; while kill -0 \"$p\" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done\n\
         done\n\
         for s in {run}-*.sh; do [ -e \"$s\" ] || continue; n=${{s%.sh}}\n\
           case \"$n\" in *-lock-*) mkdir \"$n.claim\" 2>/dev/null; rm -rf -- \"$n\".*; continue;; esac\n\
           if mkdir \"$n.claim\" 2>/dev/null; then echo lost > \"$n.why\"; HOIST_GUARD_WHY=lost sh \"$n.sh\" > \"$n.out\" 2>&1; echo $? > \"$n.done\"; fi\n\
           while [ ! -e \"$n.done\" ]; do sleep 0.2 2>/dev/null || sleep 1; done\n\
           printf 'HOIST-GUARD %s\\n' \"$n\"; printf 'HOIST-WHY %s\\n' \"$(cat \"$n.why\")\"; printf 'HOIST-RC %s\\n' \"$(cat \"$n.done\")\"; cat \"$n.out\" 2>/dev/null\n\
           rm -rf -- \"$n\".*\n\
         done"
    );
    let out = host
        .run(&Command::shell(script).quiet().describe(Change::Command {
            command: format!("settle the guards the lost run {run_id} left armed"),
        }))
        .await?;
    let mut settled = Vec::new();
    for part in out.stdout.split("HOIST-GUARD ").skip(1) {
        let (name, rest) = part.split_once('\n').unwrap_or((part, ""));
        settled.push((name.trim().to_string(), parse_fired(rest)));
    }
    Ok(settled)
}

/// An error for a step the host undid on its own while hoist was away from it.
pub fn fired_error(host: &Host, what: &str, fired: &Fired, back_to: &str) -> Error {
    let tail: String = fired
        .output
        .lines()
        .rev()
        .take(15)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    Error::failed(format!(
        "{}: the host undid {what} on its own {} and put {back_to} back{}",
        host.name(),
        fired.why.explain(),
        if fired.ok() {
            String::new()
        } else {
            format!(" — but its undo failed (exit code {}):\n{tail}", fired.code)
        }
    ))
    .host(host.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fired_guards_report_is_read_back() {
        let f = parse_fired("HOIST-WHY lost\nHOIST-RC 0\nputting r1 back\nStarting web\n");
        assert_eq!(f.why, Why::Lost);
        assert!(f.ok());
        assert_eq!(f.output, "putting r1 back\nStarting web");
        let f = parse_fired("HOIST-WHY deadline\nHOIST-RC 3\n");
        assert_eq!((f.why, f.code), (Why::Deadline, 3));
    }

    #[test]
    fn guard_names_are_file_names() {
        assert_eq!(
            name_safe("cutover-r5-ctl.lan-0000042-17"),
            "cutover-r5-ctl.lan-0000042-17"
        );
        assert_eq!(name_safe("a/b c$"), "a_b_c_");
    }
}
