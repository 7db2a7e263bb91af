//! `--dry-run` plans on the test fleet, through the `hoist` binary: a dry run changes nothing
//! (the hosts' files, containers, images and crontabs are read through the hosts before and
//! after), its plan equals, change for change, what the real run then records in the audit
//! log, a script that reads a placeholder is flagged at its line, diffs of a template, a
//! compose file and a `.env` edit are whole, and `--diff` shows what a real run changed.

mod support;

use std::process::Output;

use serde_json::Value;
use support::fleet::{Fleet, FleetHost, fleet};
use support::plan::{audited_last_run, host_state, plan_of, planned};

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "hoist failed: {}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The local engine's images (a build or a tag would add one).
fn local_images() -> String {
    let o = std::process::Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    lines.join("\n")
}

struct App {
    f: &'static Fleet,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    app: String,
    remote_dir: String,
    hosts: Vec<&'static FleetHost>,
}

impl App {
    fn new(name: &str, port: u16) -> App {
        let f = fleet();
        let dir = tempfile::tempdir().unwrap();
        let app = format!("{name}{}", std::process::id());
        let remote_dir = format!("/tmp/hoist-{name}-{}", std::process::id());
        std::fs::write(
            dir.path().join("hoist.toml"),
            format!(
                "[env.test]\nvars = {{ registry = \"{}\" }}\n[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n",
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
            hosts: vec![f.host(1), f.host(2)],
        }
    }

    fn version(&self, text: &str) {
        support::images::page_context(self.dir.path(), text);
    }

    fn deploy(&self, tag: &str, extra: &[&str]) -> Output {
        let mut c = self.f.hoist_cmd(self.dir.path());
        c.env("HOME", self.home.path()).args([
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
        ]);
        c.args(extra).output().expect("run hoist")
    }

    /// Any recipe of this app: `recipe --env test --app APP --dir DIR` plus `extra`.
    fn recipe(&self, recipe: &str, extra: &[&str]) -> Output {
        let mut c = self.f.hoist_cmd(self.dir.path());
        c.env("HOME", self.home.path()).args([
            recipe,
            "--env",
            "test",
            "--app",
            &self.app,
            "--dir",
            &self.remote_dir,
        ]);
        if matches!(recipe, "deploy" | "upgrade") {
            c.args(["--watch", "0"]);
        }
        c.args(extra).output().expect("run hoist")
    }

    /// `recipe` with `--dry-run` changes nothing on the hosts, then the real run makes exactly
    /// the planned changes (read from the audit log).
    fn plan_matches_run(&self, recipe: &str, args: &[&str]) {
        let before = self.state();
        let mut dry = args.to_vec();
        dry.extend(["--dry-run", "--json"]);
        let plan = plan_of(&ok(&self.recipe(recipe, &dry)));
        assert_eq!(self.state(), before, "{recipe} --dry-run changed a host");
        assert_eq!(plan["uncertain"], Value::Array(vec![]), "{plan}");
        let mut want = planned(&plan);
        assert!(!want.is_empty(), "{recipe}: an empty plan");
        want.sort_by_key(|(h, _, _)| h.clone());
        ok(&self.recipe(recipe, args));
        assert_eq!(audited_last_run(self.dir.path()), want, "{recipe}");
    }

    fn state(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| host_state(h, &[&self.remote_dir], &self.app))
            .collect()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        for h in &self.hosts {
            h.remove_app(&self.app, &self.remote_dir);
        }
    }
}

