//! Compose projects for real: a two-service project (web = busybox httpd on a published port,
//! worker = a loop under a profile) written, rendered, started, inspected, reached over HTTP,
//! logged, exec'd into, partly restarted and taken down — on the local host and on an SSH
//! host (the same machine and engine, reached through sshd). Plus the bad inputs.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use hoist::Host;
use hoist::command::Value;
use hoist::compose::{
    ComposeOptions, DownOptions, ExecOptions, LogsOptions, Project, Tool, UpOptions,
};
use hoist::host::{FileOpts, HostSpec, MkdirOpts};
use support::busybox_image::image;
use support::{free_port, run_script, runtime, sshd};

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

fn round_trip(h: &Host, rt: &hoist::Runtime, name: &str) {
    image();
    let dir = tempfile::tempdir().unwrap().keep().join("app");
    let dir = dir.to_str().unwrap().to_string();
    let port = free_port();
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
    assert!(ps.iter().all(|c| c.state == "running"), "{ps:?}");
    assert_eq!(ps[0].image, image());
    assert_eq!(ps[0].ports, vec![format!("127.0.0.1:{port}->8080/tcp")]);

    // The published port answers with the file from the env-file-filled volume path.
    let body = http_get(port);
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
        "exited"
    );
    rt.block_on(p.start(&["worker".into()])).unwrap();

    // down: nothing left.
    rt.block_on(p.down(&DownOptions::default())).unwrap();
    assert!(rt.block_on(p.ps()).unwrap().is_empty());
}

#[test]
fn round_trip_on_the_local_host() {
    let (rt, _) = runtime();
    round_trip(&rt.local(), &rt, "hoist-compose-local");
}

#[test]
fn round_trip_on_an_ssh_host() {
    let (rt, _) = runtime();
    let h = rt.host(&HostSpec::parse(&sshd().spec(1)).unwrap());
    round_trip(&h, &rt, "hoist-compose-ssh");
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
    // v1 logs has no --since: a clear error naming the tool.
    let e = Project::logs_args(
        Tool::V1,
        &LogsOptions {
            since: Some("10m".into()),
            ..LogsOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        e.message.contains("compose v1 (docker-compose)"),
        "{}",
        e.message
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
    for e in [
        rt.block_on(p.restart(&["wbe".into()])).unwrap_err(),
        rt.block_on(p.exec("wbe", &["true".into()], &ExecOptions::default()))
            .unwrap_err(),
    ] {
        assert!(
            e.message.contains("no service `wbe`") && e.message.contains("web, worker"),
            "{}",
            e.message
        );
    }
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
}
