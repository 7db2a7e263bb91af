//! The built-in deploy family end to end, through the `hoist` binary, on the test fleet: the
//! controller builds and pushes to the fleet's TLS registry, two separate servers (host1 with
//! compose v2, host2 with v1) log in, pull into their own engines and run the release.
//! deploy → status → a broken deploy stopped at its pre-flight → deploy → upgrade --rollback / --image /
//! --confirm → exec → logs → destroy; then bluegreen on host3 and host4. Every check reads the
//! hosts themselves.

mod support;

use support::plan::{audited_last_run, host_state, plan_of, planned};

use std::process::Output;

use support::fleet::{Fleet, FleetHost, fleet};

struct Project {
    f: &'static Fleet,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    app: String,
    remote_dir: String,
    port: u16,
    hosts: Vec<&'static FleetHost>,
}

impl Project {
    fn hoist(&self, args: &[&str]) -> Output {
        self.f
            .hoist_cmd(self.dir.path())
            .env("HOME", self.home.path())
            .args(args)
            .output()
            .expect("run hoist")
    }

    /// Write the app's content for a version: `good` serves /index.html, a bad one does not.
    fn version(&self, text: &str, good: bool) {
        let ctx = self.dir.path().join("app");
        std::fs::create_dir_all(&ctx).unwrap();
        let copy = if good {
            "COPY index.html /www/index.html\n"
        } else {
            "RUN [\"rm\", \"/www/index.html\"]\n"
        };
        std::fs::write(
            ctx.join("Dockerfile"),
            format!("FROM {}\n{copy}", support::images::busybox()),
        )
        .unwrap();
        std::fs::write(ctx.join("index.html"), format!("{text}\n")).unwrap();
    }

    /// `hoist RECIPE --env test --app APP --dir DIR EXTRA...`
    fn recipe(&self, name: &str, extra: &[&str]) -> Output {
        let app = [
            "--env",
            "test",
            "--app",
            &self.app,
            "--dir",
            &self.remote_dir,
        ];
        // Not watched after the cutover (tests of the watch ask for one).
        let watch: &[&str] = if matches!(name, "deploy" | "upgrade") && !extra.contains(&"--watch")
        {
            &["--watch", "0"]
        } else {
            &[]
        };
        self.hoist(&[&[name][..], &app[..], watch, extra].concat())
    }

    fn deploy(&self, tag: &str) -> Output {
        let port = self.port.to_string();
        self.recipe(
            "deploy",
            &[
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
                "20",
            ],
        )
    }

    /// `hoist status --json`: the rows it returns (one per service per host).
    fn status(&self) -> serde_json::Value {
        let out = ok(&self.recipe("status", &["--json"]));
        let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        last["value"].clone()
    }

    /// What every host serves on the app's port (asked on the host itself); one answer when
    /// they all agree, else the answers joined.
    fn served(&self) -> String {
        let mut got: Vec<String> = self
            .hosts
            .iter()
            .map(|h| h.get(&format!("http://127.0.0.1:{}/index.html", self.port)))
            .collect();
        got.dedup();
        got.join(" | ")
    }

    /// A file of the project on every host (read there); must be the same everywhere.
    fn release_file(&self, name: &str) -> String {
        let mut got: Vec<String> = self
            .hosts
            .iter()
            .map(|h| h.read(&format!("{}/{name}", self.remote_dir)))
            .collect();
        got.dedup();
        assert_eq!(got.len(), 1, "{name} differs between hosts: {got:?}");
        got.remove(0)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        for h in &self.hosts {
            let compose = h.compose_cli();
            h.sh(&format!(
                "cd {d} && {compose} --project-name {a} down; rm -rf {d}",
                d = self.remote_dir,
                a = self.app
            ));
        }
    }
}

fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

fn project() -> Project {
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    let app = format!("hoistdemo{}", std::process::id());
    let remote_dir = format!("/tmp/hoist-deploy-{}", std::process::id());
    let port = 18401;
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
        format!("services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    stop_grace_period: 1s\n"),
    )
    .unwrap();
    Project {
        f,
        dir,
        home: tempfile::tempdir().unwrap(),
        app,
        remote_dir,
        port,
        hosts: vec![f.host(1), f.host(2)],
    }
}

