//! Rolling batches on the test fleet (host1..host4: compose v2, v1, v2, v1), through the
//! `hoist` binary: `on(hosts, #{batch, pause, max_fail}, ..)` in a script and `--batch` /
//! `--max-fail` on deploy and upgrade. A batch that fails (a cut host, a port already taken)
//! stops the roll-out: the later batch's hosts are untouched, which is checked on those hosts.

mod support;

use std::process::Output;
use std::time::Instant;

use support::fleet::{Fleet, FleetHost, OnDrop, fleet};

fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

/// The JSON events of a `--json` run, one per line.
fn events(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn event<'a>(evs: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    evs.iter().filter(|e| e["event"] == name).collect()
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A project directory (the fleet's hoist.toml) holding `script` as roll.rhai.
fn script_project(f: &Fleet, script: &str) -> tempfile::TempDir {
    let d = f.project("");
    std::fs::write(d.path().join("roll.rhai"), script).unwrap();
    d
}

#[test]
fn a_cut_host_in_the_first_batch_leaves_the_second_batch_untouched() {
    let f = fleet();
    let _x = f.exclusive();
    let marker = format!("/tmp/ro-batch-{}", std::process::id());
    let clean = || {
        for h in &f.hosts {
            h.sh(&format!("rm -f {marker}"));
        }
    };
    clean();
    let _cleanup = OnDrop(clean);
    let p = script_project(
        f,
        &format!(
            "on(hosts(\"all\"), #{{batch: 2, pause: 1}}, |h| {{\n    h.write(\"{marker}\", \"done on \" + h.name + \"\\n\");\n    h.name\n}})\n"
        ),
    );

    let mut cut = f.fault("cut", f.host(2));
    let o = f
        .hoist_cmd(p.path())
        .args(["run", "roll.rhai", "--env", "fleet", "--json"])
        .output()
        .unwrap();
    cut.undo();
    let err = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let evs = events(&o);
    // One batch ran; the summary names the hosts done, failed and untouched.
    let batches = event(&evs, "batch_started");
    assert_eq!(batches.len(), 1, "{err}");
    assert_eq!(names(&batches[0]["hosts"]), ["host1", "host2"]);
    let fin = event(&evs, "rollout_finished");
    assert_eq!(fin.len(), 1, "{err}");
    assert_eq!(names(&fin[0]["done"]), ["host1"], "{err}");
    assert_eq!(names(&fin[0]["failed"]), ["host2"], "{err}");
    assert_eq!(names(&fin[0]["untouched"]), ["host3", "host4"], "{err}");
    assert_eq!(fin[0]["batches"], 2);
    assert_eq!(fin[0]["batches_run"], 1);
    let untouched = event(&evs, "host_untouched");
    assert_eq!(untouched.len(), 2, "{err}");
    for u in untouched {
        assert!(
            u["reason"]
                .as_str()
                .unwrap()
                .contains("stopped after batch 1 of 2: 1 host failed, more than max_fail 0"),
            "{u}"
        );
    }
    let error = &event(&evs, "error")[0]["error"];
    let msg = error["message"].as_str().unwrap();
    assert!(
        msg.contains("failed: host2") && msg.contains("untouched: host3, host4"),
        "{msg}"
    );
    assert_eq!(error["causes"][0]["host"], "host2", "{error}");

    // Checked on the hosts themselves: only host1 ran the body.
    assert_eq!(f.host(1).read(&marker), "done on host1\n");
    for n in 2..=4 {
        assert_eq!(f.host(n).read(&marker), "", "host{n} was not touched");
    }

    // The same roll-out for a person: the summary table marks them untouched, with the reason.
    let o = f
        .hoist_cmd(p.path())
        .args(["run", "roll.rhai", "--env", "fleet"])
        .output()
        .unwrap();
    ok(&o);
    let human = String::from_utf8_lossy(&o.stderr);
    assert!(
        human.contains("▶ batch 1 of 2: host1, host2")
            && human.contains("▶ batch 2 of 2: host3, host4")
            && human.contains("4 ok, 0 failed"),
        "{human}"
    );
    for n in 1..=4 {
        assert_eq!(f.host(n).read(&marker), format!("done on host{n}\n"));
    }
}

#[test]
fn max_fail_lets_the_roll_out_go_on_and_the_run_still_fails() {
    let f = fleet();
    let _x = f.hosts_up();
    let marker = format!("/tmp/ro-maxfail-{}", std::process::id());
    let clean = || {
        for h in &f.hosts {
            h.sh(&format!("rm -f {marker}"));
        }
    };
    let _cleanup = OnDrop(clean);
    // host1 fails in batch 1 of 4 ("25%" of 4 hosts = 1 per batch); max_fail 1 tolerates it.
    let p = script_project(
        f,
        &format!(
            "on(hosts(\"all\"), #{{batch: \"25%\", max_fail: 1}}, |h| {{\n    if h.name == \"host1\" {{ fail(\"host1 refuses\"); }}\n    h.write(\"{marker}\", \"done\\n\");\n}})\n"
        ),
    );
    let o = f
        .hoist_cmd(p.path())
        .args(["run", "roll.rhai", "--env", "fleet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("1 of 4 hosts failed: host1") && err.contains("host1 refuses"),
        "{err}"
    );
    assert!(
        err.contains("3 ok, 1 failed") && !err.contains("untouched"),
        "{err}"
    );
    assert_eq!(f.host(1).read(&marker), "");
    for n in 2..=4 {
        assert_eq!(f.host(n).read(&marker), "done\n", "host{n}");
    }
}

/// The body of on() runs on all hosts at once. A closure and a host it captured are used by
/// every host at the same time (this was "Data race detected" on the second host); captured
/// data it changes stays shared, so the script sees every host's change.
#[test]
fn captured_closures_and_hosts_are_used_by_all_hosts_at_once() {
    let f = fleet();
    let _up = f.hosts_up();
    let p = script_project(
        f,
        "let other = ssh(\"host3\");\n\
         let name_of = |h| { h.run(\"sleep 0.5\"); h.name };\n\
         let seen = [];\n\
         let r = on(hosts(\"all\"), |h| {\n\
         \x20   let up = other.capture(\"sleep 0.5; echo up\");\n\
         \x20   seen.push(name_of.call(h));\n\
         \x20   up\n\
         });\n\
         seen.sort();\n\
         #{r: r, seen: seen}\n",
    );
    let started = Instant::now();
    let o = f
        .hoist_cmd(p.path())
        .args(["run", "roll.rhai", "--env", "fleet", "--json"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let out = ok(&o);
    let evs = events(&o);
    let result = event(&evs, "result");
    let value = &result.last().unwrap_or_else(|| panic!("no result: {out}"))["value"];
    let hosts: Vec<String> = f.hosts.iter().map(|h| h.name.clone()).collect();
    assert_eq!(names(&value["seen"]), hosts, "{out}");
    for h in &hosts {
        assert_eq!(value["r"][h], "up", "{h}: {out}");
    }
    // Not serialised host by host: 4 hosts x 1 s each would take 4 s and more.
    eprintln!("4 hosts, 1 s of commands each: {took:?}");
}

#[test]
fn bad_batch_options_are_errors_naming_the_key_and_the_line() {
    let f = fleet();
    let _x = f.hosts_up();
    for (opts, says) in [
        ("#{batch: 0}", "batch must be a number of hosts >= 1"),
        ("#{batch: \"150%\"}", "not \"150%\""),
        ("#{pause: -1}", "pause must be a number of seconds >= 0"),
        ("#{max_fail: -1}", "max_fail must be a number of hosts >= 0"),
        ("#{batsh: 2}", "unknown field `batsh`"),
    ] {
        let marker = format!("/tmp/ro-badopt-{}", std::process::id());
        let p = script_project(
            f,
            &format!(
                "let marker = \"{marker}\";\non(hosts(\"all\"), {opts}, |h| h.write(marker, \"ran\"))\n"
            ),
        );
        let o = f
            .hoist_cmd(p.path())
            .args(["run", "roll.rhai", "--env", "fleet"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{opts}: {err}");
        assert!(
            err.contains("bad option for on()") && err.contains(says),
            "{opts}: {err}"
        );
        assert!(err.contains("--> roll.rhai:2:1"), "{opts}: {err}");
        for h in &f.hosts {
            assert_eq!(h.read(&marker), "", "{opts}: nothing ran on {}", h.name);
        }
    }
}

/// A compose app deployed with the `deploy` recipe to all four hosts.
struct App {
    f: &'static Fleet,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    app: String,
    remote_dir: String,
    port: u16,
}

impl App {
    fn new(name: &str, port: u16) -> App {
        let f = fleet();
        let dir = tempfile::tempdir().unwrap();
        let app = format!("ro-{name}{}", std::process::id());
        let remote_dir = format!("/tmp/ro-{name}-{}", std::process::id());
        std::fs::write(
            dir.path().join("hoist.toml"),
            format!(
                "[env.test]\nvars = {{ registry = \"{}\" }}\n[env.test.hosts]\nweb = [\"host1\", \"host2\", \"host3\", \"host4\"]\n",
                f.registry
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("compose.yml"),
            format!(
                "services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    stop_grace_period: 1s\n"
            ),
        )
        .unwrap();
        App {
            f,
            dir,
            home: tempfile::tempdir().unwrap(),
            app,
            remote_dir,
            port,
        }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.f.hoist_cmd(self.dir.path());
        c.env("HOME", self.home.path()).args(args);
        c
    }

    /// The app's content for a version (served at /index.html).
    fn version(&self, text: &str) {
        support::images::page_context(self.dir.path(), text);
    }

    fn deploy(&self, tag: &str, extra: &[&str]) -> Output {
        let port = self.port.to_string();
        let mut args = vec![
            "deploy",
            "--watch",
            "0",
            "--env",
            "test",
            "--app",
            &self.app,
            "--dir",
            &self.remote_dir,
            "--user",
            &self.f.registry_user,
            "--context",
            "app",
            "--tag",
            tag,
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
            "--timeout",
            "30",
        ];
        args.extend_from_slice(extra);
        self.cmd(&args).output().expect("run hoist")
    }

    fn served(&self, h: &FleetHost) -> String {
        h.get(&format!("http://127.0.0.1:{}/index.html", self.port))
    }

    /// Containers of the app's project on a host, as that host's engine lists them.
    fn containers(&self, h: &FleetHost) -> String {
        h.sh_ok(&format!(
            "docker ps -a --filter label=com.docker.compose.project={} --format '{{{{.Image}}}} {{{{.State}}}}'",
            self.app
        ))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        for h in &self.f.hosts {
            h.sh(&format!(
                "docker ps -aq --filter label=com.docker.compose.project={a} | xargs -r docker rm -f; \
                 docker network rm {a}_default 2>/dev/null; rm -rf {d} /root/.hoist/locks/{a}",
                d = self.remote_dir,
                a = self.app,
            ));
        }
    }
}

#[test]
fn deploy_in_batches_stops_at_a_failed_host_and_leaves_the_rest_untouched() {
    let f = fleet();
    let _x = f.hosts_up();
    f.login_hosts();
    let a = App::new("deploystop", 18461);
    a.version("v1");
    // host2's port is taken (a listener that is not the app): its `up` fails in batch 1.
    let squat = f.host(2);
    squat.sh_ok(&format!(
        "setsid python3 -m http.server {} --bind 127.0.0.1 >/dev/null 2>&1 </dev/null & echo $! > /tmp/ro-squat.pid; \
         for i in $(seq 50); do curl -s -o /dev/null 127.0.0.1:{} && break; sleep 0.1; done",
        a.port, a.port
    ));
    let _unsquat = OnDrop(|| {
        squat.sh("kill $(cat /tmp/ro-squat.pid) 2>/dev/null; rm -f /tmp/ro-squat.pid");
    });

    let o = a.deploy("v1", &["--batch", "2", "--json"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let evs = events(&o);
    let fin = event(&evs, "rollout_finished");
    assert_eq!(fin.len(), 1, "{out}");
    assert_eq!(names(&fin[0]["done"]), ["host1"], "{out}");
    assert_eq!(names(&fin[0]["failed"]), ["host2"], "{out}");
    assert_eq!(names(&fin[0]["untouched"]), ["host3", "host4"], "{out}");
    let error = event(&evs, "error");
    let msg = error
        .first()
        .and_then(|e| e["error"]["message"].as_str())
        .unwrap_or_else(|| panic!("no error event: {out}"))
        .to_string();
    assert!(msg.contains("untouched: host3, host4"), "{msg}");

    // On the hosts: host1 serves v1; host2 runs no container of the app; host3 and host4
    // were never touched (no project directory, no container, no lock).
    assert_eq!(a.served(f.host(1)), "v1");
    assert_eq!(
        a.containers(f.host(2))
            .lines()
            .filter(|l| l.ends_with("running"))
            .count(),
        0
    );
    for n in 3..=4 {
        let h = f.host(n);
        assert_eq!(a.containers(h), "", "host{n}");
        assert_eq!(
            h.sh(&format!("test -e {}", a.remote_dir)).code,
            1,
            "host{n}: the project directory exists"
        );
    }
    for h in &f.hosts {
        assert_eq!(
            h.sh(&format!("test -e /root/.hoist/locks/{}", a.app)).code,
            1,
            "{}: lock left",
            h.name
        );
    }
}

#[test]
fn deploy_and_upgrade_in_batches_of_two_roll_out_everywhere_timed_against_all_at_once() {
    let f = fleet();
    let _x = f.exclusive();
    f.login_hosts();
    let a = App::new("deploybatch", 18462);
    a.version("v1");
    ok(&a.deploy("v1", &[]));
    for h in &f.hosts {
        assert_eq!(a.served(h), "v1", "{}", h.name);
    }

    // The same kind of release (pre-flight beside a live release, then the switch), in two
    // batches of two and all at once.
    a.version("v2");
    let t = Instant::now();
    let o = a.deploy("v2", &["--batch", "2", "--pause", "0", "--json"]);
    let batched = t.elapsed();
    ok(&o);
    let evs = events(&o);
    let batches = event(&evs, "batch_started");
    assert_eq!(batches.len(), 2);
    assert_eq!(names(&batches[0]["hosts"]), ["host1", "host2"]);
    assert_eq!(names(&batches[1]["hosts"]), ["host3", "host4"]);
    let fin = event(&evs, "rollout_finished");
    assert_eq!(names(&fin[0]["done"]), ["host1", "host2", "host3", "host4"]);
    assert!(fin[0]["stopped"].is_null());
    for h in &f.hosts {
        assert_eq!(a.served(h), "v2", "{}", h.name);
    }

    a.version("v3");
    let t = Instant::now();
    ok(&a.deploy("v3", &[]));
    let at_once = t.elapsed();
    for h in &f.hosts {
        assert_eq!(a.served(h), "v3", "{}", h.name);
    }
    eprintln!(
        "4-host deploy: batch 2 {:.1}s, all at once {:.1}s",
        batched.as_secs_f64(),
        at_once.as_secs_f64()
    );

    // upgrade --rollback in batches of "50%" goes back to v2 everywhere.
    let o = a
        .cmd(&[
            "upgrade",
            "--watch",
            "0",
            "--env",
            "test",
            "--app",
            &a.app,
            "--dir",
            &a.remote_dir,
            "--rollback",
            "--batch",
            "50%",
            "--health-port",
            &a.port.to_string(),
            "--health-path",
            "/index.html",
        ])
        .output()
        .unwrap();
    let text = ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("▶ batch 1 of 2: host1, host2")
            && err.contains("▶ batch 2 of 2: host3, host4"),
        "{text}\n{err}"
    );
    for h in &f.hosts {
        assert_eq!(a.served(h), "v2", "{}", h.name);
    }

    // A bad --batch is refused before anything changes.
    let o = a.deploy("v4", &["--batch", "0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("batch must be a number of hosts >= 1"),
        "{err}"
    );
    for h in &f.hosts {
        assert_eq!(a.served(h), "v2", "{}", h.name);
    }
}
