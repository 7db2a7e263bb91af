//! The transport under the conditions that broke it (issue 9): background children that keep
//! the output pipes, scripts bigger than an environment variable, hoist killed or signalled
//! mid-command, a connection lost between two commands. On the fleet's real sshd; every check
//! about a host reads that host.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::fleet::{Fleet, FleetHost, fleet};
use support::run_script;

fn ok(f: &Fleet, text: &str) -> serde_json::Value {
    let (rt, _) = f.runtime();
    let v = run_script(&rt, text).unwrap_or_else(|e| panic!("script failed: {}", e.render()));
    rt.shutdown();
    v
}

/// Wait until `check` holds (polling); false if it never did within `limit`.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a process whose command line is `cmd` runs on the host. (The pattern is made not
/// to match the `sh -c "pgrep ..."` that looks for it.)
fn remote_running(h: &FleetHost, cmd: &str) -> bool {
    let pattern = format!("^[{}]{}$", &cmd[..1], &cmd[1..]);
    h.sh(&format!("pgrep -f {}", hoist::command::quote(&pattern)))
        .code
        == 0
}

/// The process group of a local process (`/proc/PID/stat`, the field after the state).
fn process_group(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    after_name.split_whitespace().nth(2).unwrap().to_string()
}

/// Local processes whose command line matches `pattern` (pgrep -f).
fn local_pids(pattern: &str) -> Vec<u32> {
    let o = Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn output_of_a_background_child_never_reaches_a_later_command() {
    let f = fleet();
    let h = f.host(2);
    let v = ok(
        f,
        &format!(
            r#"
            let h = ssh("{spec}");
            let a = h.run("echo first; (sleep 1; echo LATE-OUT; echo LATE-ERR >&2) &");
            let b = h.run("sleep 2; echo second");
            h.write("/tmp/hoist-bleed-probe", "same\n");
            h.run("(sleep 0.5; echo LATE-AGAIN) &");
            sleep(1.0);
            let again = h.write("/tmp/hoist-bleed-probe", "same\n");
            #{{a: a.stdout, b: b.stdout, b_err: b.stderr, read: h.read("/tmp/hoist-bleed-probe"), changed: again}}
            "#,
            spec = h.spec()
        ),
    );
    assert_eq!(v["a"], "first\n");
    assert_eq!(v["b"], "second\n", "{v}");
    assert_eq!(v["b_err"], "", "{v}");
    assert_eq!(v["read"], "same\n", "{v}");
    assert_eq!(v["changed"], false, "identical content is no change: {v}");
    h.sh_ok("rm -f /tmp/hoist-bleed-probe");
}

#[test]
fn a_background_child_does_not_hold_the_command_back() {
    let f = fleet();
    let h = f.host(2);
    // Each call returns while its background `sleep` still runs: had hoist waited for the
    // child's pipes to close, the sleep would be over when it returned.
    let v = ok(
        f,
        &format!(
            r#"
            let h = ssh("{spec}");
            let a = h.run("sleep 31.7 & echo quick");
            let a_alive = h.run("pgrep -f 'sleep 31.7'", #{{check: false}}).code == 0;
            let data = ""; data.pad(100000, 'x');
            let b = h.run("wc -c; sleep 32.3 &", #{{stdin: data}});
            let b_alive = h.run("pgrep -f 'sleep 32.3'", #{{check: false}}).code == 0;
            let l = local().run("sleep 33.1 & echo quick");
            let l_alive = local().run("pgrep -f 'sleep 33.1'", #{{check: false}}).code == 0;
            #{{a: a.stdout, a_alive: a_alive, b: b.stdout, b_alive: b_alive, l: l.stdout, l_alive: l_alive}}
            "#,
            spec = h.spec()
        ),
    );
    let _ = Command::new("pkill").args(["-f", "sleep 33.1"]).status();
    h.sh("pkill -f 'sleep 3[12].[37]'");
    assert_eq!(v["a"], "quick\n", "{v}");
    assert_eq!(v["b"], "100000\n", "big stdin reaches the command: {v}");
    assert_eq!(v["l"], "quick\n", "{v}");
    for k in ["a_alive", "b_alive", "l_alive"] {
        assert_eq!(v[k], true, "{k}: returned while the child still ran: {v}");
    }
}

#[test]
fn scripts_bigger_than_an_environment_variable_run_on_both_transports() {
    let f = fleet();
    let v = ok(
        f,
        &format!(
            r#"
            let y = ""; y.pad(140000, 'y');
            let s = "printf %s " + y + " | wc -c";
            #{{remote: ssh("{spec}").run(s).stdout, local: local().run(s).stdout}}
            "#,
            spec = f.host(1).spec()
        ),
    );
    assert_eq!(v["remote"], "140000\n");
    assert_eq!(v["local"], "140000\n");
}

#[test]
fn a_timed_out_command_keeps_what_it_printed_and_the_host_stays_usable() {
    let f = fleet();
    let v = ok(
        f,
        &format!(
            r#"
            let h = ssh("{spec}");
            let msg = "";
            try {{ h.run("echo said-before; echo err-before >&2; sleep 30", #{{timeout: 1, stream: true}}); }}
            catch (e) {{ msg = `${{e.message}} | ${{e.stderr}} | ${{e.host}}`; }}
            #{{msg: msg, after: h.run("echo after").stdout}}
            "#,
            spec = f.host(1).spec()
        ),
    );
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains("timed out after 1s"), "{msg}");
    assert!(msg.contains("err-before"), "stderr so far is kept: {msg}");
    assert!(msg.contains("host1"), "{msg}");
    assert_eq!(v["after"], "after\n");
}

#[test]
fn commands_started_without_sh_keep_codes_streams_sessions_and_kills() {
    let f = fleet();
    let h = f.host(3);
    let v = ok(
        f,
        &format!(
            r#"
            let h = ssh("{spec}");
            let stat = h.capture("cat /proc/self/stat").split(" ");
            let ls = h.run("ls -d / /nonexistent-hoist", #{{check: false}});
            let missing = h.run("nosuchprog-hoist --x", #{{check: false}});
            let test = h.run("test -d /nonexistent-hoist", #{{check: false}});
            let printed = h.capture("printf '%s|' a 'b c' $HOME");
            let unset = h.run("echo ${{hoist_unset_x?is not set}}", #{{check: false}});
            let broken = h.run("echo ${{hoist_x", #{{check: false}});
            let killed = "";
            try {{ h.run("sleep 34.9", #{{timeout: 1}}); }} catch (e) {{ killed = e.message; }}
            #{{pid: stat[0], pgrp: stat[4], session: stat[5], ls_out: ls.stdout, ls_err: ls.stderr,
               ls_code: ls.code, missing: missing.code, test: test.code, printed: printed,
               unset: unset.code, unset_err: unset.stderr, broken: broken.code,
               broken_err: broken.stderr,
               killed: killed, after: h.capture("echo after")}}
            "#,
            spec = h.spec()
        ),
    );
    // A lone program is started by setsid itself: it leads its own session and group.
    assert_eq!(v["pid"], v["session"], "{v}");
    assert_eq!(v["pid"], v["pgrp"], "{v}");
    assert_eq!(v["ls_out"], "/\n", "{v}");
    assert!(
        v["ls_err"].as_str().unwrap().contains("nonexistent-hoist"),
        "{v}"
    );
    assert_eq!(v["ls_code"], 2, "{v}");
    assert_eq!(v["missing"], 127, "{v}");
    // A lone builtin runs in its waiter, a subshell of the shell, as `sh -c` would run it...
    assert_eq!(v["test"], 1, "{v}");
    assert_eq!(v["printed"], "a|b c|/root|", "{v}");
    // ...and an expansion or syntax error that ends that subshell still reports its status.
    assert_eq!(v["unset"], 2, "{v}");
    assert!(
        v["unset_err"].as_str().unwrap().contains("is not set"),
        "{v}"
    );
    assert_eq!(v["broken"], 2, "{v}");
    assert!(
        v["broken_err"].as_str().unwrap().contains("Syntax error"),
        "{v}"
    );
    assert!(
        v["killed"].as_str().unwrap().contains("timed out after 1s"),
        "{v}"
    );
    assert!(
        !remote_running(h, "sleep 34.9"),
        "the timed-out program was killed"
    );
    assert_eq!(v["after"], "after", "{v}");
}

/// A hoist process running `script` against the fleet, with its own temp dir (so its ssh
/// master can be found by its control path) and a secret in its environment.
fn spawn_hoist(f: &Fleet, project: &Path, tmp: &Path, secret: &str, script: &str) -> Child {
    std::fs::write(project.join("job.rhai"), script).unwrap();
    f.hoist_cmd(project)
        .args(["run", "job.rhai"])
        .env("TMPDIR", tmp)
        .env("REGISTRY_PASSWORD", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn a_killed_hoist_leaves_no_ssh_master_and_masters_hold_no_secrets() {
    let f = fleet();
    let h = f.host(4);
    let project = f.project("");
    let tmp = tempfile::tempdir().unwrap();
    let secret = format!("s3cret-{}", std::process::id());
    let mut child = spawn_hoist(
        f,
        project.path(),
        tmp.path(),
        &secret,
        &format!(r#"ssh("{}").run("sleep 61.3");"#, h.spec()),
    );
    assert!(
        eventually(Duration::from_secs(30), || remote_running(h, "sleep 61.3")),
        "the command never started"
    );
    let control = format!("{}/[.]ssh-connection", tmp.path().display());
    let masters = local_pids(&control);
    assert_eq!(masters.len(), 1, "one master for the host: {masters:?}");
    let environ = std::fs::read(format!("/proc/{}/environ", masters[0])).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(
        !environ.contains(&secret),
        "the master's environment holds the secret"
    );
    assert!(environ.contains("PATH="), "the master keeps what ssh needs");
    // A Ctrl-C at the terminal (SIGINT to hoist's process group) must not reach the master:
    // hoist still needs the connection to stop the command and undo what it must.
    assert_ne!(
        process_group(masters[0]),
        process_group(child.id()),
        "the master is in hoist's process group"
    );

    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || local_pids(&control).is_empty()),
        "the ssh master outlived hoist: {:?}",
        local_pids(&control)
    );
    // The remote shell saw its channel close and killed the command it was running.
    assert!(
        eventually(Duration::from_secs(5), || !remote_running(h, "sleep 61.3")),
        "the remote command outlived hoist"
    );
}

#[test]
fn sigterm_and_sighup_stop_the_run_like_ctrl_c() {
    let f = fleet();
    let h = f.host(4);
    for (sig, code, marker) in [("TERM", 143, "sleep 62.5"), ("HUP", 129, "sleep 63.5")] {
        let project = f.project("");
        let tmp = tempfile::tempdir().unwrap();
        let child = spawn_hoist(
            f,
            project.path(),
            tmp.path(),
            "unused",
            &format!(
                r#"ssh("{}").run("{marker}"); local().run("touch {}/went-on");"#,
                h.spec(),
                tmp.path().display()
            ),
        );
        assert!(
            eventually(Duration::from_secs(30), || remote_running(h, marker)),
            "the command never started"
        );
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "SIG{sig}: {stderr}");
        assert!(stderr.contains("interrupted"), "SIG{sig}: {stderr}");
        assert!(
            !tmp.path().join("went-on").exists(),
            "SIG{sig}: the script stopped"
        );
        assert!(
            !remote_running(h, marker),
            "SIG{sig}: the remote command was killed"
        );
        let control = format!("{}/[.]ssh-connection", tmp.path().display());
        assert!(
            eventually(Duration::from_secs(10), || local_pids(&control).is_empty()),
            "SIG{sig}: no ssh master left"
        );
    }
}

#[test]
fn a_connection_lost_between_commands_is_opened_again() {
    let f = fleet();
    let h = f.host(2);
    let project = f.project("");
    let tmp = tempfile::tempdir().unwrap();
    // The script kills its own ssh master between two commands (as a dropped connection or a
    // restarted sshd would end it); the next command must still run, once.
    let script = format!(
        r#"
        let h = ssh("{spec}");
        h.run("echo one >> /tmp/hoist-reconnect-{pid}");
        local().run("pkill -f '{tmp}/[.]ssh-connection'");
        sleep(0.5);
        h.run("echo two >> /tmp/hoist-reconnect-{pid}");
        "#,
        spec = h.spec(),
        pid = std::process::id(),
        tmp = tmp.path().display()
    );
    let child = spawn_hoist(f, project.path(), tmp.path(), "unused", &script);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let path = format!("/tmp/hoist-reconnect-{}", std::process::id());
    assert_eq!(h.read(&path), "one\ntwo\n", "each command ran exactly once");
    h.sh_ok(&format!("rm -f {path}"));
}
