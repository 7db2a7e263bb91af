//! The test fleet: real Debian servers as containers (systemd as PID 1, sshd, their own
//! Docker engine, cron), started by `scripts/fleet up N` once per test binary and shared by
//! its tests. Odd hosts have compose v2 (the CLI plugin), even hosts Debian's v1. A registry
//! with TLS (a test CA every host trusts) and authentication serves images to every engine.
//!
//! Assertions about a host read its state *through that host* (`FleetHost::sh`, a `docker
//! exec` into it) — never from this machine's disk. Faults (`cut`, `stop`, `rekey`, ...) go
//! through `scripts/fleet` too; a test that breaks a host owns it for the test (see
//! [`Fleet::exclusive`]) and restores it with [`Fault`]'s drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hoist::Runtime;
use hoist::host::SshOptions;
use hoist::report::Collect;

/// Hosts every test binary starts (host1..host4: v2, v1, v2, v1).
pub const SIZE: usize = 4;

pub struct Fleet {
    /// The state directory `scripts/fleet up` printed.
    pub dir: PathBuf,
    pub ssh_config: PathBuf,
    pub hoist_toml: PathBuf,
    pub hosts: Vec<FleetHost>,
    /// `IP:5000`: the registry every fleet engine pulls from (TLS, test CA, htpasswd).
    pub registry: String,
    pub registry_user: String,
    pub registry_password: String,
    /// Held by tests that break hosts, so they do not cut the fleet from under each other.
    faults: RwLock<()>,
}

#[derive(Clone, Debug)]
pub struct FleetHost {
    /// `host1` … : the ssh_config alias (user root).
    pub name: String,
    pub ip: String,
    pub n: usize,
}

