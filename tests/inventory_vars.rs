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
