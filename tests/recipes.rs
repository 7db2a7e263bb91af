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

    fn deploy(&self, tag: &str) -> Output {
        let port = self.port.to_string();
        self.hoist(&[
            "deploy",
            "--env",
            "test",
            "--app",
            &self.app,
            "--user",
            &self.registry.user,
            "--context",
            "app",
            "--tag",
            tag,
            "--dir",
            &self.remote_dir,
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
            "--timeout",
            "20",
        ])
    }

    /// `hoist status --json`: the rows it returns.
    fn status(&self) -> serde_json::Value {
        let out = ok(&self.hoist(&[
            "status",
            "--env",
            "test",
            "--app",
            &self.app,
            "--dir",
            &self.remote_dir,
            "--json",
        ]));
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
    let base = [
        "upgrade",
        "--env",
        "test",
        "--app",
        &p.app,
        "--dir",
        &p.remote_dir,
    ];
    ok(&p.hoist(&[&base[..], &["--rollback"]].concat()));
    assert_eq!(p.served(), "v1");
    let port = p.port.to_string();
    let img3 = image("v3");
    ok(&p.hoist(
        &[
            &base[..],
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
        ]
        .concat(),
    ));
    assert_eq!(p.served(), "v3");
    ok(&p.hoist(&[&base[..], &["--confirm"]].concat()));
    assert_eq!(p.release_file(".hoist/previous.env"), "");
    let o = p.hoist(&[&base[..], &["--rollback"]].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no previous release"));

    // exec in the service, on every host.
    let out = ok(&p.hoist(&[
        "exec",
        "--env",
        "test",
        "--app",
        &p.app,
        "--dir",
        &p.remote_dir,
        "--service",
        "web",
        "--cmd",
        "cat /www/index.html",
    ]));
    assert!(out.contains(&format!("[{}] v3", sshd().spec(1))), "{out}");
    ok(&p.hoist(&[
        "logs",
        "--env",
        "test",
        "--app",
        &p.app,
        "--dir",
        &p.remote_dir,
        "--tail",
        "5",
    ]));

    // destroy asks; without a terminal it needs --yes.
    let o = p.hoist(&[
        "destroy",
        "--env",
        "test",
        "--app",
        &p.app,
        "--dir",
        &p.remote_dir,
    ]);
    assert_eq!(o.status.code(), Some(2));
    ok(&p.hoist(&[
        "destroy",
        "--env",
        "test",
        "--app",
        &p.app,
        "--dir",
        &p.remote_dir,
        "--yes",
    ]));
    assert_eq!(p.status(), serde_json::json!([]));
}
