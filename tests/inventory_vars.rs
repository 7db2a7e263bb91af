//! The inventory configures recipes, on the fleet: group and per-host vars reach `h.vars` on
//! the right host in precedence order (recipe defaults < env vars < group vars < host vars <
//! flags < --set), values are checked against the recipe's parameter types before anything
//! runs, and `--limit` restricts runs and recipes. What each host saw is written on that host
//! by the recipe and read back through the host.

mod support;

use std::path::Path;
use std::process::Output;

use support::fleet::{Fleet, OnDrop, fleet};

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A project on the fleet's inventory with env-wide vars added and `extra` appended, and a
/// recipe `show` that writes on every host what that host's `h.vars` hold.
fn project(f: &Fleet, id: &str, extra: &str) -> tempfile::TempDir {
    let base = std::fs::read_to_string(&f.hoist_toml).unwrap();
    let base = base.replacen(
        "vars = { ",
        "vars = { level = \"env\", colour = \"env\", port = 1, ",
        1,
    );
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("hoist.toml"), format!("{base}{extra}")).unwrap();
    std::fs::create_dir(d.path().join("recipes")).unwrap();
    std::fs::write(
        d.path().join("recipes/show.rhai"),
        format!(
            "//! Write what each host's vars hold, on that host.\n\
             //! @param level = \"default\"\n\
             //! @param colour = \"default\"\n\
             //! @param port = 0\n\
             //! @param extra = \"default\"\n\
             on(hosts(), |h| {{\n\
                 let v = h.vars;\n\
                 h.write(\"/tmp/pa-vars-{id}\", `${{v.level}} ${{v.colour}} ${{v.port + 1}} ${{v.extra}} run:${{vars.level}}`);\n\
             }});\n"
        ),
    )
    .unwrap();
    d
}

const LAYERS: &str = "\n[env.fleet.group_vars.compose_v2]\nlevel = \"group\"\ncolour = \"group\"\n\
                      [env.fleet.host_vars.host1]\nlevel = \"host\"\nport = 9000\n\
                      [env.fleet.host_vars.\"host4\"]\nextra = \"host4\"\n";

fn seen(f: &Fleet, id: &str) -> Vec<String> {
    f.hosts
        .iter()
        .map(|h| h.read(&format!("/tmp/pa-vars-{id}")))
        .collect()
}

fn run(f: &Fleet, d: &Path, args: &[&str]) -> Output {
    f.hoist_cmd(d)
        .args(args)
        .args(["--env", "fleet"])
        .output()
        .unwrap()
}