/// What a command run through the host printed.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl FleetHost {
    /// The docker container that is this host.
    pub fn container(&self) -> String {
        format!("{}-{}", fleet_name(), self.name)
    }
    /// The host spec hoist is given (`host1`: resolved through the fleet's ssh_config).
    pub fn spec(&self) -> String {
        self.name.clone()
    }
    pub fn spec_user(&self, user: &str) -> String {
        format!("{user}@{}", self.name)
    }
    /// Odd hosts have compose v2 as a docker CLI plugin, even hosts Debian's v1.
    pub fn compose_v2(&self) -> bool {
        self.n % 2 == 1
    }
    /// The compose command line this host has: the v2 plugin on odd hosts, v1 on even ones.
    pub fn compose_cli(&self) -> &'static str {
        if self.compose_v2() {
            "docker compose"
        } else {
            "docker-compose"
        }
    }
    /// Take a test's compose app off the host: its project down, its directory and its lock
    /// (the fleet's ssh user is root) removed.
    pub fn remove_app(&self, app: &str, dir: &str) {
        // A host-side guard of a hoist run may still be undoing a step of the app (a test that
        // failed half-way): wait for it (up to 60 s), or it would bring containers back after
        // this clean-up.
        self.sh(&format!(
            "i=0; while ls /root/.hoist/guards 2>/dev/null | grep -qF -- '-{app}.'; do [ $i -ge 240 ] && break; sleep 0.25; i=$((i+1)); done; \
             cd {dir} && {} --project-name {app} down; rm -rf {dir} /root/.hoist/locks/{app}",
            self.compose_cli()
        ));
    }
    /// Run `sh -c script` ON the host (as root, through `docker exec`: independent of hoist).
    pub fn sh(&self, script: &str) -> Ran {
        let o = Command::new("docker")
            .args(["exec", &self.container(), "sh", "-c", script])
            .output()
            .unwrap_or_else(|e| panic!("cannot run docker exec: {e}"));
        Ran {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// `sh` that must succeed; its stdout, trimmed.
    pub fn sh_ok(&self, script: &str) -> String {
        let r = self.sh(script);
        assert_eq!(
            r.code, 0,
            "on {}: `{script}` failed ({}): {}{}",
            self.name, r.code, r.stdout, r.stderr
        );
        r.stdout.trim().to_string()
    }
    /// The content of a file on the host ("" when missing).
    pub fn read(&self, path: &str) -> String {
        let r = self.sh(&format!("cat {} 2>/dev/null", hoist::command::quote(path)));
        r.stdout
    }
    /// GET a URL from the host itself (curl), e.g. a port published on 127.0.0.1 there: the
    /// body, or "" when nothing answers.
    pub fn get(&self, url: &str) -> String {
        let r = self.sh(&format!(
            "curl -fsS -m 3 {} 2>/dev/null",
            hoist::command::quote(url)
        ));
        r.stdout.trim().to_string()
    }
    /// The release records of the project in `dir` (`.hoist/releases.jsonl`, one JSON object
    /// per line, oldest first), read on the host.
    pub fn releases(&self, dir: &str) -> Vec<serde_json::Value> {
        self.read(&format!("{dir}/.hoist/releases.jsonl"))
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("{}: a release record is not JSON ({e}): {l}", self.name)
                })
            })
            .collect()
    }
    /// The live release record of the project in `dir` (Null when none).
    pub fn live_release(&self, dir: &str) -> serde_json::Value {
        self.releases(dir)
            .into_iter()
            .rfind(|r| r["outcome"] == "live")
            .unwrap_or(serde_json::Value::Null)
    }
    /// `repo@sha256:…` of `image` in this host's engine (its RepoDigests entry), as the host's
    /// docker CLI reports it.
    pub fn repo_digest(&self, image: &str) -> String {
        // The repository: the name without its tag (the same bytes may sit in several).
        let repo = match image.rfind(':') {
            Some(i) if !image[i..].contains('/') => &image[..i],
            _ => image,
        };
        self.sh_ok(&format!(
            "docker image inspect -f '{{{{range .RepoDigests}}}}{{{{println .}}}}{{{{end}}}}' {} | grep -F {}@",
            hoist::command::quote(image),
            hoist::command::quote(repo)
        ))
    }
    /// `NAME STATE` of every container of compose project `project` (any state), sorted, as
    /// the host's docker CLI lists them by label.
    pub fn project_containers(&self, project: &str) -> String {
        self.sh_ok(&format!(
            "docker ps -a --filter label=com.docker.compose.project={project} --format '{{{{.Names}}}} {{{{.State}}}}' | sort"
        ))
    }
    /// Whether the host's engine has a `network` or `volume` (`kind`) of that name.
    pub fn has_docker(&self, kind: &str, name: &str) -> bool {
        self.sh(&format!("docker {kind} inspect {name} >/dev/null 2>&1"))
            .code
            == 0
    }
    /// This host's Docker engine ID, as its own docker CLI reports it.
    pub fn engine_id(&self) -> String {
        self.sh_ok("docker info --format '{{.ID}}'")
    }
}

