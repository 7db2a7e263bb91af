//! Docker Swarm on fleet servers: a swarm formed through their engines, a stack deployed from
//! a compose file with an env file, a secret and a config; scaled; updated to a new image
//! (tasks converge on the nodes); updated to an unhealthy image (swarm rolls back, the old
//! tasks keep serving, the error names the service); a node drained; one service removed, then
//! the stack. Ports are published in `mode: host` (the ingress mesh does not answer on this
//! kernel). Every check reads the servers.

mod support;

use std::time::{Duration, Instant};

use support::fleet::{Fleet, OnDrop, fleet};
use support::run_script;

fn ok(f: &Fleet, text: &str) -> serde_json::Value {
    let (rt, _) = f.runtime();
    run_script(&rt, text).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// Build an image serving `text`, with the test image's healthcheck (or a failing one), and
/// push it to the fleet registry.
fn image(f: &Fleet, tag: &str, text: &str, healthy: bool) -> String {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("index.html"), format!("{text}\n")).unwrap();
    let health = if healthy {
        ""
    } else {
        "HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD false\n"
    };
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {}\nCOPY index.html /www/index.html\n{health}",
            // Tasks that stop at SIGTERM, as real services do: every replaced task would
            // otherwise wait swarm's 10 s grace period.
            support::images::stops_at_sigterm()
        ),
    )
    .unwrap();
    let local = format!("hoist-test/swarm:{tag}");
    support::images::build(&local, ctx.path());
    f.push(&local, &format!("hoist-swarm/web:{tag}"))
}

