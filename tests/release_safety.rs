//! Safe releases on the test fleet (host1: compose v2, host2: compose v1), through the `hoist`
//! binary: the per-app lock (two concurrent deploys, a stale lock, --lock-wait, the lock
//! released after a failed deploy); health before traffic (a release that fails its check
//! never serves, under a request loop); interrupts that undo (SIGINT while the live
//! containers are being replaced). Every check reads the hosts themselves.

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Child, Output, Stdio};

use support::fleet::{Fleet, FleetHost, fleet};

struct App {
    f: &'static Fleet,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    app: String,
    remote_dir: String,
    port: u16,
    hosts: Vec<&'static FleetHost>,
}

impl App {
    /// A compose app on host1 and host2 named `name-PID`, published on `port`. Its service also
    /// serves the project's `gate/` directory at /gate/, so a test decides when a health
    /// check on /gate/ok.html passes (by creating the file on the host).
    fn new(name: &str, port: u16) -> App {
        App::with_grace(name, port, "1s")
    }

    /// As `new`, with the service's stop_grace_period (busybox httpd as PID 1 ignores
    /// SIGTERM, so stopping a container takes that long: a window inside a recreate).
    fn with_grace(name: &str, port: u16, grace: &str) -> App {
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
                "services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    volumes:\n      - ./gate:/www/gate\n    stop_grace_period: {grace}\n"
            ),
        )
        .unwrap();
        let a = App {
            f,
            dir,
            home: tempfile::tempdir().unwrap(),
            app,
            remote_dir,
            port,
            hosts: vec![f.host(1), f.host(2)],
        };
        for h in &a.hosts {
            h.sh_ok(&format!("mkdir -p {}/gate", a.remote_dir));
        }
        a
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.f.hoist_cmd(self.dir.path());
        c.env("HOME", self.home.path()).args(args);
        c
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

    /// `hoist deploy` of `tag` with an HTTP check on `path`, plus `extra` flags.
    fn deploy_args(&self, tag: &str, path: &str, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
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
            "--health-port",
            &self.port.to_string(),
            "--health-path",
            path,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    fn deploy(&self, tag: &str, path: &str, extra: &[&str]) -> Output {
        let args = self.deploy_args(tag, path, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cmd(&args).output().expect("run hoist")
    }

    fn spawn_deploy(&self, tag: &str, path: &str, extra: &[&str]) -> Child {
        let args = self.deploy_args(tag, path, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hoist")
    }

    /// Wait (failing with the run's output if it ends first) until the live release record
    /// on both hosts names `image`: the moment a release starts replacing the live one.
    fn until_live_on_both(&self, what: &str, image: &str, run: &mut Child) {
        until(
            what,
            || {
                self.hosts
                    .iter()
                    .all(|h| h.live_release(&self.remote_dir)["image"] == image)
            },
            run,
        );
    }

    fn lock(&self, action: &str) -> Output {
        self.cmd(&[
            "lock", action, "--env", "test", "--app", &self.app, "--json",
        ])
        .output()
        .expect("run hoist")
    }

    /// The lock directory on a host (the fleet's ssh user is root).
    fn lock_dir(&self) -> String {
        format!("/root/.hoist/locks/{}", self.app)
    }

    fn locked_on(&self, h: &FleetHost) -> bool {
        h.sh(&format!("test -d {}", self.lock_dir())).code == 0
    }

    /// Put a lock record on `h` by hand, as a run with this holder would have left it.
    fn plant_lock(&self, h: &FleetHost, controller: &str, pid: u32) {
        self.plant_lock_since(h, controller, pid, 0)
    }

    /// The same, taken `age` seconds ago.
    fn plant_lock_since(&self, h: &FleetHost, controller: &str, pid: u32, age: u64) {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - age;
        h.sh_ok(&format!(
            "mkdir -p {d} && printf 'user=tester\\ncontroller=%s\\npid={pid}\\nrun_id=planted-{pid}\\nrecipe=deploy\\nsince={since}\\n' {c} > {d}/holder",
            d = self.lock_dir(),
            c = hoist::command::quote(controller),
        ));
    }

    /// What the hosts serve once they answer (up to 20 s): after an interrupt that landed while
    /// compose recreated the container, the restored one needs a moment to listen again.
    fn served_again(&self, want: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let got = self.served();
            if got == want || std::time::Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }

    /// What the hosts serve once they answer `want`, or after `secs` whatever they serve.
    fn served_again_within(&self, want: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.served();
            if got == want || std::time::Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }

    fn served(&self) -> String {
        let mut got: Vec<String> = self
            .hosts
            .iter()
            .map(|h| h.get(&format!("http://127.0.0.1:{}/index.html", self.port)))
            .collect();
        got.dedup();
        got.join(" | ")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        for h in &self.hosts {
            h.remove_app(&self.app, &self.remote_dir);
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

/// Poll (no deadline: the test harness's own timeout bounds a hang) until `cond` holds.
fn until(what: &str, mut cond: impl FnMut() -> bool, child: &mut Child) {
    loop {
        if cond() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output_taken();
            panic!("the run ended ({status}) before {what}:\n{out}");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

trait TakeOutput {
    fn wait_with_output_taken(&mut self) -> String;
}

impl TakeOutput for Child {
    fn wait_with_output_taken(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(mut o) = self.stdout.take() {
            let _ = o.read_to_string(&mut s);
        }
        if let Some(mut e) = self.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

/// The rows of a `--json` run's result.
fn lock_rows(o: &Output) -> Vec<serde_json::Value> {
    let out = ok(o);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    last["value"].as_array().unwrap().clone()
}

#[test]
fn a_second_deploy_is_refused_naming_the_holder_and_the_lock_goes_after_success_and_failure() {
    let a = App::new("lockdemo", 18421);
    a.version("v1", true);

    // Deploy A waits in its health check until /gate/ok.html exists, holding the lock.
    let mut first = a.spawn_deploy("v1", "/gate/ok.html", &["--timeout", "120"]);
    let pid = first.id();
    until(
        "the first deploy held the lock on both hosts",
        || a.hosts.iter().all(|h| a.locked_on(h)),
        &mut first,
    );
    let status = lock_rows(&a.lock("status"));
    assert_eq!(status.len(), 2, "{status:?}");
    for row in &status {
        assert_eq!(row["state"], "held", "{row}");
        assert!(
            row["holder"]
                .as_str()
                .unwrap()
                .contains(&format!("pid {pid}")),
            "{row}"
        );
    }

    // Deploy B is refused at once, naming A; it changed nothing.
    a.version("v2", true);
    let second = a.deploy("v2", "/index.html", &[]);
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("`{}` is locked on host1", a.app))
            && err.contains(&format!("pid {pid}"))
            && err.contains("recipe deploy")
            && err.contains("--lock-wait"),
        "{err}"
    );
    assert!(!err.contains("Build"), "refused before building: {err}");

    // Let A pass its check: it finishes, and removes its lock everywhere.
    for h in &a.hosts {
        h.sh_ok(&format!("echo ok > {}/gate/ok.html", a.remote_dir));
    }
    let out = first.wait_with_output().unwrap();
    ok(&out);
    assert_eq!(a.served(), "v1");
    for h in &a.hosts {
        assert!(!a.locked_on(h), "{}: lock left after success", h.name);
    }

    // A deploy that fails its health check is rolled back and leaves no lock behind.
    a.version("broken", false);
    let bad = a.deploy("v3", "/index.html", &["--timeout", "10"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(a.served(), "v1");
    for h in &a.hosts {
        assert!(!a.locked_on(h), "{}: lock left after a failure", h.name);
    }
    for row in lock_rows(&a.lock("status")) {
        assert_eq!(row["state"], "free", "{row}");
    }
}

#[test]
fn a_dead_holders_lock_is_taken_over_a_foreign_stale_one_is_refused_and_lock_wait_waits() {
    let a = App::new("lockstale", 18422);
    a.version("v1", true);
    let me = hoist::release::lock::controller_name();

    // A holder that is gone from this controller cannot hold anything: its lock is taken
    // over, and the run says whose it was.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    a.plant_lock(a.f.host(2), &me, gone_pid);
    let o = a.deploy("v1", "/index.html", &[]);
    let said = ok(&o) + String::from_utf8_lossy(&o.stderr).as_ref();
    assert!(
        said.contains(&format!(
            "host2: took over the lock `{}` of a run that is gone",
            a.app
        )) && said.contains(&format!("process {gone_pid} is gone")),
        "{said}"
    );
    for h in &a.hosts {
        assert!(!a.locked_on(h), "{}", h.name);
    }

    // A holder on another controller cannot be checked from here: refused, and when it is
    // older than any release takes, reported as stale with the way out.
    a.plant_lock_since(
        a.f.host(2),
        "elsewhere.example",
        4242,
        hoist::release::lock::TTL_SECS + 60,
    );
    let o = a.deploy("v1", "/index.html", &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is locked on host2")
            && err.contains("stale")
            && err.contains("older than")
            && err.contains(&format!("hoist lock release --app {}", a.app)),
        "{err}"
    );
    // All or none: host1's lock, taken first, was given back.
    assert!(!a.locked_on(a.f.host(1)));
    let rows = lock_rows(&a.lock("status"));
    let host2 = rows.iter().find(|r| r["host"] == "host2").unwrap();
    assert_eq!(host2["state"], "stale", "{rows:?}");
    let rows = lock_rows(&a.lock("release"));
    assert!(rows.iter().any(|r| r["state"] == "released"), "{rows:?}");
    assert!(!a.locked_on(a.f.host(2)));

    // A live holder (this test process) on host1: --lock-wait waits for it to go.
    a.plant_lock(a.f.host(1), &me, std::process::id());
    let mut waiting = a.spawn_deploy("v1", "/index.html", &["--lock-wait", "300"]);
    // The waiting run keeps asking host1; give it time to ask at least once.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "the run waits while the lock is held: {}",
        waiting.wait_with_output_taken()
    );
    a.f.host(1).sh_ok(&format!("rm -rf {}", a.lock_dir()));
    ok(&waiting.wait_with_output().unwrap());
    assert_eq!(a.served(), "v1");
    for h in &a.hosts {
        assert!(!a.locked_on(h), "{}", h.name);
    }
}

/// A request loop on a host against the app's published port, from the host itself (curl),
/// until [`Probe::stop`]: every answer or failure is one line of a log on the host.
struct Probe<'a> {
    h: &'a FleetHost,
    tag: String,
}

impl<'a> Probe<'a> {
    fn start(h: &'a FleetHost, a: &App, tag: &str) -> Probe<'a> {
        let tag = format!("/tmp/probe-{}-{tag}", a.app);
        h.sh_ok(&format!(
            "rm -f {tag}.stop {tag}.log {tag}.pid; setsid sh -c 'echo $$ > {tag}.pid; while [ ! -f {tag}.stop ]; do if curl -fsS -m 2 http://127.0.0.1:{port}/index.html >/dev/null 2>&1; then echo ok; else echo FAIL; fi; done > {tag}.log' </dev/null >/dev/null 2>&1 & while [ ! -s {tag}.pid ]; do sleep 0.1; done",
            port = a.port
        ));
        Probe { h, tag }
    }

    /// Stop the loop; (answered, failed) requests.
    fn stop(self) -> (usize, usize) {
        self.h.sh_ok(&format!(
            "touch {t}.stop; while kill -0 \"$(cat {t}.pid)\" 2>/dev/null; do sleep 0.2; done",
            t = self.tag
        ));
        let log = self.h.read(&format!("{}.log", self.tag));
        let ok = log.lines().filter(|l| *l == "ok").count();
        let failed = log.lines().filter(|l| *l == "FAIL").count();
        (ok, failed)
    }
}

fn live_ids(h: &FleetHost, project: &str) -> String {
    h.sh_ok(&format!(
        "docker ps -aq --filter label=com.docker.compose.project={project}"
    ))
}

#[test]
fn a_release_that_fails_its_check_never_takes_traffic() {
    let a = App::new("preflight", 18423);
    a.version("v1", true);
    ok(&a.deploy("v1", "/index.html", &[]));
    assert_eq!(a.served(), "v1");
    let before: Vec<String> = a.hosts.iter().map(|h| live_ids(h, &a.app)).collect();

    // A release that never answers its HTTP check (with a changed compose file), under
    // load on both hosts.
    a.version("broken", false);
    let local_compose = a.dir.path().join("compose.yml");
    let good_compose = std::fs::read_to_string(&local_compose).unwrap();
    std::fs::write(
        &local_compose,
        format!("{good_compose}    environment:\n      MARK: broken-release\n"),
    )
    .unwrap();
    let probes: Vec<Probe> = a.hosts.iter().map(|h| Probe::start(h, &a, "bad")).collect();
    let bad = a.deploy("v2", "/index.html", &["--timeout", "8"]);
    let counts: Vec<(usize, usize)> = probes.into_iter().map(Probe::stop).collect();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("service web")
            && err.contains("failed its pre-flight check")
            && err.contains("--- probe ---")
            && err.contains("404")
            && err.contains("--- last log lines of web ---"),
        "{err}"
    );
    eprintln!("bad deploy under load (answered, failed) per host: {counts:?}\n{err}");
    for ((answered, failed), h) in counts.iter().zip(&a.hosts) {
        assert!(*answered > 0, "{}: the loop ran", h.name);
        assert_eq!(
            *failed, 0,
            "{}: the old release answered every request",
            h.name
        );
    }
    std::fs::write(&local_compose, &good_compose).unwrap();
    // The live containers were never touched, nor their compose file; nothing of the
    // pre-flight is left.
    for h in &a.hosts {
        let files = h
            .sh(&format!(
                "cat {d}/compose.yml {d}/docker-compose.yml 2>/dev/null",
                d = a.remote_dir
            ))
            .stdout;
        assert!(
            files.contains("image:") && !files.contains("MARK"),
            "{}: {files}",
            h.name
        );
    }
    let after: Vec<String> = a.hosts.iter().map(|h| live_ids(h, &a.app)).collect();
    assert_eq!(before, after);
    assert_eq!(a.served(), "v1");
    for h in &a.hosts {
        assert_eq!(
            live_ids(h, &format!("{}-preflight", a.app)),
            "",
            "{}",
            h.name
        );
        assert_eq!(
            h.sh(&format!("test -e {}/.hoist-preflight.yml", a.remote_dir))
                .code,
            1
        );
        assert!(!a.locked_on(h));
    }

    // A good release passes its pre-flight and replaces the live one.
    a.version("v3", true);
    let probes: Vec<Probe> = a
        .hosts
        .iter()
        .map(|h| Probe::start(h, &a, "good"))
        .collect();
    ok(&a.deploy("v3", "/index.html", &[]));
    let counts: Vec<(usize, usize)> = probes.into_iter().map(Probe::stop).collect();
    eprintln!("good deploy under load (answered, failed) per host: {counts:?}");
    assert_eq!(a.served(), "v3");
}

#[test]
fn sigint_while_the_live_release_is_replaced_puts_it_back_and_frees_the_lock() {
    let a = App::with_grace("interrupt", 18424, "10s");
    let image = |tag: &str| format!("{}/{}:{tag}", a.f.registry, a.app);
    a.version("v1", true);
    ok(&a.deploy("v1", "/index.html", &[]));
    assert_eq!(a.served(), "v1");

    a.version("v2", true);
    let probes: Vec<Probe> = a.hosts.iter().map(|h| Probe::start(h, &a, "int")).collect();
    let mut run = a.spawn_deploy("v2", "/index.html", &[]);
    // The Start step has begun on both hosts once their live release record names v2 (the old
    // container then takes its 10 s grace period to stop): interrupt there.
    a.until_live_on_both(
        "both hosts started replacing the live release",
        &image("v2"),
        &mut run,
    );
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGINT) };
    let out = run.wait_with_output().unwrap();
    let counts: Vec<(usize, usize)> = probes.into_iter().map(Probe::stop).collect();
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("interrupted deploy under load (answered, failed) per host: {counts:?}\n{err}");
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("rolling back"), "{err}");

    // The recorded release serves again, the record says so, the lock is gone, and the
    // project is exactly one running v1 container per host (no temp-named leftovers).
    let served = a.served_again("v1");
    let states: Vec<String> = a
        .hosts
        .iter()
        .map(|h| {
            h.sh(&format!(
                "docker ps -a --format '{{{{.Names}}}} {{{{.Image}}}} {{{{.Status}}}} {{{{.Ports}}}}' | grep {}",
                a.app
            ))
            .stdout
        })
        .collect();
    assert_eq!(served, "v1", "containers: {states:?}\n{err}");
    for h in &a.hosts {
        let live = h.live_release(&a.remote_dir);
        assert_eq!(
            (live["id"].as_str(), live["image"].as_str()),
            (Some("r1"), Some(image("v1").as_str())),
            "{}",
            h.name
        );
        assert!(!a.locked_on(h), "{}: lock left", h.name);
        let names = h.sh_ok(&format!(
            "docker ps -aq --filter label=com.docker.compose.project={} | xargs docker inspect -f '{{{{.Config.Image}}}} {{{{.State.Status}}}}'",
            a.app
        ));
        assert_eq!(
            names,
            format!("{} running", live["pinned"].as_str().unwrap()),
            "{}",
            h.name
        );
        assert_eq!(
            live_ids(h, &format!("{}-preflight", a.app)),
            "",
            "{}",
            h.name
        );
    }

    // The history says so, per host, newest first.
    let rows = lock_rows(
        &a.cmd(&[
            "releases",
            "--env",
            "test",
            "--app",
            &a.app,
            "--dir",
            &a.remote_dir,
            "--json",
        ])
        .output()
        .unwrap(),
    );
    for h in &a.hosts {
        let mine: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r["host"] == h.spec().as_str())
            .map(|r| {
                (
                    r["image"].as_str().unwrap().to_string(),
                    r["outcome"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            mine,
            vec![
                (image("v2"), "failed".to_string()),
                (image("v1"), "live".to_string())
            ],
            "{}: {rows:?}",
            h.name
        );
    }
}

#[test]
fn upgrade_keeps_the_projects_env_and_upgrades_a_literal_image() {
    let f = fleet();
    f.login_hosts();
    let a = App::new("literal", 18425);
    let v1 = f.page_image(&format!("{}:v1", a.app), "v1");
    let v2 = f.page_image(&format!("{}:v2", a.app), "v2");
    // The runbook's layout, set up by hand: the image named literally, a .env with the
    // project's own variables (the port among them).
    let env = "# the project's own settings\nPORT=18425\nGREETING=hello there\n";
    let compose = format!(
        "services:\n  web:\n    image: {v1}\n    ports:\n      - \"127.0.0.1:${{PORT}}:8080\"\n    environment:\n      GREETING: ${{GREETING}}\n    stop_grace_period: 1s\n"
    );
    for h in &a.hosts {
        let tool = h.compose_cli();
        h.sh_ok(&format!(
            "cd {d} && printf %s {e} > .env && printf %s {c} > compose.yml && {tool} --project-name {app} up -d 2>&1",
            d = a.remote_dir,
            e = hoist::command::quote(env),
            c = hoist::command::quote(&compose),
            app = a.app
        ));
    }
    assert_eq!(a.served(), "v1");
    let port = a.port.to_string();
    let upgrade = |extra: &[&str]| {
        let mut args = vec![
            "upgrade",
            "--watch",
            "0",
            "--env",
            "test",
            "--app",
            &a.app,
            "--dir",
            &a.remote_dir,
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
            "--timeout",
            "20",
        ];
        args.extend_from_slice(extra);
        a.cmd(&args).output().unwrap()
    };
    let files = |h: &FleetHost| {
        (
            h.read(&format!("{}/.env", a.remote_dir)),
            h.read(&format!("{}/compose.yml", a.remote_dir)),
        )
    };

    ok(&upgrade(&["--image", &v2]));
    assert_eq!(a.served(), "v2");
    for h in &a.hosts {
        assert_eq!(
            files(h),
            (env.to_string(), compose.clone()),
            "{}: project files kept",
            h.name
        );
        // The project's variables still apply (same port, same environment).
        let greeting = h.sh_ok(&format!(
            "docker ps --filter label=com.docker.compose.project={} --format '{{{{.ID}}}}' | xargs -I{{}} docker exec {{}} sh -c 'echo $GREETING'",
            a.app
        ));
        assert_eq!(greeting, "hello there", "{}", h.name);
    }

    ok(&upgrade(&["--rollback"]));
    assert_eq!(a.served(), "v1");
    for h in &a.hosts {
        assert_eq!(files(h), (env.to_string(), compose.clone()), "{}", h.name);
    }

    // An image of another repository matches no service: refused before any change.
    let other = format!("{}/elsewhere:v1", f.registry);
    let o = upgrade(&["--image", &other]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no service of") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(a.served(), "v1");
    for h in &a.hosts {
        let pin = h.read(&format!("{}/docker-compose.override.yml", a.remote_dir));
        assert!(
            pin.contains(&v1) && !pin.contains("elsewhere"),
            "{}: {pin}",
            h.name
        );
    }
}

#[test]
fn sigint_during_an_upgrade_puts_the_live_release_back() {
    interrupted_upgrade_puts_the_live_release_back("intup", 18426, libc::SIGINT, 130);
}

#[test]
fn sigterm_during_an_upgrade_puts_the_live_release_back() {
    interrupted_upgrade_puts_the_live_release_back("termup", 18438, libc::SIGTERM, 143);
}

/// `signal` while both hosts recreate the service: the live release serves again, the records
/// say so, the lock is gone, and the run exits with `code`.
fn interrupted_upgrade_puts_the_live_release_back(
    name: &str,
    port: u16,
    signal: libc::c_int,
    code: i32,
) {
    let f = fleet();
    f.login_hosts();
    let a = App::with_grace(name, port, "10s");
    a.version("v1", true);
    ok(&a.deploy("v1", "/index.html", &[]));
    let v1 = format!("{}/{}:v1", f.registry, a.app);
    let v2 = f.page_image(&format!("{}:v2", a.app), "v2");
    let port = a.port.to_string();
    let mut run = a
        .cmd(&[
            "upgrade",
            "--watch",
            "0",
            "--env",
            "test",
            "--app",
            &a.app,
            "--dir",
            &a.remote_dir,
            "--image",
            &v2,
            "--health-port",
            &port,
            "--health-path",
            "/index.html",
        ])
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    a.until_live_on_both("both hosts started recreating the service", &v2, &mut run);
    // SIGINT goes to hoist's whole process group, as Ctrl-C at a terminal sends it (hoist runs
    // in a group of its own here): the undo still needs the ssh connections, so no process
    // the interrupt also reaches may carry them. SIGTERM goes to the pid, as `kill` sends it.
    let target = if signal == libc::SIGINT {
        -(run.id() as libc::pid_t)
    } else {
        run.id() as libc::pid_t
    };
    // SAFETY: kill(2) on the child this test spawned, or on the process group it leads.
    unsafe { libc::kill(target, signal) };
    let out = run.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains("rolling back"), "{err}");
    assert_eq!(a.served_again("v1"), "v1");
    for h in &a.hosts {
        let live = h.live_release(&a.remote_dir);
        assert_eq!(live["image"], v1.as_str(), "{}", h.name);
        assert!(!a.locked_on(h), "{}: lock left", h.name);
        let running = h.sh_ok(&format!(
            "docker ps -aq --filter label=com.docker.compose.project={} | xargs docker inspect -f '{{{{.Config.Image}}}} {{{{.State.Status}}}}'",
            a.app
        ));
        assert_eq!(
            running,
            format!("{} running", live["pinned"].as_str().unwrap()),
            "{}",
            h.name
        );
    }
}

#[test]
fn a_second_sigint_stops_hoists_wait_and_each_host_finishes_the_undo_on_its_own() {
    // A long grace period: the undo's stop of the half-started release takes that long, a
    // window for the second signal.
    let a = App::with_grace("twosig", 18427, "15s");
    let image = |tag: &str| format!("{}/{}:{tag}", a.f.registry, a.app);
    a.version("v1", true);
    ok(&a.deploy("v1", "/index.html", &[]));
    a.version("v2", true);
    let mut run = a.spawn_deploy("v2", "/index.html", &[]);
    a.until_live_on_both(
        "both hosts started replacing the live release",
        &image("v2"),
        &mut run,
    );
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGINT) };
    // The undo has begun on both hosts once their records name r1 live again (r2 failed) and
    // the pin is back on r1; it then waits for the half-started release's containers to stop:
    // the second signal.
    let pin = format!("{}/docker-compose.override.yml", a.remote_dir);
    until(
        "both hosts began the undo",
        || {
            a.hosts.iter().all(|h| {
                let recs = h.releases(&a.remote_dir);
                recs.len() == 2
                    && recs[0]["outcome"] == "live"
                    && recs[1]["outcome"] == "failed"
                    && h.read(&pin).contains(&format!("# {}", image("v1")))
            })
        },
        &mut run,
    );
    // SAFETY: as above.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGINT) };
    let out = run.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    for h in &a.hosts {
        // Each host says the undo goes on there without hoist.
        let said = format!(
            "{}: undo skipped here — the host goes on putting r1 ({}) back on its own",
            h.spec(),
            image("v1")
        );
        assert!(err.contains(&said), "{}: {err}", h.name);
    }
    // With no further command, each host finishes the undo: r1 serves, the records say so,
    // and the lock goes once the undo is over (not before: no other run may start on a
    // half-undone app), and the guards' files with it.
    assert_eq!(a.served_again_within("v1", 60), "v1", "{err}");
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_secs(60);
    for h in &a.hosts {
        while (a.locked_on(h) || !guards_of(h, &a.app).is_empty())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        eprintln!(
            "{}: lock and guards gone {:?} after v1 served again",
            h.name,
            started.elapsed()
        );
        assert!(
            !a.locked_on(h),
            "{}: lock left\n{err}\nguards: {}\nwatchers: {}",
            h.name,
            guards_of(h, &a.app),
            h.sh("pgrep -af hoist-guard | cut -c1-300").stdout
        );
        assert_eq!(guards_of(h, &a.app), "", "{}: guard files left", h.name);
        let live = h.live_release(&a.remote_dir);
        assert_eq!(live["id"], "r1", "{}", h.name);
        let running = h.sh_ok(&format!(
            "docker ps -aq --filter label=com.docker.compose.project={} | xargs docker inspect -f '{{{{.Config.Image}}}} {{{{.State.Status}}}}'",
            a.app
        ));
        assert_eq!(
            running,
            format!("{} running", live["pinned"].as_str().unwrap()),
            "{}",
            h.name
        );
    }
}

/// The files of hoist guards on `h` whose name mentions `app` (the guards of its steps).
fn guards_of(h: &FleetHost, app: &str) -> String {
    h.sh(&format!(
        "ls -A /root/.hoist/guards 2>/dev/null | grep -F -- {app} || true"
    ))
    .stdout
    .trim()
    .to_string()
}