impl Fleet {
    pub fn host(&self, n: usize) -> &FleetHost {
        &self.hosts[n - 1]
    }
    pub fn ssh_options(&self) -> SshOptions {
        SshOptions {
            config_file: Some(self.ssh_config.clone()),
            ..SshOptions::default()
        }
    }
    /// For a test that breaks hosts (or times a whole-fleet run): it runs alone among the
    /// tests of its binary that hold this or [`Fleet::hosts_up`] (test binaries run one at a
    /// time), so a fault never hits a test that did not ask for it.
    pub fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.faults.write().unwrap_or_else(|p| p.into_inner())
    }
    /// For a test that needs every host up but breaks none: such tests run alongside each
    /// other, never alongside an [`Fleet::exclusive`] one.
    pub fn hosts_up(&self) -> RwLockReadGuard<'_, ()> {
        self.faults.read().unwrap_or_else(|p| p.into_inner())
    }
    /// Inflict a fault (`cut`, `stop`, `kill`, `pause`, `rekey`); undone when the guard drops.
    pub fn fault<'a>(&'a self, verb: &str, host: &'a FleetHost) -> Fault<'a> {
        fleet_cmd(&[verb, &host.name]);
        Fault {
            fleet: self,
            verb: verb.to_string(),
            host,
            undone: false,
        }
    }
    /// The hoist binary, pointed at the fleet (ssh_config; cwd = a copy of its hoist.toml).
    pub fn hoist_cmd(&self, project: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hoist"));
        c.env("HOIST_SSH_CONFIG", &self.ssh_config)
            .env("NO_COLOR", "1")
            .env("REGISTRY_PASSWORD", &self.registry_password)
            .current_dir(project);
        c
    }
    /// A project directory holding the fleet's hoist.toml plus `extra` appended to it.
    pub fn project(&self, extra_toml: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let base = std::fs::read_to_string(&self.hoist_toml).unwrap();
        std::fs::write(d.path().join("hoist.toml"), format!("{base}{extra_toml}")).unwrap();
        d
    }
    /// A runtime wired to the fleet's ssh_config, collecting events.
    pub fn runtime(&self) -> (Arc<Runtime>, Arc<Collect>) {
        let events = Arc::new(Collect::default());
        let settings = hoist::Settings {
            ssh: self.ssh_options(),
            ..hoist::Settings::default()
        };
        let audit = tempfile::tempdir().unwrap().keep().join("audit.jsonl");
        let rt = Runtime::builder()
            .reporter(events.clone())
            .settings(settings)
            .inventory(hoist::inventory::Inventory::default())
            .audit_log(audit)
            .build()
            .unwrap();
        (rt, events)
    }
    /// A runtime as [`Fleet::runtime`] in `--dry-run` mode: changes are planned, not made.
    pub fn dry_runtime(&self) -> Arc<Runtime> {
        let (rt, _) = self.runtime();
        rt.services.effects().set_mode(hoist::effect::Mode::Plan);
        rt
    }
    /// Put a local image into the fleet registry (docker CLI: test set-up); its registry name.
    ///
    /// Pushes are one at a time in a test binary, and a repeated push of the same image is
    /// skipped: the registry (distribution 2.8) answers 500 "invalid checksum digest format"
    /// when two clients upload the same blob at once. One retry covers a push cut short.
    pub fn push(&self, local: &str, repo_tag: &str) -> String {
        static PUSHED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
        let target = format!("{}/{repo_tag}", self.registry);
        let mut pushed = PUSHED.lock().unwrap_or_else(|p| p.into_inner());
        let id = image_id(local);
        if pushed.iter().any(|(t, i)| *t == target && *i == id) {
            return target;
        }
        docker_ok(&["tag", local, &target]);
        login_controller(self);
        if !docker_succeeds(&["push", &target]) {
            std::thread::sleep(std::time::Duration::from_secs(1));
            docker_ok(&["push", &target]);
        }
        pushed.push((target.clone(), id));
        target
    }
    /// Build `repo_tag` from the test base image, serving `text` at /index.html, and put it in
    /// the fleet registry (docker CLI: test set-up, independent of the code under test); its
    /// registry name.
    pub fn page_image(&self, repo_tag: &str, text: &str) -> String {
        self.page_image_with(repo_tag, text, "")
    }
    /// [`Fleet::page_image`] with more Dockerfile lines (`CMD [...]`) after the page.
    pub fn page_image_with(&self, repo_tag: &str, text: &str, dockerfile_tail: &str) -> String {
        let project = tempfile::tempdir().unwrap();
        let ctx = super::images::page_context(project.path(), text);
        let dockerfile = ctx.join("Dockerfile");
        let head = std::fs::read_to_string(&dockerfile).unwrap();
        std::fs::write(&dockerfile, format!("{head}{dockerfile_tail}")).unwrap();
        let local = format!("hoist-test/{repo_tag}");
        super::images::build(&local, &ctx);
        self.push(&local, repo_tag)
    }
    /// Log `user` on `h` in to the fleet registry (their own docker credentials there).
    pub fn login_user(&self, h: &FleetHost, user: &str) {
        h.sh_ok(&format!(
            "echo {} | su {user} -c 'docker login -u {} --password-stdin {}' >/dev/null",
            hoist::command::quote(&self.registry_password),
            self.registry_user,
            self.registry
        ));
    }
    /// Log every host's engine in to the fleet registry (as `docker login` there would).
    pub fn login_hosts(&self) {
        for h in &self.hosts {
            h.sh_ok(&format!(
                "echo {} | docker login -u {} --password-stdin {} >/dev/null",
                hoist::command::quote(&self.registry_password),
                self.registry_user,
                self.registry
            ));
        }
    }
}