#[test]
fn deploy_status_rollback_upgrade_exec_destroy() {
    let p = project();
    let image = |tag: &str| format!("{}/{}:{tag}", p.f.registry, p.app);

    // First release.
    p.version("v1", true);
    ok(&p.deploy("v1"));
    assert_eq!(p.served(), "v1");
    // The release is a record, pinned by the digest the image has on each host (read there),
    // in hoist's own files; the project has no .env of hoist's making, and `docker compose ps`
    // typed by hand in the directory sees the release.
    for h in &p.hosts {
        let live = h.live_release(&p.remote_dir);
        let digest = h.repo_digest(&image("v1"));
        assert!(
            digest.starts_with(&format!("{}/{}@sha256:", p.f.registry, p.app)),
            "{}: {digest}",
            h.name
        );
        assert_eq!(live["id"], "r1", "{}: {live}", h.name);
        assert_eq!(live["image"], image("v1"), "{}: {live}", h.name);
        assert_eq!(live["pinned"], digest.as_str(), "{}: {live}", h.name);
        assert_eq!(live["pin"], "digest", "{}: {live}", h.name);
        assert_eq!(live["recipe"], "deploy", "{}: {live}", h.name);
        assert_eq!(live["params"]["tag"], "v1", "{}: {live}", h.name);
        assert!(
            live["run_id"].as_str().is_some_and(|r| !r.is_empty()),
            "{live}"
        );
        assert!(
            live["user"].as_str().is_some_and(|u| !u.is_empty()),
            "{live}"
        );
        // The compose file's digest is the one of the file on the host.
        let sum = h.sh_ok(&format!(
            "cd {} && sha256sum docker-compose.yml | cut -d' ' -f1",
            p.remote_dir
        ));
        assert_eq!(live["files"]["docker-compose.yml"], sum.as_str(), "{live}");
        let pin = h.read(&format!("{}/docker-compose.override.yml", p.remote_dir));
        assert!(pin.contains(&digest), "{}: {pin}", h.name);
    }
    assert_eq!(p.release_file(".env"), "");
    for h in &p.hosts {
        let compose = h.compose_cli();
        let ps = h.sh_ok(&format!(
            "cd {} && {compose} --project-name {} ps -q",
            p.remote_dir, p.app
        ));
        assert_eq!(ps.lines().count(), 1, "{}: {ps}", h.name);
    }
    for h in &p.hosts {
        // Each host logged in to the registry itself (as `docker login` there would) and runs
        // the release on its own engine.
        let cfg = h.read("/root/.docker/config.json");
        assert!(cfg.contains(&p.f.registry), "{}: {cfg}", h.name);
        let running = h.sh_ok(&format!(
            "docker ps -q --filter label=com.docker.compose.project={} | xargs docker inspect -f '{{{{.Config.Image}}}}'",
            p.app
        ));
        assert_eq!(running, h.repo_digest(&image("v1")), "{}", h.name);
    }

    let status = p.status();
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{status}");
    for (row, h) in rows.iter().zip(&p.hosts) {
        assert_eq!(row["service"], "web");
        assert_eq!(row["state"], "running");
        assert_eq!(row["host"], h.spec());
        assert_eq!(row["release"], image("v1"), "{row}");
    }

    // A release that is not healthy never replaces the live one: it fails its pre-flight
    // beside it, and the old one keeps serving.
    p.version("broken", false);
    let o = p.deploy("v2");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("failed its pre-flight check") && err.contains("index.html"),
        "{err}"
    );
    assert_eq!(p.served(), "v1");
    // The attempt is recorded as failed; the live release is still r1.
    let outcomes = |h: &FleetHost| -> Vec<String> {
        h.releases(&p.remote_dir)
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["id"].as_str().unwrap(),
                    r["outcome"].as_str().unwrap(),
                    r["image"].as_str().unwrap()
                )
            })
            .collect()
    };
    for h in &p.hosts {
        assert_eq!(
            outcomes(h),
            [
                format!("r1 live {}", image("v1")),
                format!("r2 failed {}", image("v2"))
            ],
            "{}",
            h.name
        );
    }

    // A good second release, then a hand rollback, a re-upgrade and a confirm.
    p.version("v3", true);
    ok(&p.deploy("v3"));
    assert_eq!(p.served(), "v3");
    ok(&p.recipe("upgrade", &["--rollback"]));
    assert_eq!(p.served(), "v1");
    for h in &p.hosts {
        assert_eq!(
            outcomes(h),
            [
                format!("r1 live {}", image("v1")),
                format!("r2 failed {}", image("v2")),
                format!("r3 rolled-back {}", image("v3"))
            ],
            "{}",
            h.name
        );
    }
    // A second --rollback goes further back, never forward again: r1 has nothing before it.
    let o = p.recipe("upgrade", &["--rollback"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no previous release"));
    assert_eq!(p.served(), "v1");
    let port = p.port.to_string();
    let img3 = image("v3");
    ok(&p.recipe(
        "upgrade",
        &[
            "--image",
            &img3,
            "--services",
            "[\"web\"]",
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
        ],
    ));
    assert_eq!(p.served(), "v3");
    ok(&p.recipe("upgrade", &["--confirm"]));
    for h in &p.hosts {
        let live = h.live_release(&p.remote_dir);
        assert_eq!(
            (live["id"].as_str(), live["confirmed"].as_bool()),
            (Some("r4"), Some(true)),
            "{live}"
        );
    }
    let o = p.recipe("upgrade", &["--rollback"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no previous release"));
    // A named release is reachable whatever was confirmed; the one that failed is not.
    let o = p.recipe("upgrade", &["--to", "r2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("never went live"));
    ok(&p.recipe("upgrade", &["--to", "r1"]));
    assert_eq!(p.served(), "v1");
    ok(&p.recipe("upgrade", &["--to", "r4"]));
    assert_eq!(p.served(), "v3");
    // `hoist releases` shows each host's history, newest first, with the record's fields.
    let out = ok(&p.recipe("releases", &["--json"]));
    let rows: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    for h in &p.hosts {
        let mine: Vec<String> = rows["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["host"] == h.spec().as_str())
            .map(|r| {
                format!(
                    "{} {}",
                    r["id"].as_str().unwrap(),
                    r["outcome"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            mine,
            [
                "r4 live (confirmed)",
                "r3 rolled-back",
                "r2 failed",
                "r1 rolled-back"
            ],
            "{}: {rows}",
            h.name
        );
        let r4 = rows["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == h.spec().as_str() && r["id"] == "r4")
            .unwrap();
        assert_eq!(r4["pinned"], h.repo_digest(&image("v3")).as_str(), "{r4}");
        assert!(
            r4["files"]
                .as_str()
                .unwrap()
                .contains("docker-compose.yml="),
            "{r4}"
        );
        assert!(
            r4["params"]
                .as_str()
                .unwrap()
                .contains("services=[\"web\"]"),
            "{r4}"
        );
    }

    // exec in the service, on every host.
    let out = ok(&p.recipe(
        "exec",
        &["--service", "web", "--cmd", "cat /www/index.html"],
    ));
    for h in &p.hosts {
        assert!(out.contains(&format!("[{}] v3", h.spec())), "{out}");
    }
    ok(&p.recipe("logs", &["--tail", "5"]));

    // destroy asks; without a terminal it needs --yes.
    let o = p.recipe("destroy", &[]);
    assert_eq!(o.status.code(), Some(2));
    ok(&p.recipe("destroy", &["--yes"]));
    // Every host still has its row, saying the app has no container there.
    let status = p.status();
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{status}");
    for (row, h) in rows.iter().zip(&p.hosts) {
        assert_eq!(row["host"], h.spec());
        assert_eq!(row["state"], "absent", "{row}");
        assert_eq!(row["note"], "no containers", "{row}");
    }
    for h in &p.hosts {
        assert_eq!(
            h.sh_ok(&format!(
                "docker ps -aq --filter label=com.docker.compose.project={}",
                p.app
            )),
            "",
            "{}: destroyed",
            h.name
        );
    }
}

#[test]
fn bluegreen_deploys_the_idle_colour_switches_and_switches_back() {
    for n in [3, 4] {
        bluegreen_on(fleet().host(n));
    }
}

fn bluegreen_on(h: &'static FleetHost) {
    let f = fleet();
    f.login_hosts();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let app = format!("hoistbg{}", std::process::id());
    let remote = format!("/tmp/hoist-bg-{}", std::process::id());
    let (blue, green) = (18411, 18412);
    let v1 = f.page_image(&format!("{app}:v1"), "v1");
    let v2 = f.page_image(&format!("{app}:v2"), "v2");
    std::fs::write(
        d.join("hoist.toml"),
        format!("[env.test.hosts]\nweb = [\"{}\"]\n", h.spec()),
    )
    .unwrap();
    std::fs::write(d.join("compose.yml"), "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    stop_grace_period: 1s\n").unwrap();
    let reloads = format!("{remote}/reloads");
    let reload = format!("echo reload >> {reloads}");
    let (bp, gp) = (blue.to_string(), green.to_string());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "bluegreen",
            "--env",
            "test",
            "--app",
            &app,
            "--dir",
            &remote,
            "--blue-port",
            &bp,
            "--green-port",
            &gp,
        ];
        args.extend_from_slice(&[
            "--reload",
            &reload,
            "--health-path",
            "/index.html",
            "--timeout",
            "20",
        ]);
        args.extend_from_slice(extra);
        f.hoist_cmd(d).args(&args).output().unwrap()
    };
    let conf = || h.read(&format!("{remote}/proxy.conf"));
    let reload_count = || h.read(&reloads).lines().count();
    let get = |port: u16| h.get(&format!("http://127.0.0.1:{port}/index.html"));

    ok(&run(&["--image", &v1]));
    assert_eq!(get(blue), "v1");
    assert!(
        conf().contains(&format!("127.0.0.1:{blue}")) && conf().contains("blue"),
        "{}",
        conf()
    );
    assert_eq!(reload_count(), 1);

    // Planned first: the dry run changes nothing and names exactly what the switch does.
    let before = host_state(h, &[&remote], &app);
    let plan = plan_of(&ok(&run(&["--image", &v2, "--dry-run", "--json"])));
    assert_eq!(
        host_state(h, &[&remote], &app),
        before,
        "bluegreen --dry-run changed the host"
    );
    assert_eq!(plan["uncertain"], serde_json::json!([]), "{plan}");
    let mut want = planned(&plan);
    want.sort_by_key(|(h, _, _)| h.clone());
    ok(&run(&["--image", &v2]));
    assert_eq!(audited_last_run(d), want, "bluegreen: plan and run differ");
    assert_eq!(get(green), "v2");
    assert_eq!(get(blue), "v1", "the old colour keeps running");
    assert!(conf().contains(&format!("127.0.0.1:{green}")), "{}", conf());
    assert_eq!(reload_count(), 2);

    ok(&run(&["--switch-back"]));
    assert!(conf().contains(&format!("127.0.0.1:{blue}")), "{}", conf());
    assert_eq!(h.read(&format!("{remote}/live")).trim(), "blue");

    ok(&run(&["--retire"]));
    assert_eq!(get(green), "", "the idle colour is stopped");
    assert_eq!(get(blue), "v1");
    // Nothing to switch back to once retired: the check fails and the proxy stays.
    let o = run(&["--switch-back", "--timeout", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(conf().contains(&format!("127.0.0.1:{blue}")));

    let compose = h.compose_cli();
    for colour in ["blue", "green"] {
        h.sh(&format!(
            "cd {remote}/{colour} && {compose} --project-name {app}-{colour} down"
        ));
    }
    h.sh(&format!("rm -rf {remote}"));
}