#[test]
fn a_stack_deploys_scales_updates_rolls_back_drains_and_is_removed() {
    let f = fleet();
    let _x = f.exclusive();
    let (mgr, w1) = (f.host(3), f.host(4));
    let v1 = image(f, "v1", "v1", true);
    let v2 = image(f, "v2", "v2", true);
    let bad = image(f, "bad", "bad", false);
    f.login_hosts();
    let dir = format!("/tmp/hoist-swarm-{}", std::process::id());
    let _cleanup = OnDrop(|| {
        mgr.sh("docker stack rm hs >/dev/null 2>&1; sleep 2");
        w1.sh("docker swarm leave --force");
        mgr.sh(&format!("docker swarm leave --force; rm -rf {dir}"));
    });
    let compose_scaled = |img: &str, replicas: u32, side: u32| {
        format!(
            "services:\n  web:\n    image: {img}\n    environment:\n      GREETING: ${{GREETING}}\n\
             \x20   ports:\n      - target: 8080\n        published: 18471\n        mode: host\n\
             \x20   secrets: [token]\n    configs: [motd]\n\
             \x20   deploy:\n      replicas: {replicas}\n      update_config:\n        monitor: 3s\n\
             \x20 side:\n    image: {v1}\n    deploy:\n      replicas: {side}\n\
             secrets:\n  token:\n    file: ./token.txt\nconfigs:\n  motd:\n    file: ./motd.txt\n"
        )
    };
    let compose = |img: &str, replicas: u32| compose_scaled(img, replicas, 1);
    mgr.sh_ok(&format!(
        "mkdir -p {dir} && echo s3cret > {dir}/token.txt && echo hello > {dir}/motd.txt && echo GREETING=hi > {dir}/.env"
    ));
    let write = |text: String| {
        mgr.sh_ok(&format!("cat > {dir}/compose.yaml <<'EOF'\n{text}EOF"));
    };
    write(compose(&v1, 2));

    // The swarm, formed from the manager and a worker; nodes listed through the manager.
    let v = ok(
        f,
        r#"let m = ssh("host3"); let w = ssh("host4");
           let a = m.swarm().init(); let b = w.swarm().join(m);
           [a, b, m.swarm().init(), m.swarm().nodes()]"#,
    );
    assert_eq!(v[0], true);
    assert_eq!(v[1], true);
    assert_eq!(v[2], false, "init again: already a swarm");
    let nodes: Vec<&str> = v[3]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["host3", "host4"]);

    let stack = format!(r#"let s = ssh("host3").stack("hs", "{dir}");"#);
    let v = ok(f, &format!("{stack} s.deploy(#{{timeout: 120}})"));
    let web = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "hs_web")
        .unwrap()
        .clone();
    assert_eq!(web["replicas"], "2/2", "{v}");
    // One task per node (host-mode port), each on its own engine, with the secret and config.
    for h in [mgr, w1] {
        assert_eq!(
            h.get("http://127.0.0.1:18471/index.html"),
            "v1",
            "{}",
            h.name
        );
        let c = h.sh_ok("docker ps -q --filter label=com.docker.swarm.service.name=hs_web");
        assert_eq!(
            h.sh_ok(&format!("docker exec {c} cat /run/secrets/token")),
            "s3cret"
        );
        assert_eq!(h.sh_ok(&format!("docker exec {c} cat /motd")), "hello");
        assert_eq!(
            h.sh_ok(&format!("docker exec {c} sh -c 'echo $GREETING'")),
            "hi"
        );
    }
    // The image is pinned by digest.
    let pinned =
        mgr.sh_ok("docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' hs_web");
    assert!(pinned.contains("@sha256:"), "{pinned}");

    // A new image, planned first: the plan shows the spec's diff (the image line) and the
    // engine's service is untouched (its spec version).
    write(compose(&v2, 2));
    let version = || mgr.sh_ok("docker service inspect -f '{{.Version.Index}}' hs_web");
    let before = version();
    let (plan_rt, _) = f.runtime();
    plan_rt
        .services
        .effects()
        .set_mode(hoist::effect::Mode::Plan);
    run_script(&plan_rt, &format!("{stack} s.deploy(#{{timeout: 120}})"))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(version(), before, "the dry run updated the service");
    let plan = plan_rt.services.effects().plan();
    let web = plan
        .changes
        .iter()
        .find(|c| c.change.summary().starts_with("service update hs_web"))
        .unwrap_or_else(|| panic!("{:#?}", plan.changes));
    let removed: Vec<&String> = web
        .notes
        .iter()
        .filter(|l| l.starts_with("-  ") || l.starts_with("- "))
        .collect();
    let added: Vec<&String> = web
        .notes
        .iter()
        .filter(|l| l.starts_with("+  ") || l.starts_with("+ "))
        .collect();
    assert!(
        removed
            .iter()
            .any(|l| l.contains("\"Image\"") && l.contains("hoist-swarm/web:v1@sha256:"))
            && added
                .iter()
                .any(|l| l.contains("\"Image\"") && l.contains("hoist-swarm/web:v2@sha256:")),
        "{:#?}",
        web.notes
    );
    assert!(
        plan.assumed.iter().any(|(_, a)| a.contains("converge")),
        "{:?}",
        plan.assumed
    );
    ok(f, &format!("{stack} s.deploy(#{{timeout: 120}})"));
    for h in [mgr, w1] {
        assert_eq!(
            h.get("http://127.0.0.1:18471/index.html"),
            "v2",
            "{}",
            h.name
        );
    }

    // Scaled: the side service to two tasks (one per node), the rows say so.
    write(compose_scaled(&v2, 2, 2));
    let v = ok(f, &format!("{stack} s.deploy(#{{timeout: 120}})"));
    let side = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "hs_side")
        .unwrap()
        .clone();
    assert_eq!(side["replicas"], "2/2", "{v}");
    assert_eq!(
        mgr.sh_ok("docker service ls --filter name=hs_side --format '{{.Replicas}}'"),
        "2/2"
    );
    write(compose(&v2, 2));
    ok(f, &format!("{stack} s.deploy(#{{timeout: 120}})"));

    // An unhealthy image: swarm rolls back; v2 keeps serving; the error names the service.
    write(compose(&bad, 2));
    let (rt, _) = f.runtime();
    let e = run_script(&rt, &format!("{stack} s.deploy(#{{timeout: 180}})")).unwrap_err();
    let msg = e.render();
    assert!(
        msg.contains("hs_web") && msg.contains("rolled it back"),
        "{msg}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while [mgr, w1]
        .iter()
        .any(|h| h.get("http://127.0.0.1:18471/index.html") != "v2")
    {
        assert!(
            Instant::now() < deadline,
            "v2 is not serving after the rollback"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Drain the worker: its tasks move away (host-mode port: one task can run per node, so
    // the second replica waits), then activate it again.
    let v = ok(f, r#"ssh("host3").swarm().drain("host4")"#);
    assert_eq!(v, true);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w1
        .sh_ok("docker ps -q --filter label=com.docker.swarm.service.name=hs_web")
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "tasks did not leave the drained node"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(ok(f, r#"ssh("host3").swarm().activate("host4")"#), true);

    // A worker cut off: the manager's node table reports it down, then ready once healed.
    let node_state = || {
        let v = ok(f, r#"ssh("host3").swarm().nodes()"#);
        v.as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == "host4")
            .map(|n| n["state"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let until = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let got = node_state();
            if got == want {
                return;
            }
            assert!(Instant::now() < deadline, "host4 is {got}, not {want}");
            std::thread::sleep(Duration::from_secs(1));
        }
    };
    {
        let _cut = f.fault("cut", w1);
        until("down");
    }
    until("ready");

    // Remove one service, then the stack.
    assert_eq!(ok(f, &format!("{stack} s.rm_service(\"side\")")), true);
    assert_eq!(mgr.sh_ok("docker service ls -q --filter name=hs_side"), "");
    // The built-in recipe, from an inventory with managers and workers: status, then rm.
    let project = f.project("");
    std::fs::write(
        project.path().join("hoist.toml"),
        "[env.sw.hosts]\nmanagers = [\"host3\"]\nworkers = [\"host4\"]\n",
    )
    .unwrap();
    let recipe = |action: &str| {
        let o = f
            .hoist_cmd(project.path())
            .args([
                "stack", "--env", "sw", "--name", "hs", "--dir", &dir, "--action", action, "--json",
            ])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        last["value"].clone()
    };
    let status = recipe("status");
    assert_eq!(status[0]["name"], "hs_web", "{status}");
    assert_eq!(recipe("rm"), true);
    assert_eq!(
        mgr.sh_ok("docker service ls -q --filter label=com.docker.stack.namespace=hs"),
        ""
    );
}
