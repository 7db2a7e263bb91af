//! `hoist init`: the project it writes works. In a directory with a Dockerfile and a compose
//! file, `hoist init host1` writes hoist.toml and recipes/hello.rhai and prints three commands;
//! each of them, run as printed against the fleet, succeeds — the last deploys the directory's
//! compose file, and host1 serves its page (read through host1). Without hosts, the `local`
//! placeholder works on this machine. Existing files are refused, named; `--dry-run` writes
//! nothing and shows the files as a plan does.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::fleet::{OnDrop, fleet};

/// Published on host1 by the deployed app (this test's own port).
const PORT: u16 = 19500;

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(o: Output, what: &str) -> String {
    let (out, err) = text(&o);
    assert!(o.status.success(), "{what} failed:\n{out}\n{err}");
    out
}

/// The commands under "Next:", without their `# what it shows`.
fn next_commands(out: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| *l != "Next:")
        .skip(1)
        .map(|l| l.split(" # ").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `hoist ARGS` as a user types them (the command line printed), in `dir`, on the fleet.
fn as_printed(dir: &Path, line: &str) -> Command {
    let words = shlex::split(line).unwrap();
    assert_eq!(words[0], "hoist", "{line}");
    let mut c = fleet().hoist_cmd(dir);
    c.args(&words[1..]);
    c
}

#[test]
fn init_then_the_printed_commands_deploy_the_directorys_compose_file() {
    let f = fleet();
    let _up = f.hosts_up();
    let base = tempfile::tempdir().unwrap();
    let app = format!("nc-init-{}", std::process::id());
    let dir = base.path().join(&app);
    support::images::deploy_project(
        &dir,
        &format!("hello from {app}"),
        "docker-compose.yml",
        PORT,
    );
    let h1 = f.host(1);
    let remote_dir = format!("/root/apps/{app}");
    let _clean = OnDrop(|| {
        h1.remove_app(&app, &remote_dir);
        support::images::remove_repo(&app);
    });

    // --dry-run: the plan shows both files whole, and nothing is written.
    let out = ok(
        as_printed(&dir, "hoist init --dry-run host1")
            .output()
            .unwrap(),
        "init --dry-run",
    );
    assert!(out.contains("Plan (dry run: nothing was changed)"), "{out}");
    assert!(
        out.contains(&format!("~ file: create {}/hoist.toml", dir.display())),
        "{out}"
    );
    assert!(out.contains("+web = [\"host1\"]"), "{out}");
    assert!(out.contains("+//! @param group = \"web\""), "{out}");
    assert!(!dir.join("hoist.toml").exists() && !dir.join("recipes").exists());

    let out = ok(
        as_printed(&dir, "hoist init host1").output().unwrap(),
        "init host1",
    );
    let toml = std::fs::read_to_string(dir.join("hoist.toml")).unwrap();
    assert!(toml.contains(&format!("app = \"{app}\"")), "{toml}");
    assert!(toml.contains("compose = \"docker-compose.yml\""), "{toml}");
    let next = next_commands(&out);
    assert_eq!(
        next,
        ["hoist facts", "hoist hello", "hoist deploy --no-registry"],
        "{out}"
    );

    // A second init refuses, naming the file, and changes nothing.
    let o = as_printed(&dir, "hoist init host2").output().unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}/hoist.toml exists already", dir.display())),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("hoist.toml")).unwrap(),
        toml
    );

    ok(
        as_printed(&dir, "hoist check recipes/hello.rhai")
            .output()
            .unwrap(),
        "check",
    );

    let facts = ok(as_printed(&dir, &next[0]).output().unwrap(), &next[0]);
    assert!(
        facts.contains("host1") && facts.contains("bookworm"),
        "{facts}"
    );
    let hello = ok(as_printed(&dir, &next[1]).output().unwrap(), &next[1]);
    assert!(
        hello.contains("host1") && hello.contains(&h1.sh_ok("uname -r")),
        "{hello}"
    );
    ok(as_printed(&dir, &next[2]).output().unwrap(), &next[2]);
    assert_eq!(
        h1.get(&format!("http://127.0.0.1:{PORT}/")),
        format!("hello from {app}")
    );
    assert_eq!(h1.live_release(&remote_dir)["id"], "r1");
}

#[test]
fn init_without_hosts_uses_this_machine_and_refuses_an_existing_recipe() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("nc-local");
    std::fs::create_dir(&dir).unwrap();
    let hoist = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hoist"))
            .env("NO_COLOR", "1")
            .env_remove("HOIST_ENV")
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap()
    };
    // recipes/hello.rhai is there: refused before hoist.toml is written.
    std::fs::create_dir(dir.join("recipes")).unwrap();
    std::fs::write(dir.join("recipes/hello.rhai"), "1").unwrap();
    let o = hoist(&["init"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("recipes/hello.rhai exists already"), "{err}");
    assert!(!dir.join("hoist.toml").exists());
    std::fs::remove_file(dir.join("recipes/hello.rhai")).unwrap();

    let out = ok(hoist(&["init"]), "init");
    assert!(
        out.contains("The hosts are `local` (this machine)"),
        "{out}"
    );
    let next = next_commands(&out);
    assert_eq!(
        next,
        ["hoist facts", "hoist hello", "hoist recipes"],
        "{out}"
    );
    let me = String::from_utf8_lossy(&Command::new("uname").arg("-r").output().unwrap().stdout)
        .trim()
        .to_string();
    for line in &next {
        let words = shlex::split(line).unwrap();
        let out = ok(
            hoist(&words[1..].iter().map(String::as_str).collect::<Vec<_>>()),
            line,
        );
        if line == "hoist hello" {
            assert!(out.contains("local") && out.contains(&me), "{out}");
        }
        if line == "hoist recipes" {
            assert!(out.contains("hello") && out.contains("deploy"), "{out}");
        }
    }
    // An invalid host is refused naming it, before anything is written.
    let other = base.path().join("nc-bad");
    std::fs::create_dir(&other).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .current_dir(&other)
        .args(["init", "deploy@"])
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("hoist init deploy@"), "{err}");
    assert!(std::fs::read_dir(&other).unwrap().next().is_none());
}
