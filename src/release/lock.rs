//! The per-app lock: one directory per app on every target host, `~/.hoist/locks/APP`, made
//! with `mkdir` (atomic on every POSIX filesystem, so two runs racing for it cannot both win)
//! and holding a `holder` file of KEY=VALUE lines that says who took it. A run takes the lock
//! on every host before its first change and removes it at the end, also after a failure or
//! an interrupt. The lock lives in the login user's home so it needs no root and no project
//! directory: `hoist lock status --app A` finds it from the app name alone.

use crate::effect::Change;
use std::time::Duration;

use crate::command::{Command, quote, quote_path};
use crate::error::{Error, Result};
use crate::host::Host;

/// A lock older than this is reported as stale even when its holder cannot be checked (it
/// ran on another controller): no release takes six hours.
pub const TTL_SECS: u64 = 6 * 3600;

/// Who holds a lock: written by the run that took it, read by the runs it refuses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Holder {
    pub user: String,
    pub controller: String,
    pub pid: u32,
    pub run_id: String,
    pub recipe: String,
    /// Unix seconds.
    pub since: u64,
    /// When its process started (clock ticks since boot, /proc/PID/stat): pids wrap (at
    /// 32768 on many systems), so a pid alone cannot prove the holder is gone or alive. 0:
    /// not recorded (an older hoist).
    pub pid_start: u64,
}

impl Holder {
    /// This process, running `recipe`.
    pub fn me(recipe: &str) -> Holder {
        Holder {
            user: crate::local_user::current_user(),
            controller: controller_name(),
            pid: std::process::id(),
            run_id: run_id().to_string(),
            recipe: recipe.to_string(),
            since: now_secs(),
            pid_start: process_start(std::process::id()).unwrap_or(0),
        }
    }

    fn to_record(&self) -> String {
        let clean = |s: &str| s.replace(['\n', '\r'], " ");
        format!(
            "user={}\ncontroller={}\npid={}\nrun_id={}\nrecipe={}\nsince={}\npid_start={}\n",
            clean(&self.user),
            clean(&self.controller),
            self.pid,
            clean(&self.run_id),
            clean(&self.recipe),
            self.since,
            self.pid_start
        )
    }

    /// Parse a holder file; `None` when it is empty or torn (being written right now).
    pub fn parse(text: &str) -> Option<Holder> {
        let mut h = Holder {
            user: String::new(),
            controller: String::new(),
            pid: 0,
            run_id: String::new(),
            recipe: String::new(),
            since: 0,
            pid_start: 0,
        };
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k {
                "user" => h.user = v.into(),
                "controller" => h.controller = v.into(),
                "pid" => h.pid = v.parse().ok()?,
                "run_id" => h.run_id = v.into(),
                "recipe" => h.recipe = v.into(),
                "since" => h.since = v.parse().ok()?,
                "pid_start" => h.pid_start = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        (!h.run_id.is_empty()).then_some(h)
    }

    /// Why this holder is no longer running, if we can tell: its pid is gone from this very
    /// controller, or the lock outlived [`TTL_SECS`].
    pub fn stale_reason(&self) -> Option<String> {
        if self.controller == controller_name() && self.pid != 0 && !self.running_here() {
            return Some(format!(
                "process {} is gone from {}",
                self.pid, self.controller
            ));
        }
        let age = now_secs().saturating_sub(self.since);
        (age > TTL_SECS).then(|| format!("it is older than {}", human_age(age)))
    }

    /// Whether this holder ran on this controller and its process is gone (so it can hold
    /// nothing any more).
    pub fn died_here(&self) -> bool {
        self.controller == controller_name() && self.pid != 0 && !self.running_here()
    }

    /// Its process still runs on this controller: the pid exists and, when the holder
    /// recorded it, started when the holder's did (not a later process that reused the pid).
    fn running_here(&self) -> bool {
        pid_alive(self.pid)
            && (self.pid_start == 0 || process_start(self.pid) == Some(self.pid_start))
    }

    /// `alice on ctl (pid 42, run ctl-42-…, recipe deploy) since 2026-…Z (3m ago)`
    pub fn describe(&self) -> String {
        let since = time::OffsetDateTime::from_unix_timestamp(self.since as i64)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.since.to_string());
        format!(
            "{} on {} (pid {}, run {}, recipe {}) since {since} ({} ago)",
            self.user,
            self.controller,
            self.pid,
            self.run_id,
            self.recipe,
            human_age(now_secs().saturating_sub(self.since))
        )
    }
}

/// What one host says about a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Free,
    /// Held; `None` while the holder is still writing its record.
    Held(Option<Holder>),
}

/// The id of this run, as written into the locks it takes (one per process).
pub fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        // The pid padded to Linux's widest (7 digits), so every run's id has one length: a
        // dry run's plan states the size of the release record it predicts, and pids wrap
        // (at 32768 by default), so a real run's pid can have more or fewer digits.
        format!("{}-{:07}-{ms}", controller_name(), std::process::id())
    })
}

