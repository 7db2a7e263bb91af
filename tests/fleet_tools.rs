//! `scripts/fleet` installs the tools it runs (debootstrap, htpasswd, openssl, ...) when a
//! machine lacks them, the way `scripts/test` does, so `scripts/fleet up 3` works on a fresh
//! Debian machine as the README says. The fresh machine is a container of the fleet's own
//! image (Debian with apt, without debootstrap or apache2-utils), with no Docker engine, so the
//! image counts as not built yet and debootstrap is needed; its packages come from Debian's
//! mirror, as on a real machine.

mod support;

use std::process::{Command, Output};

use support::fleet::{OnDrop, repo_root};

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn docker(args: &[&str]) -> Output {
    run(Command::new("docker").args(args))
}

fn docker_ok(args: &[&str]) -> String {
    let o = docker(args);
    assert!(o.status.success(), "docker {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// On this machine (where scripts/test installed them) every tool is there: `deps` says so and
/// needs no apt-get (HOIST_FLEET_INSTALL=0 would fail instead of installing).
#[test]
fn deps_on_a_machine_that_has_every_tool_installs_nothing() {
    let o = run(Command::new(repo_root().join("scripts/fleet"))
        .arg("deps")
        .env("HOIST_FLEET_INSTALL", "0"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("every tool it needs is present"),
        "{}",
        text(&o)
    );
}

/// On a machine without them: HOIST_FLEET_INSTALL=0 names each missing tool with its package;
/// `deps` installs them with apt-get; a second `deps` installs nothing (dpkg's log unchanged).
#[test]
fn deps_on_a_fresh_machine_names_then_installs_the_missing_tools_once() {
    // The fleet image exists once the fleet is up (scripts/fleet image prints its tag).
    support::fleet::fleet();
    let tag = String::from_utf8_lossy(
        &run(Command::new(repo_root().join("scripts/fleet")).arg("image")).stdout,
    )
    .trim()
    .to_string();
    assert!(
        tag.starts_with("hoist-fleet:"),
        "scripts/fleet image printed {tag:?}"
    );
    let name = format!("nc-fleet-tools-{}", std::process::id());
    docker_ok(&["run", "-d", "--name", &name, &tag, "sleep", "infinity"]);
    let _gone = OnDrop(|| {
        docker(&["rm", "-f", &name]);
    });
    for f in ["fleet", "fleet-image.sh", "compose-v2"] {
        let src = repo_root().join("scripts").join(f);
        docker_ok(&["exec", &name, "mkdir", "-p", "/opt/hoist/scripts"]);
        docker_ok(&[
            "cp",
            src.to_str().unwrap(),
            &format!("{name}:/opt/hoist/scripts/{f}"),
        ]);
    }
    let in_box = |script: &str| docker(&["exec", &name, "bash", "-c", script]);
    let missing = in_box("command -v htpasswd debootstrap");
    assert!(
        !missing.status.success(),
        "the fresh machine already has htpasswd and debootstrap: {}",
        text(&missing)
    );

    let o = in_box("HOIST_FLEET_INSTALL=0 /opt/hoist/scripts/fleet deps");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = text(&o);
    for named in [
        "htpasswd (apache2-utils)",
        "debootstrap (debootstrap)",
        "install with: apt-get install -y",
    ] {
        assert!(err.contains(named), "{named:?} not in: {err}");
    }

    let o = in_box("/opt/hoist/scripts/fleet deps");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fleet: installing"), "{}", text(&o));
    let found = in_box("command -v htpasswd debootstrap openssl ssh-keygen curl");
    assert!(found.status.success(), "{}", text(&found));

    let installs = || {
        String::from_utf8_lossy(&in_box("grep -c ' install ' /var/log/dpkg.log").stdout)
            .trim()
            .to_string()
    };
    let before = installs();
    let o = in_box("/opt/hoist/scripts/fleet deps");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("every tool it needs is present") && !text(&o).contains("installing"),
        "{}",
        text(&o)
    );
    assert_eq!(installs(), before, "the second deps installed something");
}