#[test]
fn deploy_upgrade_rollback_and_destroy_plan_exactly_what_they_then_do_and_change_nothing() {
    let a = App::new("dryrun", 18611);
    a.version("one");
    ok(&a.deploy("dr-v1", &[]));
    a.version("two");

    let before = (a.state(), local_images());
    let out = a.deploy("dr-v2", &["--dry-run", "--json"]);
    let stdout = ok(&out);
    assert_eq!(
        (a.state(), local_images()),
        before,
        "a dry run changed the hosts or the local engine"
    );
    let plan = plan_of(&stdout);
    assert_eq!(plan["complete"], true, "{stdout}");
    assert_eq!(plan["uncertain"], Value::Array(vec![]), "{stdout}");
    let steps = planned(&plan);
    let image = format!("{}/{}:dr-v2", a.f.registry, a.app);
    let old = format!("{}/{}:dr-v1", a.f.registry, a.app);
    let has = |host: &str, kind: &str, summary: &str| {
        steps
            .iter()
            .any(|(h, k, s)| h == host && k == kind && s.contains(summary))
    };
    assert!(has("local", "docker build", "/app"), "{steps:#?}");
    assert!(has("local", "docker push", &image), "{steps:#?}");
    for h in ["host1", "host2"] {
        assert!(has(h, "docker pull", &image), "{h}: {steps:#?}");
        assert!(has(h, "command", " up "), "{h}: {steps:#?}");
        assert!(
            has(h, "file", "/docker-compose.override.yml"),
            "{h}: {steps:#?}"
        );
    }
    // The pin's diff is whole: the old release's line out, the new one's in.
    let pin = plan["hosts"]["host1"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("docker-compose.override.yml"))
        })
        .unwrap();
    // Pinned by digest: the live one's as the host has it, the new one's once the planned
    // pull has brought it (a placeholder the plan names, and assumes).
    let path = format!("{}/docker-compose.override.yml", a.remote_dir);
    let pinned = |h: &FleetHost| h.repo_digest(&old);
    let planned_pin = |_h: &str| format!("{}/{}@sha256:{}", a.f.registry, a.app, "?".repeat(64));
    assert_eq!(
        pin["diff"].as_str().unwrap(),
        format!(
            "--- {path}\n+++ {path}\n@@ -2,4 +2,4 @@\n # The project's compose file, .env and env files are never rewritten.\n services:\n   web:\n-    image: \"{}\"  # {old}\n+    image: \"{}\"  # {image}\n",
            pinned(a.hosts[0]),
            planned_pin("host1")
        )
    );
    // compose's part, service by service, from the models and the containers' labels.
    let notes: Vec<String> = plan["hosts"]["host2"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["notes"].as_array().cloned().unwrap_or_default())
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        notes,
        [
            "web-preflight: create".to_string(),
            format!(
                "web: recreate (image {} → {})",
                pinned(a.hosts[1]),
                planned_pin("host2")
            )
        ]
    );
    let assumed = plan["assumed"].to_string();
    assert!(assumed.contains("becomes ready"), "{assumed}");
    assert!(assumed.contains("is pinned by the digest"), "{assumed}");

    // The real run then makes exactly the planned changes.
    ok(&a.deploy("dr-v2", &[]));
    let mut want = steps.clone();
    want.sort_by_key(|(h, _, _)| h.clone());
    assert_eq!(audited_last_run(a.dir.path()), want);
    for h in &a.hosts {
        assert_eq!(h.get("http://127.0.0.1:18611/index.html"), "two");
    }

    // upgrade (back to the first image), --rollback and destroy: each plans exactly what it does.
    a.plan_matches_run("upgrade", &["--image", &old]);
    for h in &a.hosts {
        assert_eq!(h.get("http://127.0.0.1:18611/index.html"), "one");
    }
    a.plan_matches_run("upgrade", &["--rollback"]);
    for h in &a.hosts {
        assert_eq!(h.get("http://127.0.0.1:18611/index.html"), "two");
    }

    // The live release again: the plan pins nothing new (only a record is added).
    let again = ok(&a.deploy("dr-v2", &["--dry-run"]));
    assert!(
        again.contains("releases.jsonl") && !again.contains("docker-compose.override.yml ("),
        "a plan of the live release re-pins it:\n{again}"
    );
    // The read-only recipes plan nothing and change nothing; exec plans its one command.
    let before = a.state();
    for recipe in ["status", "releases", "logs"] {
        let plan = plan_of(&ok(&a.recipe(recipe, &["--dry-run", "--json"])));
        assert_eq!(plan["changes"], 0, "{recipe}: {plan}");
    }
    let plan = plan_of(&ok(&a.recipe(
        "exec",
        &[
            "--service",
            "web",
            "--cmd",
            "touch /tmp/x",
            "--dry-run",
            "--json",
        ],
    )));
    assert_eq!(plan["changes"], 2, "exec: {plan}");
    assert_eq!(
        a.state(),
        before,
        "a read-only recipe's dry run changed a host"
    );
    a.plan_matches_run("destroy", &["--yes"]);
    for h in &a.hosts {
        assert_eq!(
            h.sh_ok(&format!(
                "docker ps -aq --filter label=com.docker.compose.project={}",
                a.app
            )),
            ""
        );
    }
}

