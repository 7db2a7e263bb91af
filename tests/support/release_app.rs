//! A compose app released on fleet hosts through the `hoist` binary, for the release-engine
//! tests: its local project (hoist.toml, compose.yml, the image's build context), its image
//! versions (what /index.html says tells a release apart in a request loop), and reads of
//! what each host runs — always through the host.

#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};

use super::fleet::{Fleet, FleetHost, fleet};

pub struct ReleaseApp {
    pub f: &'static Fleet,
    pub dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
    /// The app (compose project) name: `NAME` + this test process's pid.
    pub app: String,
    pub remote_dir: String,
    /// The host port the app's web service publishes (127.0.0.1 on each host).
    pub port: u16,
    pub hosts: Vec<&'static FleetHost>,
}

/// The compose file every version starts from: one `web` service of `${IMAGE}` on `port`.
pub fn base_compose(port: u16) -> String {
    format!(
        "services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    stop_grace_period: 1s\n"
    )
}

impl ReleaseApp {
    /// An app on `hosts` (fleet host numbers) of the fleet, published on `port`.
    pub fn new(name: &str, port: u16, hosts: &[usize]) -> ReleaseApp {
        let f = fleet();
        let dir = tempfile::tempdir().unwrap();
        let app = format!("{name}{}", std::process::id());
        let remote_dir = format!("/tmp/hoist-{name}-{}", std::process::id());
        let specs: Vec<String> = hosts.iter().map(|n| format!("\"host{n}\"")).collect();
        std::fs::write(
            dir.path().join("hoist.toml"),
            format!(
                "[env.test]\nvars = {{ registry = \"{}\" }}\n[env.test.hosts]\nweb = [{}]\n",
                f.registry,
                specs.join(", ")
            ),
        )
        .unwrap();
        let a = ReleaseApp {
            f,
            dir,
            home: tempfile::tempdir().unwrap(),
            app,
            remote_dir,
            port,
            hosts: hosts.iter().map(|n| f.host(*n)).collect(),
        };
        a.compose(&base_compose(port));
        a
    }

    /// The local compose file the next deploy takes.
    pub fn compose(&self, text: &str) {
        std::fs::write(self.dir.path().join("compose.yml"), text).unwrap();
    }

    /// The image's build context for the next deploy: the busybox test image serving `page` at
    /// /index.html, plus `dockerfile_tail` (e.g. a CMD, or removing /www/health so its own
    /// HEALTHCHECK fails).
    pub fn version(&self, page: &str, dockerfile_tail: &str) {
        let ctx = self.dir.path().join("app");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(
            ctx.join("Dockerfile"),
            format!(
                "FROM {}\nCOPY index.html /www/index.html\n{dockerfile_tail}\n",
                super::images::busybox()
            ),
        )
        .unwrap();
        std::fs::write(ctx.join("index.html"), format!("{page}\n")).unwrap();
    }

    pub fn image(&self, tag: &str) -> String {
        format!("{}/{}:{tag}", self.f.registry, self.app)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.f.hoist_cmd(self.dir.path());
        c.env("HOME", self.home.path()).args(args);
        c
    }

    fn deploy_args(&self, tag: &str, extra: &[&str]) -> Vec<String> {
        let port = self.port.to_string();
        let mut v: Vec<String> = [
            "deploy",
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
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
            "--watch",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    /// `hoist deploy` of `tag` (HTTP check on /index.html, no watch unless `extra` says).
    pub fn deploy(&self, tag: &str, extra: &[&str]) -> Output {
        let args = self.deploy_args(tag, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cmd(&args).output().expect("run hoist")
    }

    /// The same, started in a process group of its own (a signal can reach it as a terminal's
    /// would), output piped.
    pub fn spawn_deploy(&self, tag: &str, extra: &[&str]) -> Child {
        use std::os::unix::process::CommandExt;
        let args = self.deploy_args(tag, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cmd(&args)
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hoist")
    }

    /// `hoist upgrade` of this app with `extra` (HTTP check on /index.html, no watch unless
    /// `extra` says).
    pub fn upgrade_cmd(&self, extra: &[&str]) -> Command {
        let port = self.port.to_string();
        let mut args = vec![
            "upgrade",
            "--env",
            "test",
            "--app",
            &self.app,
            "--dir",
            &self.remote_dir,
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
        ];
        if !extra.contains(&"--watch") {
            args.extend(["--watch", "0"]);
        }
        args.extend_from_slice(extra);
        self.cmd(&args)
    }

    pub fn upgrade(&self, extra: &[&str]) -> Output {
        self.upgrade_cmd(extra).output().expect("run hoist")
    }

    /// What each host serves at /index.html now, one `|`-joined line ("" where nothing answers).
    pub fn served(&self) -> String {
        let mut got: Vec<String> = self
            .hosts
            .iter()
            .map(|h| h.get(&format!("http://127.0.0.1:{}/index.html", self.port)))
            .collect();
        got.dedup();
        got.join(" | ")
    }

    /// [`ReleaseApp::served`] once it says `want`, or after `secs` whatever it says.
    pub fn served_within(&self, want: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.served();
            if got == want || std::time::Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }

    /// The ids of the project's containers on `h` (its compose label), as the host lists them.
    pub fn container_ids(&self, h: &FleetHost, project: &str) -> String {
        h.sh_ok(&format!(
            "docker ps -aq --filter label=com.docker.compose.project={project} | sort"
        ))
    }

    /// `image state` of each container of the app on `h`.
    pub fn containers(&self, h: &FleetHost) -> String {
        h.sh_ok(&format!(
            "docker ps -aq --filter label=com.docker.compose.project={} | xargs -r docker inspect -f '{{{{.Name}}}} {{{{.Config.Image}}}} {{{{.State.Status}}}}' | sort",
            self.app
        ))
    }

    pub fn lock_dir(&self) -> String {
        format!("/root/.hoist/locks/{}", self.app)
    }

    pub fn locked_on(&self, h: &FleetHost) -> bool {
        h.sh(&format!("test -d {}", self.lock_dir())).code == 0
    }

    /// Nothing of a pre-flight is left on `h`: no container of APP-preflight, no file.
    pub fn no_preflight_left(&self, h: &FleetHost) -> bool {
        self.container_ids(h, &format!("{}-preflight", self.app))
            .is_empty()
            && h.sh(&format!("test -e {}/.hoist-preflight.yml", self.remote_dir))
                .code
                == 1
    }

    /// Guards of hoist runs still on `h` (files under ~/.hoist/guards), as `ls` lists them.
    pub fn guards_left(&self, h: &FleetHost) -> String {
        h.sh("ls -A /root/.hoist/guards 2>/dev/null")
            .stdout
            .trim()
            .to_string()
    }
}

impl Drop for ReleaseApp {
    fn drop(&mut self) {
        for h in &self.hosts {
            h.remove_app(&self.app, &self.remote_dir);
        }
        super::images::remove_matching(&self.app);
    }
}

/// A run's output, which must have succeeded (it fails the test with the output otherwise).
pub fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    format!("{out}{err}")
}

/// stdout and stderr of a run, whatever it did.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