pub struct Fault<'a> {
    fleet: &'a Fleet,
    verb: String,
    host: &'a FleetHost,
    undone: bool,
}

impl Fault<'_> {
    /// Undo the fault now (heal, start, unpause; a rekey refreshes known_hosts).
    pub fn undo(&mut self) {
        if self.undone {
            return;
        }
        self.undone = true;
        match self.verb.as_str() {
            "cut" => fleet_cmd(&["heal", &self.host.name]),
            "stop" | "kill" => fleet_cmd(&["start", &self.host.name]),
            "pause" => fleet_cmd(&["unpause", &self.host.name]),
            // `up` rewrites known_hosts from the hosts' current keys.
            "rekey" => fleet_cmd(&["up", &self.fleet.hosts.len().to_string()]),
            _ => String::new(),
        };
    }
}

impl Drop for Fault<'_> {
    fn drop(&mut self) {
        self.undo();
    }
}

/// `HOIST_FLEET_NAME` (default `hoist-fleet`): which fleet `scripts/fleet` manages.
fn fleet_name() -> String {
    std::env::var("HOIST_FLEET_NAME").unwrap_or_else(|_| "hoist-fleet".to_string())
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scripts/fleet ARGS`: its stdout (it fails the test, with its stderr, when it fails).
pub fn fleet_cmd(args: &[&str]) -> String {
    let script = repo_root().join("scripts/fleet");
    let o = Command::new(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        o.status.success(),
        "scripts/fleet {} failed — it needs root, a running Docker engine and debootstrap \
         (apt-get install -y debootstrap; scripts/test installs it):\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn docker_succeeds(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The local image's ID (so a re-tagged, rebuilt image is pushed again).
fn image_id(image: &str) -> String {
    let o = Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Id}}", image])
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker: {e}"));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn docker_ok(args: &[&str]) {
    let o = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker: {e}"));
    assert!(
        o.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn login_controller(f: &Fleet) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let mut c = Command::new("docker");
        c.args([
            "login",
            "-u",
            &f.registry_user,
            "--password-stdin",
            &f.registry,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(f.registry_password.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "docker login to the fleet registry failed"
        );
    });
}

/// The fleet (started on first use; `scripts/fleet up` is idempotent, so test binaries share
/// the hosts a previous one started).
pub fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        let out = fleet_cmd(&["up", &SIZE.to_string()]);
        let dir = PathBuf::from(
            out.lines()
                .last()
                .expect("scripts/fleet up printed nothing")
                .trim(),
        );
        let read = |p: &str| {
            std::fs::read_to_string(dir.join(p))
                .unwrap()
                .trim()
                .to_string()
        };
        let ssh_config = std::fs::read_to_string(dir.join("ssh_config")).unwrap();
        let hosts = (1..=SIZE)
            .map(|n| {
                let name = format!("host{n}");
                let ip = ssh_config
                    .split(&format!("Host {name}\n  HostName "))
                    .nth(1)
                    .and_then(|r| r.lines().next())
                    .unwrap_or_else(|| panic!("{name} is not in the fleet's ssh_config"))
                    .to_string();
                FleetHost { name, ip, n }
            })
            .collect();
        let registry = std::fs::read_to_string(dir.join("hoist.toml"))
            .unwrap()
            .split("registry = \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string();
        Fleet {
            ssh_config: dir.join("ssh_config"),
            hoist_toml: dir.join("hoist.toml"),
            registry_user: read("registry/user"),
            registry_password: read("registry/password"),
            registry,
            hosts,
            dir,
            faults: RwLock::new(()),
        }
    })
}

/// Runs its closure when dropped: a test's clean-up on its hosts, run even when an assertion
/// fails half-way (the fleet outlives the test).
pub struct OnDrop<F: FnMut()>(pub F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}