/// A lock name must be a plain file name: it becomes a directory under ~/.hoist/locks.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "lock name `{name}`: use letters, digits, '.', '_' and '-' (not starting with '.')"
        )))
    }
}

/// The lock directory as shell text (`$HOME` must expand, the name is quoted).
fn dir_sh(name: &str) -> String {
    format!("\"$HOME\"/.hoist/locks/{}", quote(name))
}

/// The outcome of one attempt to take a lock on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Taken,
    /// This run holds it already (a nested `with_lock`): the outer one releases it.
    AlreadyMine,
    Refused(State),
}

/// Try once to take `name` on `host`.
pub async fn try_acquire(host: &Host, name: &str, me: &Holder) -> Result<Attempt> {
    check_name(name)?;
    let d = dir_sh(name);
    // One round trip: mkdir wins or loses atomically; the loser prints the holder's record.
    // umask 077: the record names users and pids, only the login user reads it.
    let script = format!(
        "umask 077; mkdir -p \"$HOME\"/.hoist/locks || exit 3\n\
         if mkdir {d} 2>/dev/null; then cat > {d}/holder && echo HOIST-LOCK-TAKEN; \
         else echo HOIST-LOCK-HELD; cat {d}/holder 2>/dev/null || true; fi"
    );
    let out = host
        .run(
            &Command::shell(script)
                .stdin(me.to_record())
                .stream(Some(false))
                .describe(Change::Command {
                    command: format!("take the lock {name}"),
                }),
        )
        .await?;
    if out.planned {
        // A dry run takes no lock: the plan shows the take (and its guard), and holds nothing.
        arm_guard(host, name).await?;
        return Ok(Attempt::Taken);
    }
    let mut lines = out.stdout.splitn(2, '\n');
    match lines.next().unwrap_or("").trim() {
        "HOIST-LOCK-TAKEN" => {
            arm_guard(host, name).await?;
            Ok(Attempt::Taken)
        }
        "HOIST-LOCK-HELD" => {
            let holder = Holder::parse(lines.next().unwrap_or(""));
            if holder.as_ref().is_some_and(|h| h.run_id == me.run_id) {
                return Ok(Attempt::AlreadyMine);
            }
            // A holder that provably died on this very controller (its pid is gone) cannot be
            // running: its lock is taken over, and said so. One on another controller cannot
            // be checked from here and is refused as before.
            if let Some(dead) = holder.as_ref().filter(|h| h.died_here())
                && take_over(host, name, dead).await?
            {
                let say = |text: String| {
                    host.services()
                        .reporter
                        .event(crate::report::Event::Message {
                            level: crate::report::Level::Warn,
                            text,
                        })
                };
                say(format!(
                    "{}: took over the lock `{name}` of a run that is gone: {} ({})",
                    host.name(),
                    dead.describe(),
                    dead.stale_reason().unwrap_or_default()
                ));
                // What that run left armed is settled first: no guard of it may fire later,
                // over this run's work.
                for (guard, fired) in super::guard::settle_run(host, &dead.run_id).await? {
                    let tail: Vec<&str> = fired.output.lines().rev().take(4).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    say(format!(
                        "{}: settled the guard {guard} the gone run left armed (exit code {}): {}",
                        host.name(),
                        fired.code,
                        tail.join(" | ")
                    ));
                }
                return Box::pin(try_acquire(host, name, me)).await;
            }
            Ok(Attempt::Refused(State::Held(holder)))
        }
        other => Err(Error::failed(format!(
            "could not take the lock `{name}`: unexpected answer `{other}`"
        ))
        .host(host.name())),
    }
}

/// Remove `name` on `host` if this run holds it (never someone else's) — unless the host is
/// still undoing one of this run's steps (a guard fired, or armed and about to fire because
/// the run is leaving): then the lock's own guard removes it once that undo is over, so no
/// other run starts on a half-undone app.
pub async fn release_mine(host: &Host, name: &str) -> Result<()> {
    check_name(name)?;
    let d = dir_sh(name);
    let lg = quote_path(&guard_prefix(name));
    let script = format!(
        "{busy}if [ -n \"$busy\" ]; then echo HOIST-LOCK-LEFT-TO-GUARD; exit 0; fi\n\
         if mkdir {lg}.claim 2>/dev/null; then rm -rf -- {lg}.*; fi\n\
         if grep -qxF {rid} {d}/holder 2>/dev/null; then rm -rf {d}; fi",
        busy = busy_siblings(name),
        rid = quote(&format!("run_id={}", run_id()))
    );
    host.run(
        &Command::shell(script)
            .stream(Some(false))
            .describe(Change::Command {
                command: format!("release the lock {name}"),
            }),
    )
    .await
    .map(|_| ())
}