#[test]
fn a_plan_shows_whole_diffs_and_flags_the_line_that_reads_a_placeholder() {
    let f = fleet();
    let h = f.host(3);
    let dir = format!("/tmp/hoist-dryplan-{}", std::process::id());
    h.sh_ok(&format!(
        "rm -rf {dir}; mkdir -p {dir} && printf 'A=1\\nB=2\\n# keep me\\n' > {dir}/.env && \
         printf 'services:\\n  web:\\n    image: busybox:1\\n' > {dir}/compose.yml && \
         printf 'port = 80\\n' > {dir}/app.conf"
    ));
    let project = f.project("");
    std::fs::write(
        project.path().join("app.conf.j2"),
        "port = {{ port }}\nname = {{ name }}\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("plan.rhai"),
        format!(
            r#"let h = hosts("host3")[0];
let d = "{dir}";
h.template("app.conf.j2", d + "/app.conf", #{{port: 8080, name: "web"}});
h.compose(d).write("services:\n  web:\n    image: busybox:2\n");
h.set_env(d + "/.env", #{{B: "3", C: "new"}});
if h.test("test -e " + d + "/flag") {{ print("flag"); }}
let out = h.run("hostname");
let same = h.capture("cat " + d + "/app.conf");
if out.stdout == "" {{ print("no output"); }}
same
"#
        ),
    )
    .unwrap();
    let before = host_state(h, &[&dir], "hoist-dryplan");
    let run = |extra: &[&str]| {
        f.hoist_cmd(project.path())
            .args(["run", "plan.rhai", "--env", "fleet"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--dry-run"]);
    let stdout = ok(&out);
    assert_eq!(
        host_state(h, &[&dir], "hoist-dryplan"),
        before,
        "the dry run changed host3"
    );
    let expected = format!(
        "Plan (dry run: nothing was changed)
[host3] ~ file: write {dir}/app.conf (23 bytes)
[host3] --- {dir}/app.conf
[host3] +++ {dir}/app.conf
[host3] @@ -1 +1,2 @@
[host3] -port = 80
[host3] +port = 8080
[host3] +name = web
[host3] ~ command: mkdir -p -- {dir}
[host3] ~ file: write {dir}/compose.yml (38 bytes)
[host3] --- {dir}/compose.yml
[host3] +++ {dir}/compose.yml
[host3] @@ -1,3 +1,3 @@
[host3]  services:
[host3]    web:
[host3] -    image: busybox:1
[host3] +    image: busybox:2
[host3] ~ file: write {dir}/.env (24 bytes)
[host3] --- {dir}/.env
[host3] +++ {dir}/.env
[host3] @@ -1,3 +1,4 @@
[host3]  A=1
[host3] -B=2
[host3] +B=3
[host3]  # keep me
[host3] +C=new
[host3] ~ command: test -e {dir}/flag
[host3] ~ command: hostname
[host3] assumed: `test -e {dir}/flag` exits 0 (h.test of a command that is not a probe)
uncertain from plan.rhai:9 on: the script reads the output of a command the dry run did not run (a placeholder: code 0, no output); use h.capture() for read-only commands so they run in a plan too
6 change(s) on 1 host(s).
"
    );
    // The script's prints come first (it printed while it ran: the planned h.test answered
    // yes, as the plan says), then the plan — what a dry run is for — then the script's value
    // (the capture ran for real: a probe).
    assert_eq!(stdout, format!("flag\nno output\n{expected}port = 80\n"));

    // A real run with --diff shows the same diffs, and makes the changes.
    let out = run(&["--diff"]);
    let stdout = ok(&out);
    assert!(
        stdout.contains("[host3] -B=2\n[host3] +B=3\n[host3]  # keep me\n[host3] +C=new"),
        "{stdout}"
    );
    assert_eq!(
        h.read(&format!("{dir}/app.conf")),
        "port = 8080\nname = web\n"
    );
    assert_eq!(
        h.read(&format!("{dir}/.env")),
        "A=1\nB=3\n# keep me\nC=new\n"
    );
    // The audit log holds the changes, not the probes, and `hoist log` reads them back.
    let log = f
        .hoist_cmd(project.path())
        .args(["log", "--json"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&log.stdout).unwrap();
    let whats: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        whats,
        [
            format!("write {dir}/app.conf (23 bytes)").as_str(),
            &format!("mkdir -p -- {dir}"),
            &format!("write {dir}/compose.yml (38 bytes)"),
            &format!("write {dir}/.env (24 bytes)"),
            &format!("test -e {dir}/flag"),
            "hostname",
        ]
    );
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["recipe"] == "plan.rhai" && r["host"] == "host3"),
        "{rows}"
    );
    // With everything in place, a plan of the same files has nothing to do.
    std::fs::write(
        project.path().join("same.rhai"),
        format!(
            "let h = hosts(\"host3\")[0];\nh.template(\"app.conf.j2\", \"{dir}/app.conf\", #{{port: 8080, name: \"web\"}});\nh.set_env(\"{dir}/.env\", #{{B: \"3\"}});\n"
        ),
    )
    .unwrap();
    let out = f
        .hoist_cmd(project.path())
        .args(["run", "same.rhai", "--env", "fleet", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(
        ok(&out),
        "Plan (dry run: nothing was changed)\nNothing to do: the run would change nothing.\nfalse\n",
        "the plan is empty, and set_env's value (changed?), after it, is false"
    );
    h.sh(&format!("rm -rf {dir}"));
}
