//! One path rule. Relative local paths resolve against the project directory (hoist.toml's;
//! with no hoist.toml, the directory of the script run) in every primitive, whatever the
//! current directory and wherever the script lives; `script_dir()` and `project_dir()` name
//! both. `~` on a remote host is that user's home in every primitive (fleet, user `deploy`).

mod support;

use std::path::Path;
use std::process::Output;

use support::fleet::{OnDrop, fleet};

fn hoist(cwd: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
        .env("NO_COLOR", "1")
        .env_remove("HOIST_ENV")
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run hoist")
}

fn value(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    last["value"].clone()
}

/// Every local primitive with a relative path; what it saw.
const PATHS: &str = "//! Use relative local paths.\n\
    let l = local();\n\
    l.write(\"written.txt\", \"w\");\n\
    l.upload(\"data.txt\", \"uploaded.txt\");\n\
    l.template(\"page.j2\", \"rendered.txt\", #{x: 7});\n\
    #{read: l.read(\"data.txt\"), ran: l.capture(\"cat data.txt\"), cwd: l.capture(\"pwd\", #{cwd: \"sub\"}),\n\
      exists: l.exists(\"written.txt\"), secret: secret_file(\"secret.txt\").expose().len(),\n\
      project: project_dir(), script: script_dir()}\n";

fn check(v: &serde_json::Value, project: &Path, script: &Path) {
    let p = project.display().to_string();
    assert_eq!(v["read"], "data\n", "{v}");
    assert_eq!(v["ran"], "data", "{v}");
    assert_eq!(v["cwd"], format!("{p}/sub"), "{v}");
    assert_eq!(v["exists"], true, "{v}");
    assert_eq!(
        v["secret"], 6,
        "secret_file() reads the project's secret.txt: {v}"
    );
    assert_eq!(v["project"], p, "{v}");
    assert_eq!(v["script"], script.display().to_string(), "{v}");
    for (f, text) in [
        ("written.txt", "w"),
        ("uploaded.txt", "data\n"),
        ("rendered.txt", "x=7"),
    ] {
        assert_eq!(
            std::fs::read_to_string(project.join(f)).unwrap_or_default(),
            text,
            "{f} in the project directory"
        );
        std::fs::remove_file(project.join(f)).unwrap();
    }
}

#[test]
fn relative_local_paths_resolve_against_the_project_in_every_primitive() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().canonicalize().unwrap();
    std::fs::write(p.join("hoist.toml"), "[env.dev.hosts]\nweb = [\"local\"]\n").unwrap();
    std::fs::write(p.join("data.txt"), "data\n").unwrap();
    std::fs::write(p.join("page.j2"), "x={{ x }}").unwrap();
    std::fs::write(p.join("secret.txt"), "s3cret\n").unwrap();
    for sub in ["sub", "scripts", "recipes"] {
        std::fs::create_dir(p.join(sub)).unwrap();
    }
    std::fs::write(p.join("scripts/paths.rhai"), PATHS).unwrap();
    std::fs::write(p.join("recipes/paths.rhai"), PATHS).unwrap();
    // A script in a subdirectory, run from another subdirectory.
    let v = value(&hoist(
        &p.join("sub"),
        &["run", "../scripts/paths.rhai", "--json"],
    ));
    check(&v, &p, &p.join("scripts"));
    // The same text as a project recipe (in recipes/): the same paths.
    let v = value(&hoist(&p.join("sub"), &["paths", "--json"]));
    check(&v, &p, &p.join("recipes"));
    // No hoist.toml (run from /): the script's own directory is the base.
    let bare = tempfile::tempdir().unwrap();
    let b = bare.path().canonicalize().unwrap();
    for f in ["data.txt", "page.j2", "secret.txt"] {
        std::fs::copy(p.join(f), b.join(f)).unwrap();
    }
    std::fs::create_dir(b.join("sub")).unwrap();
    std::fs::write(b.join("paths.rhai"), PATHS).unwrap();
    let v = value(&hoist(
        Path::new("/"),
        &["run", &b.join("paths.rhai").display().to_string(), "--json"],
    ));
    check(&v, &b, &b);
}

#[test]
fn a_leading_tilde_is_the_remote_users_home_in_every_primitive() {
    let f = fleet();
    let h = f.host(2);
    let id = std::process::id();
    let (src, clone) = (format!("/tmp/pa-src-{id}"), format!("pa-clone-{id}"));
    let _clean = OnDrop(|| {
        h.sh(&format!(
            "rm -rf {src} /home/deploy/{clone} /home/deploy/pa-home-{id} '/home/deploy/~'"
        ));
    });
    h.sh_ok(&format!(
        "su deploy -c 'set -e; git init -q -b main {src}; cd {src}; echo v1 > app.txt; git add .; \
         git -c user.name=t -c user.email=t@example.org commit -qm v1'"
    ));
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("local.txt"), "uploaded\n").unwrap();
    std::fs::write(
        d.path().join("tilde.rhai"),
        format!(
            "let h = ssh(\"{spec}\");\n\
             let r = h.git(\"~/{clone}\");\n\
             r.clone(\"{src}\");\n\
             h.mkdir(\"~/pa-home-{id}\");\n\
             h.write(\"~/pa-home-{id}/w.txt\", \"written\");\n\
             h.upload(\"local.txt\", \"~/pa-home-{id}/u.txt\");\n\
             h.append(\"~/pa-home-{id}/w.txt\", \"+more\");\n\
             #{{head: r.head(), pwd: h.capture(\"pwd\", #{{cwd: \"~/{clone}\"}}),\n\
               ls: h.capture(\"ls\", #{{cwd: \"~/{clone}\"}}), read: h.read(\"~/{clone}/app.txt\"),\n\
               exists: h.exists(\"~/pa-home-{id}/u.txt\"), literal: h.capture([\"echo\", \"~/x\"])}}\n",
            spec = h.spec_user("deploy"),
        ),
    )
    .unwrap();
    let o = f
        .hoist_cmd(d.path())
        .args(["run", "tilde.rhai", "--json"])
        .output()
        .unwrap();
    let v = value(&o);
    let head = h.sh_ok(&format!("su deploy -c 'git -C {src} rev-parse HEAD'"));
    assert_eq!(v["head"], head, "{v}");
    assert_eq!(v["pwd"], format!("/home/deploy/{clone}"), "{v}");
    assert_eq!(v["ls"], "app.txt", "{v}");
    assert_eq!(v["read"], "v1\n", "{v}");
    assert_eq!(v["exists"], true, "{v}");
    assert_eq!(
        v["literal"], "~/x",
        "argv a user wrote arrives byte for byte: {v}"
    );
    // Read through the host: the clone and the files are in deploy's home, owned by deploy,
    // and no directory literally named `~` was made.
    assert_eq!(h.read(&format!("/home/deploy/{clone}/app.txt")), "v1\n");
    assert_eq!(
        h.read(&format!("/home/deploy/pa-home-{id}/w.txt")),
        "written+more"
    );
    assert_eq!(
        h.read(&format!("/home/deploy/pa-home-{id}/u.txt")),
        "uploaded\n"
    );
    assert_eq!(
        h.sh_ok(&format!(
            "stat -c %U /home/deploy/{clone} /home/deploy/pa-home-{id}/u.txt"
        )),
        "deploy\ndeploy"
    );
    assert_eq!(
        h.sh("test -e '/home/deploy/~'").code,
        1,
        "no directory named ~"
    );
}
