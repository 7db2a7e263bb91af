//! hoist against the test fleet: separate Debian servers, each with systemd, sshd and its own
//! Docker engine; compose v2 on odd hosts, v1 on even ones; a TLS registry with auth; faults
//! (cut, stop, rekey) inflicted while hoist works. Every check about a host reads that host.

mod support;

use std::time::{Duration, Instant};

use support::fleet::{Fleet, fleet};
use support::run_script;

fn script(f: &Fleet, text: &str) -> hoist::Result<serde_json::Value> {
    let (rt, _) = f.runtime();
    run_script(&rt, text)
}

fn ok(f: &Fleet, text: &str) -> serde_json::Value {
    script(f, text).unwrap_or_else(|e| panic!("script failed: {e}"))
}

fn all_hosts(f: &Fleet) -> String {
    let specs: Vec<String> = f
        .hosts
        .iter()
        .map(|h| format!("ssh(\"{}\")", h.spec()))
        .collect();
    format!("[{}]", specs.join(", "))
}

#[test]
fn hosts_are_separate_servers_with_systemd_and_their_own_engines() {
    let f = fleet();
    let _x = f.hosts_up();
    let v = ok(
        f,
        &format!(
            r#"let r = on({}, |h| #{{
                pid1: h.run("cat /proc/1/comm").stdout,
                hostname: h.facts().hostname,
                engine: h.run("docker info --format '{{{{.ID}}}}'").stdout,
                system: h.run("systemctl is-system-running", #{{check: false}}).stdout,
            }});
            r"#,
            all_hosts(f)
        ),
    );
    let mut engines = std::collections::BTreeSet::new();
    for h in &f.hosts {
        let r = &v[&h.name];
        assert_eq!(r["pid1"].as_str().unwrap().trim(), "systemd", "{}", h.name);
        assert_eq!(r["hostname"], h.name.as_str());
        assert_eq!(r["system"].as_str().unwrap().trim(), "running");
        let engine = r["engine"].as_str().unwrap().trim().to_string();
        // What hoist saw over ssh is what the host's own engine says (read through the host).
        assert_eq!(engine, h.engine_id(), "{}", h.name);
        engines.insert(engine);
    }
    assert_eq!(
        engines.len(),
        f.hosts.len(),
        "every host has its own engine"
    );

    // A file written on host1 exists there, and only there.
    let marker = format!("/tmp/hoist-fleet-marker-{}", std::process::id());
    ok(
        f,
        &format!(r#"ssh("host1").write("{marker}", "on host1\n")"#),
    );
    assert_eq!(f.host(1).read(&marker), "on host1\n");
    assert_eq!(f.host(2).sh(&format!("test -e {marker}")).code, 1);
    f.host(1).sh_ok(&format!("rm -f {marker}"));
}

#[test]
fn every_engine_pulls_from_the_tls_registry_with_auth() {
    let f = fleet();
    let _x = f.hosts_up();
    let image = f.push(support::images::busybox(), "hoist-fleet/busybox:tls");
    // hoist logs each host's engine in (the host stores the credentials) and pulls through it:
    // the TLS handshake uses the test CA in /etc/docker/certs.d on that host.
    ok(
        f,
        &format!(
            r#"let reg = registry("{reg}", #{{user: "{user}", password: secret("{pw}")}});
            on({hosts}, |h| {{
                let d = h.docker();
                d.login(reg);
                d.pull("{image}");
            }});"#,
            reg = f.registry,
            user = f.registry_user,
            pw = f.registry_password,
            hosts = all_hosts(f),
        ),
    );
    for h in &f.hosts {
        let id = h.sh_ok(&format!(
            "docker image inspect --format '{{{{.Id}}}}' {image}"
        ));
        assert!(id.starts_with("sha256:"), "{}: {id}", h.name);
        let cfg = h.read("/root/.docker/config.json");
        assert!(
            cfg.contains(&f.registry),
            "{} stored the login: {cfg}",
            h.name
        );
    }
    // A wrong password is refused by the registry, and the error names it.
    let e = script(
        f,
        &format!(
            r#"let reg = registry("{}", #{{user: "{}", password: secret("wrong")}});
            ssh("host2").docker().login(reg);"#,
            f.registry, f.registry_user
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("host2"), "{e}");
    assert!(!e.contains(&f.registry_password));
}

#[test]
fn compose_runs_on_v1_and_v2_hosts_each_on_its_own_engine() {
    let f = fleet();
    let _x = f.hosts_up();
    let image = f.push(support::images::busybox(), "hoist-fleet/busybox:compose");
    f.login_hosts();
    let project = format!("hoistfc{}", std::process::id());
    let dir = format!("/tmp/{project}");
    let v = ok(
        f,
        &format!(
            r#"let r = on([ssh("host1"), ssh("host2")], |h| {{
                let p = h.compose("{dir}", #{{project: "{project}"}});
                p.write("services:\n  web:\n    image: {image}\n    ports: [\"127.0.0.1:18080:8080\"]\n    stop_grace_period: 1s\n");
                p.up(#{{wait: true}});
                #{{tool: p.tool(), ps: p.ps()}}
            }});
            r"#
        ),
    );
    for h in [f.host(1), f.host(2)] {
        let want = if h.compose_v2() { "v2" } else { "v1" };
        assert_eq!(v[&h.name]["tool"], want, "{}", h.name);
        assert_eq!(v[&h.name]["ps"][0]["state"], "running", "{v}");
        // The container runs on that host's engine, and serves there.
        let names = h.sh_ok(&format!(
            "docker ps --filter label=com.docker.compose.project={project} --format '{{{{.Names}}}}'"
        ));
        assert!(names.contains("web"), "{}: {names}", h.name);
        assert_eq!(h.get("http://127.0.0.1:18080/health"), "ok");
    }
    // host3 has none of it.
    assert_eq!(
        f.host(3).sh_ok(&format!(
            "docker ps -q --filter label=com.docker.compose.project={project}"
        )),
        ""
    );
    ok(
        f,
        &format!(
            r#"on([ssh("host1"), ssh("host2")], |h| h.compose("{dir}", #{{project: "{project}"}}).down());"#
        ),
    );
    for h in [f.host(1), f.host(2)] {
        assert_eq!(
            h.sh_ok(&format!(
                "docker ps -aq --filter label=com.docker.compose.project={project}"
            )),
            ""
        );
        h.sh_ok(&format!("rm -rf {dir}"));
    }
}