#[test]
fn group_and_host_vars_reach_h_vars_on_the_right_host_in_precedence_order() {
    let f = fleet();
    let id = format!("p{}", std::process::id());
    let clean = || {
        for h in &f.hosts {
            h.sh(&format!("rm -f /tmp/pa-vars-{id}"));
        }
    };
    let _clean = OnDrop(clean);
    let p = project(f, &id, LAYERS);
    let o = run(f, p.path(), &["show"]);
    assert!(o.status.success(), "{}", text(&o));
    // host1: its own vars over its group's (compose_v2) over the env's; host2: env vars only;
    // host3: its group's; host4: its own `extra` (keyed by its display name). `vars` is the
    // run-wide view: env vars over recipe defaults.
    assert_eq!(
        seen(f, &id),
        [
            "host group 9001 default run:env",
            "env env 2 default run:env",
            "group group 2 default run:env",
            "env env 2 host4 run:env",
        ]
    );

    // A flag beats group and host vars; --set beats a flag.
    let o = run(
        f,
        p.path(),
        &[
            "show",
            "--level",
            "flag",
            "--colour",
            "flag",
            "--set",
            "colour=set",
            "--port",
            "41",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        seen(f, &id),
        [
            "flag set 42 default run:flag",
            "flag set 42 default run:flag",
            "flag set 42 default run:flag",
            "flag set 42 host4 run:flag",
        ]
    );
}

#[test]
fn inventory_values_are_checked_against_parameter_types_before_anything_runs() {
    let f = fleet();
    let id = format!("t{}", std::process::id());
    let p = project(f, &id, "\n[env.fleet.host_vars.host2]\nport = \"eighty\"\n");
    let o = run(f, p.path(), &["show"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o)
            .contains("env.fleet.host_vars.\"host2\": port: --port `eighty`: expected an integer"),
        "{}",
        text(&o)
    );
    assert!(
        f.hosts
            .iter()
            .all(|h| h.read(&format!("/tmp/pa-vars-{id}")).is_empty()),
        "nothing ran"
    );
    // A flag of the wrong type is refused the same way, naming the flag.
    let p = project(f, &id, "");
    let o = run(f, p.path(), &["show", "--port", "18301x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--port `18301x`: expected an integer (its default is 0)"),
        "{}",
        text(&o)
    );
    // A host_vars key that names no host is a typo, not a silent no-op.
    let p = project(f, &id, "\n[env.fleet.host_vars.hots1]\nlevel = \"x\"\n");
    let o = run(f, p.path(), &["show"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("env.fleet.host_vars.\"hots1\": no host `hots1`"),
        "{}",
        text(&o)
    );
}

#[test]
fn limit_restricts_recipes_and_runs_to_matching_hosts_and_groups() {
    let f = fleet();
    let id = format!("l{}", std::process::id());
    let clean = || {
        for h in &f.hosts {
            h.sh(&format!("rm -f /tmp/pa-vars-{id} /tmp/pa-run-{id}"));
        }
    };
    let _clean = OnDrop(clean);
    let p = project(f, &id, LAYERS);
    // A host by name and a group by glob: host1 + compose_v1 (host2, host4).
    let o = run(
        f,
        p.path(),
        &["show", "--limit", "host1", "--limit", "compose_v1*"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let wrote: Vec<bool> = seen(f, &id).iter().map(|s| !s.is_empty()).collect();
    assert_eq!(wrote, [true, true, false, true]);

    // `hoist run` too, with comma-separated patterns and a glob over host names.
    std::fs::write(
        p.path().join("touch.rhai"),
        format!("on(hosts(\"all\"), |h| h.write(\"/tmp/pa-run-{id}\", h.name)); hosts().len()"),
    )
    .unwrap();
    let o = f
        .hoist_cmd(p.path())
        .args([
            "run",
            "touch.rhai",
            "--env",
            "fleet",
            "--limit",
            "host3,nothing*x",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "a pattern matching nothing: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("--limit `nothing*x` matches no host or group of environment `fleet`"),
        "{}",
        text(&o)
    );
    assert!(
        f.host(3).read(&format!("/tmp/pa-run-{id}")).is_empty(),
        "nothing ran"
    );
    let o = f
        .hoist_cmd(p.path())
        .args([
            "run",
            "touch.rhai",
            "--env",
            "fleet",
            "--limit",
            "*3",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["value"], 1,
        "hosts() sees only the limited hosts: {last}"
    );
    let wrote: Vec<String> = f
        .hosts
        .iter()
        .map(|h| h.read(&format!("/tmp/pa-run-{id}")))
        .collect();
    assert_eq!(wrote, ["", "", "host3", ""]);
}

/// Take a compose project's containers and networks off the host by their labels.
fn purge(h: &support::fleet::FleetHost, project: &str) {
    h.sh(&format!(
        "docker ps -aq --filter label=com.docker.compose.project={project} | xargs -r docker rm -f; \
         docker network ls -q --filter label=com.docker.compose.project={project} | xargs -r docker network rm"
    ));
}

#[test]
fn built_in_recipes_take_each_hosts_dir_port_and_env_files_from_the_inventory() {
    let f = fleet();
    let pid = std::process::id();
    let app = format!("hiv{pid}");
    // host1 (compose v2) and host2 (compose v1), each with its own directory, published port
    // and env file, given only by hoist.toml's host_vars (the health path by its env vars).
    let each = [
        (f.host(1), format!("/tmp/hi-a-{pid}"), 18491, "a.env"),
        (f.host(2), format!("/tmp/hi-b-{pid}"), 18492, "b.env"),
    ];
    let _cleanup = OnDrop(|| {
        for (h, dir, _, _) in &each {
            for project in [app.clone(), format!("{app}-blue"), format!("{app}-green")] {
                purge(h, &project);
            }
            h.sh(&format!("rm -rf {dir} /root/.hoist/locks/{app}"));
        }
    });
    let d = tempfile::tempdir().unwrap();
    let toml = format!(
        "[env.test]\nvars = {{ registry = \"{}\", health_path = \"/index.html\" }}\n[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n\
         [env.test.host_vars.host1]\ndir = \"{}\"\nhealth_port = 18491\nenv_files = \"a.env\"\nblue_port = 18493\n\
         [env.test.host_vars.host2]\ndir = \"{}\"\nhealth_port = 18492\nenv_files = [\"b.env\"]\nblue_port = 18495\n",
        f.registry, each[0].1, each[1].1
    );
    std::fs::write(d.path().join("hoist.toml"), &toml).unwrap();
    std::fs::write(
        d.path().join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${WEB_PORT:?set WEB_PORT}:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    std::fs::write(d.path().join("a.env"), "WEB_PORT=18491\n").unwrap();
    std::fs::write(d.path().join("b.env"), "WEB_PORT=18492\n").unwrap();
    support::images::page_context(d.path(), "v1");
    let hoist = |args: &[&str]| {
        f.hoist_cmd(d.path())
            .args(args)
            .args(["--env", "test", "--app", &app])
            .output()
            .unwrap()
    };
    let serves = |page: &str| {
        for (h, dir, port, env) in &each {
            assert_eq!(
                h.get(&format!("http://127.0.0.1:{port}/index.html")),
                page,
                "{}",
                h.name
            );
            let live = h.live_release(dir);
            assert_eq!(live["params"]["health_port"], *port, "{}: {live}", h.name);
            assert_eq!(live["env_files"], serde_json::json!([env]), "{}", h.name);
        }
    };

    // deploy: no --dir, --health-port or --env-files; each host gets its own.
    let o = hoist(&[
        "deploy",
        "--watch",
        "0",
        "--user",
        &f.registry_user,
        "--context",
        "app",
        "--tag",
        "v1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    serves("v1");
    for (h, _, _, _) in &each {
        let other = &each.iter().find(|e| e.0.name != h.name).unwrap().1;
        assert_eq!(
            h.sh(&format!("test -e {other}")).code,
            1,
            "{}: the other host's directory is not made here",
            h.name
        );
    }

    // upgrade and status find each host's project in its own directory.
    let v2 = f.page_image(&format!("{app}:v2"), "v2");
    f.login_hosts();
    let o = hoist(&["upgrade", "--watch", "0", "--image", &v2]);
    assert!(o.status.success(), "{}", text(&o));
    serves("v2");
    let o = hoist(&["status", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let mut seen: Vec<String> = last["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["host"], r["service"], r["state"], r["release"]
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            format!("\"host1\" \"web\" \"running\" \"{v2}\""),
            format!("\"host2\" \"web\" \"running\" \"{v2}\""),
        ]
    );

    // A var the recipe uses once for every host, set for one host, is refused before
    // anything is built or changed (it would otherwise be ignored without a word).
    std::fs::write(
        d.path().join("hoist.toml"),
        format!("{toml}tag = \"other\"\n"),
    )
    .unwrap();
    let o = hoist(&["deploy", "--user", &f.registry_user, "--context", "app"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("tag is other for host2 in hoist.toml (its group_vars or host_vars), but deploy uses one tag for every host (here none)")
            && text(&o).contains("--> deploy.rhai (built-in):"),
        "{}",
        text(&o)
    );
    serves("v2");
    for (h, dir, _, _) in &each {
        assert_eq!(h.releases(dir).len(), 2, "{}: nothing recorded", h.name);
    }
    std::fs::write(d.path().join("hoist.toml"), &toml).unwrap();

    // destroy takes each host's project down from its own directory.
    let gone = |project: &str| {
        let o = hoist(&["destroy", "--yes"]);
        assert!(o.status.success(), "{}", text(&o));
        for (h, _, _, _) in &each {
            assert_eq!(
                h.sh_ok(&format!(
                    "docker ps -aq --filter label=com.docker.compose.project={project}"
                )),
                "",
                "{}",
                h.name
            );
        }
    };
    gone(&app);

    // bluegreen: each host's colour listens on its own port, its env file beside it, its
    // proxy file in its own directory.
    std::fs::write(
        d.path().join("bg.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    let o = hoist(&["bluegreen", "--image", &v2, "--compose", "bg.yml"]);
    assert!(o.status.success(), "{}", text(&o));
    for ((h, dir, _, env), port) in each.iter().zip([18493, 18495]) {
        assert_eq!(
            h.get(&format!("http://127.0.0.1:{port}/index.html")),
            "v2",
            "{}",
            h.name
        );
        assert_eq!(h.read(&format!("{dir}/live")), "blue\n", "{}", h.name);
        assert!(
            h.read(&format!("{dir}/proxy.conf"))
                .contains(&format!("127.0.0.1:{port};")),
            "{}",
            h.name
        );
        assert!(
            !h.read(&format!("{dir}/blue/{env}")).is_empty(),
            "{}: its env file beside the colour",
            h.name
        );
    }
    gone(&format!("{app}-blue"));
}