/// The lock's guard: when this run is lost (its session on the host ends), the host removes
/// the lock itself — after any undo of this run's steps is over.
fn guard_prefix(name: &str) -> String {
    format!("{}/{}", super::guard::DIR, guard_name(name))
}

fn guard_name(name: &str) -> String {
    format!("{}-lock-{name}", run_id())
}

/// Shell that sets `busy` when another guard of this run is undoing (fired, not done) or
/// armed with a live watcher (it fires when the run's session ends). A guard whose watcher is
/// gone without firing is not waited for (the next run settles it).
fn busy_siblings(name: &str) -> String {
    let gd = quote_path(super::guard::DIR);
    let me = guard_name(name);
    format!(
        "busy=\nfor s in {gd}/{run}-*.sh; do [ -e \"$s\" ] || continue; n=${{s%.sh}}\n\
         case \"$n\" in */{me}) continue;; esac\n\
         [ -e \"$n.done\" ] && continue\n\
         if [ -e \"$n.claim\" ] || kill -0 \"$(cat \"$n.pid\" 2>/dev/null)\" 2>/dev/null; then busy=1; fi\n\
         done\n",
        run = quote(run_id()),
        me = quote(&me),
    )
}

async fn arm_guard(host: &Host, name: &str) -> Result<()> {
    let d = dir_sh(name);
    let undo = format!(
        "while :; do\n{busy}[ -z \"$busy\" ] && break; sleep 0.5; done\n\
         if grep -qxF {rid} {d}/holder 2>/dev/null; then rm -rf {d}; echo 'hoist: the lock {name} of a lost run removed'; fi\n",
        busy = busy_siblings(name),
        rid = quote(&format!("run_id={}", run_id())),
    );
    super::guard::Guard::arm(
        host,
        super::guard::DIR,
        &guard_name(name),
        &format!("the lock {name}"),
        &undo,
        None,
        format!("arm the host's guard of the lock {name}: the host removes it if this run is lost"),
    )
    .await
    .map(|_| ())
}

/// Remove `name` on `host` whoever holds it (`hoist lock release`); the holder it removed.
pub async fn break_lock(host: &Host, name: &str) -> Result<State> {
    let st = status(host, name).await?;
    let d = dir_sh(name);
    host.run(
        &Command::shell(format!("rm -rf {d}"))
            .stream(Some(false))
            .describe(Change::Command {
                command: format!("break the lock {name}"),
            }),
    )
    .await?;
    Ok(st)
}

/// Who holds `name` on `host`.
pub async fn status(host: &Host, name: &str) -> Result<State> {
    check_name(name)?;
    let d = dir_sh(name);
    let out = host
        .run(
            &Command::shell(format!(
                "if [ -d {d} ]; then echo HOIST-LOCK-HELD; cat {d}/holder 2>/dev/null || true; else echo HOIST-LOCK-FREE; fi"
            ))
            .stream(Some(false))
            .probe(),
        )
        .await?;
    let mut lines = out.stdout.splitn(2, '\n');
    Ok(match lines.next().unwrap_or("").trim() {
        "HOIST-LOCK-HELD" => State::Held(Holder::parse(lines.next().unwrap_or(""))),
        _ => State::Free,
    })
}

/// Take `name` on every host (all or none), waiting up to `wait` for a holder to finish;
/// returns the hosts where this call took it (not those this run held already). The error
/// names the host and the holder, and says how to break a stale lock.
pub async fn acquire_all(
    hosts: &[Host],
    name: &str,
    me: &Holder,
    wait: Duration,
) -> Result<Vec<Host>> {
    let deadline = std::time::Instant::now() + wait;
    // A fixed order: two runs waiting for each other's hosts cannot deadlock.
    let mut ordered: Vec<&Host> = hosts.iter().collect();
    ordered.sort_by(|a, b| a.name().cmp(b.name()));
    ordered.dedup_by(|a, b| a.name() == b.name());
    loop {
        let mut taken: Vec<&Host> = Vec::new();
        let mut refused: Option<(&Host, State)> = None;
        let mut failed: Option<Error> = None;
        for h in &ordered {
            match try_acquire(h, name, me).await {
                Ok(Attempt::Taken) => taken.push(h),
                Ok(Attempt::AlreadyMine) => {}
                Ok(Attempt::Refused(st)) => {
                    refused = Some((h, st));
                    break;
                }
                Err(e) => {
                    // A take cut off by a signal or a dropped connection may have made the
                    // lock (and half-armed its guard) before hoist heard back: give it back
                    // with the others (release_mine removes only this run's lock).
                    taken.push(h);
                    failed = Some(e);
                    break;
                }
            }
        }
        if refused.is_none() && failed.is_none() {
            return Ok(taken.into_iter().cloned().collect());
        }
        // All or none: give back what this attempt took — shielded, since the failure may be
        // the run being interrupted, and an unreturned lock would refuse the next run.
        for h in taken {
            let _ = crate::services::shielded_async(release_mine(h, name)).await;
        }
        if let Some(e) = failed {
            return Err(Error::failed(format!(
                "could not take the lock `{name}` (nothing was changed)"
            ))
            .with_causes(vec![e]));
        }
        let (host, st) = refused.expect("refused");
        let holder = match &st {
            State::Held(h) => h.clone(),
            State::Free => None,
        };
        let stale = holder.as_ref().and_then(Holder::stale_reason);
        if stale.is_none() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        return Err(refusal(host.name(), name, holder.as_ref(), stale, wait));
    }
}