/// `hoist run SCRIPT --env fleet` in a project holding the fleet's hoist.toml.
fn hoist_run(f: &Fleet, text: &str) -> (std::process::Output, Duration) {
    let project = f.project("");
    std::fs::write(project.path().join("job.rhai"), text).unwrap();
    let started = Instant::now();
    let o = f
        .hoist_cmd(project.path())
        .args(["run", "job.rhai", "--env", "fleet"])
        .output()
        .unwrap();
    (o, started.elapsed())
}

#[test]
fn a_stopped_host_is_named_and_the_others_finish() {
    let f = fleet();
    let _x = f.exclusive();
    let victim = f.host(4);
    let _stop = f.fault("stop", victim);
    let stamp = format!("/tmp/hoist-fleet-stopped-{}", std::process::id());
    let (o, took) = hoist_run(
        f,
        &format!(r#"on(hosts("all"), |h| h.write("{stamp}", "done\n"));"#),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("host4"), "{err}");
    for h in ["host1", "host2", "host3"] {
        assert!(!err.contains(&format!("{h}:")), "only host4 failed: {err}");
    }
    assert!(took < Duration::from_secs(30), "{took:?}");
    for n in 1..=3 {
        assert_eq!(f.host(n).read(&stamp), "done\n");
        f.host(n).sh_ok(&format!("rm -f {stamp}"));
    }
}

#[test]
fn a_host_cut_off_mid_run_is_named_while_the_others_finish() {
    let f = fleet();
    let _x = f.exclusive();
    let victim = f.host(3);
    let stamp = format!("/tmp/hoist-fleet-cut-{}", std::process::id());
    let text =
        format!(r#"on(hosts("all"), |h| {{ h.run("sleep 3"); h.write("{stamp}", "done\n"); }});"#);
    let worker = std::thread::spawn(move || hoist_run(fleet(), &text));
    // Cut once the command runs on the victim (read through the host itself).
    let deadline = Instant::now() + Duration::from_secs(30);
    while victim.sh("pgrep -x sleep").code != 0 {
        assert!(
            Instant::now() < deadline,
            "the command never started on host3"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut cut = f.fault("cut", victim);
    let (o, took) = worker.join().unwrap();
    cut.undo();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("host3"), "{err}");
    assert!(
        took < Duration::from_secs(40),
        "a dead host is named in time: {took:?}"
    );
    for n in [1, 2, 4] {
        assert_eq!(f.host(n).read(&stamp), "done\n", "host{n} finished");
        f.host(n).sh_ok(&format!("rm -f {stamp}"));
    }
    assert_eq!(victim.read(&stamp), "", "host3 never got its write");
}

#[test]
fn a_rekeyed_host_is_refused() {
    let f = fleet();
    let _x = f.exclusive();
    let victim = f.host(2);
    let _rekey = f.fault("rekey", victim);
    let e = script(f, r#"ssh("host2").run("true")"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("host2"), "{e}");
    assert!(
        e.to_lowercase().contains("host key"),
        "the error says why: {e}"
    );
    // Nothing ran there: the refusal happens before any command.
    assert_eq!(victim.sh("test -e /tmp/never").code, 1);
}
