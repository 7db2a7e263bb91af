//! The built-in deploy family end to end, through the `hoist` binary, against the real
//! parts: a registry with authentication, the docker engine, compose v1 and an SSH host.
//! deploy → status → a broken deploy rolled back → deploy → upgrade --rollback / --image /
//! --confirm → exec → logs → destroy.

mod support;

use std::path::Path;
use std::process::Output;

use support::{hoist_cmd, sshd};

struct Project {
    dir: tempfile::TempDir,
    registry: support::registry::TestRegistry,
    home: tempfile::TempDir,
    app: String,
    remote_dir: String,
    port: u16,
}

impl Project {
    fn hoist(&self, args: &[&str]) -> Output {
        hoist_cmd()
            .current_dir(self.dir.path())
            .env("HOME", self.home.path())
            .env("REGISTRY_PASSWORD", &self.registry.password)
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
        self.hoist(&[&[name][..], &app[..], extra].concat())
    }

    fn deploy(&self, tag: &str) -> Output {
        let port = self.port.to_string();
        self.recipe(
            "deploy",
            &[
                "--user",
                &self.registry.user,
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

    /// `hoist status --json`: the rows it returns.
    fn status(&self) -> serde_json::Value {
        let out = ok(&self.recipe("status", &["--json"]));
        let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        last["value"].clone()
    }

    fn served(&self) -> String {
        let o = std::process::Command::new("busybox")
            .args([
                "wget",
                "-q",
                "-O",
                "-",
                &format!("http://127.0.0.1:{}/index.html", self.port),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    fn release_file(&self, name: &str) -> String {
        std::fs::read_to_string(Path::new(&self.remote_dir).join(name)).unwrap_or_default()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker-compose")
            .args(["--project-name", &self.app, "down"])
            .current_dir(&self.remote_dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.remote_dir);
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
    let registry = support::registry::start();
    let dir = tempfile::tempdir().unwrap();
    let app = format!("hoistdemo{}", std::process::id());
    let remote_dir = format!("/tmp/hoist-deploy-{}", std::process::id());
    let port = support::free_port();
    std::fs::write(
        dir.path().join("hoist.toml"),
        format!(
            "[env.test]\nvars = {{ registry = \"{}\" }}\n[env.test.hosts]\nweb = [\"{}\"]\n",
            registry.addr,
            sshd().spec(1)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.yml"),
        format!("services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    stop_grace_period: 1s\n"),
    )
    .unwrap();
    Project {
        dir,
        registry,
        home: tempfile::tempdir().unwrap(),
        app,
        remote_dir,
        port,
    }
}

#[test]
fn deploy_status_rollback_upgrade_exec_destroy() {
    let p = project();
    let image = |tag: &str| format!("{}/{}:{tag}", p.registry.addr, p.app);

    // First release.
    p.version("v1", true);
    ok(&p.deploy("v1"));
    assert_eq!(p.served(), "v1");
    assert_eq!(p.release_file(".env"), format!("IMAGE={}\n", image("v1")));
    assert!(p.release_file(".hoist/releases.log").contains(&image("v1")));
    // The remote host logged in to the registry itself (as `docker login` there would).
    let cfg = std::fs::read_to_string("/root/.docker/config.json").unwrap_or_default();
    assert!(
        cfg.contains(&p.registry.addr),
        "the host's docker config has the registry"
    );

    let status = p.status();
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["service"], "web");
    assert_eq!(rows[0]["state"], "running");
    assert_eq!(rows[0]["host"], sshd().spec(1));

    // A release that is not healthy is rolled back; the old one keeps serving.
    p.version("broken", false);
    let o = p.deploy("v2");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rolling back") && err.contains("index.html"),
        "{err}"
    );
    assert_eq!(p.served(), "v1");
    assert_eq!(p.release_file(".env"), format!("IMAGE={}\n", image("v1")));
    assert_eq!(
        p.release_file(".hoist/previous.env"),
        "",
        "a failed release leaves the record as it was"
    );

    // A good second release, then a hand rollback, a re-upgrade and a confirm.
    p.version("v3", true);
    ok(&p.deploy("v3"));
    assert_eq!(p.served(), "v3");
    assert_eq!(
        p.release_file(".hoist/previous.env"),
        format!("IMAGE={}\n", image("v1"))
    );
    ok(&p.recipe("upgrade", &["--rollback"]));
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
    assert_eq!(p.release_file(".hoist/previous.env"), "");
    let o = p.recipe("upgrade", &["--rollback"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no previous release"));

    // exec in the service, on every host.
    let out = ok(&p.recipe(
        "exec",
        &["--service", "web", "--cmd", "cat /www/index.html"],
    ));
    assert!(out.contains(&format!("[{}] v3", sshd().spec(1))), "{out}");
    ok(&p.recipe("logs", &["--tail", "5"]));

    // destroy asks; without a terminal it needs --yes.
    let o = p.recipe("destroy", &[]);
    assert_eq!(o.status.code(), Some(2));
    ok(&p.recipe("destroy", &["--yes"]));
    assert_eq!(p.status(), serde_json::json!([]));
}

/// Build `tag` from the test base image, serving `text` at /index.html (docker CLI: test set-up,
/// independent of the code under test).
fn local_image(tag: &str, text: &str) {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("index.html"), format!("{text}\n")).unwrap();
    let base = support::images::busybox();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {base}\nCOPY index.html /www/index.html\n"),
    )
    .unwrap();
    support::images::build(tag, ctx.path());
}

fn get(port: u16) -> String {
    let o = std::process::Command::new("busybox")
        .args([
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://127.0.0.1:{port}/index.html"),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn bluegreen_deploys_the_idle_colour_switches_and_switches_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let app = format!("hoistbg{}", std::process::id());
    let remote = format!("/tmp/hoist-bg-{}", std::process::id());
    let (blue, green) = (support::free_port(), support::free_port());
    let (v1, v2) = (
        format!("hoist-test/{app}:v1"),
        format!("hoist-test/{app}:v2"),
    );
    local_image(&v1, "v1");
    local_image(&v2, "v2");
    std::fs::write(
        d.join("hoist.toml"),
        format!("[env.test.hosts]\nweb = [\"{}\"]\n", sshd().spec(2)),
    )
    .unwrap();
    std::fs::write(d.join("compose.yml"), "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    stop_grace_period: 1s\n").unwrap();
    let reloads = d.join("reloads");
    let reload = format!("echo reload >> {}", reloads.display());
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
        hoist_cmd().current_dir(d).args(&args).output().unwrap()
    };
    let conf = || std::fs::read_to_string(format!("{remote}/proxy.conf")).unwrap_or_default();
    let reload_count = || {
        std::fs::read_to_string(&reloads)
            .unwrap_or_default()
            .lines()
            .count()
    };

    ok(&run(&["--image", &v1]));
    assert_eq!(get(blue), "v1");
    assert!(
        conf().contains(&format!("127.0.0.1:{blue}")) && conf().contains("blue"),
        "{}",
        conf()
    );
    assert_eq!(reload_count(), 1);

    ok(&run(&["--image", &v2]));
    assert_eq!(get(green), "v2");
    assert_eq!(get(blue), "v1", "the old colour keeps running");
    assert!(conf().contains(&format!("127.0.0.1:{green}")), "{}", conf());
    assert_eq!(reload_count(), 2);

    ok(&run(&["--switch-back"]));
    assert!(conf().contains(&format!("127.0.0.1:{blue}")), "{}", conf());
    assert_eq!(
        std::fs::read_to_string(format!("{remote}/live"))
            .unwrap()
            .trim(),
        "blue"
    );

    ok(&run(&["--retire"]));
    assert_eq!(get(green), "", "the idle colour is stopped");
    assert_eq!(get(blue), "v1");
    // Nothing to switch back to once retired: the check fails and the proxy stays.
    let o = run(&["--switch-back", "--timeout", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(conf().contains(&format!("127.0.0.1:{blue}")));

    for colour in ["blue", "green"] {
        let _ = std::process::Command::new("docker-compose")
            .args(["--project-name", &format!("{app}-{colour}"), "down"])
            .current_dir(format!("{remote}/{colour}"))
            .output();
    }
    let _ = std::fs::remove_dir_all(&remote);
    for tag in [&v1, &v2] {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", tag])
            .output();
    }
}