/// Remove `name` on `host` if `dead` still holds it (atomically: the lock directory is moved
/// aside first, so of two runs taking it over only one does). Whether it was removed here.
async fn take_over(host: &Host, name: &str, dead: &Holder) -> Result<bool> {
    let d = dir_sh(name);
    let script = format!(
        "if grep -qxF {rid} {d}/holder 2>/dev/null && mv {d} {d}.gone.$$ 2>/dev/null; then rm -rf {d}.gone.$$; echo HOIST-TAKEN-OVER; fi",
        rid = quote(&format!("run_id={}", dead.run_id)),
    );
    let out = host
        .run(
            &Command::shell(script)
                .stream(Some(false))
                .describe(Change::Command {
                    command: format!("take over the lock {name} of a run that is gone"),
                }),
        )
        .await?;
    // A dry run plans the take-over (and then the take).
    Ok(out.planned || out.stdout.contains("HOIST-TAKEN-OVER"))
}

fn refusal(
    host: &str,
    name: &str,
    holder: Option<&Holder>,
    stale: Option<String>,
    wait: Duration,
) -> Error {
    let who = match holder {
        Some(h) => h.describe(),
        None => "a run that is still writing its record".into(),
    };
    let waited = if wait.is_zero() {
        String::new()
    } else {
        format!(" (waited {}s)", wait.as_secs_f64())
    };
    let release = format!("hoist lock release --app {name}");
    match stale {
        Some(why) => Error::failed(format!(
            "`{name}` is locked on {host} by {who}, and that lock is stale: {why}"
        ))
        .host(host)
        .hint(format!(
            "nothing was changed; if that run is really over, break the lock with `{release}` (plus your --env)"
        )),
        None => Error::failed(format!("`{name}` is locked on {host} by {who}{waited}"))
            .host(host)
            .hint(format!(
                "nothing was changed; wait for that run, or pass --lock-wait SECONDS; `hoist lock status --app {name}` shows it, `{release}` breaks it"
            )),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s => format!("{}h", s / 3600),
    }
}

/// The name of this machine (the controller), as `hostname` prints it.
pub fn controller_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // truncates, and we stop at the first NUL either way.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat; the
/// fields after the parenthesised name are counted, the name may hold spaces).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; no signal is sent.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// `with_lock(hosts, name, #{wait}, body)`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockOpts {
    /// Seconds to wait for another run's lock (default: --lock-wait, else 0 = refuse at once).
    #[serde(default, deserialize_with = "crate::options::opt_float")]
    pub wait: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips() {
        let me = Holder::me("deploy");
        assert_eq!(Holder::parse(&me.to_record()), Some(me.clone()));
        assert_eq!(Holder::parse(""), None);
        assert!(me.stale_reason().is_none(), "this process is alive");
    }

    #[test]
    fn a_gone_pid_on_this_controller_is_stale() {
        let mut h = Holder::me("deploy");
        // pid_max is below 2^22 on Linux: this pid cannot exist.
        h.pid = 4_194_304 + 7;
        assert!(h.stale_reason().unwrap().contains("is gone"));
        let mut old = Holder::me("deploy");
        old.controller = "elsewhere".into();
        old.since -= TTL_SECS + 10;
        assert!(old.stale_reason().unwrap().contains("older than"));
    }

    #[test]
    fn a_reused_pid_does_not_keep_a_dead_holder_alive() {
        let mut h = Holder::me("deploy");
        assert!(h.pid_start > 0, "this process's start is read");
        assert!(h.running_here());
        // The same pid, but a process that started at another time: not the holder.
        h.pid_start += 1;
        assert!(!h.running_here());
        assert!(h.stale_reason().unwrap().contains("is gone"));
        // A record of an older hoist (no start) is judged by its pid alone.
        h.pid_start = 0;
        assert!(h.running_here());
    }

    #[test]
    fn names_are_plain_file_names() {
        assert!(check_name("app-1.web_x").is_ok());
        for bad in ["", ".x", "a/b", "a b", "$(x)"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
