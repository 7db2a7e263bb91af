//! The day-2 recipes (status, logs, exec, destroy) on runbook stacks that hoist never started
//! and whose files it is never shown: the Nightwatch stack (runbook 001; its volumes and port
//! come from `nightwatch.env`, not `.env`) and an AlphaKraken-style stack (runbook 003; a
//! required port from `envs/production.env`, profiles, a named volume, an external one, a
//! one-off container), each started by hand with the compose tool, on a compose v2 server
//! (host1) and a v1 one (host2). hoist finds them by their containers' labels. Every check of
//! a host's state reads that host.

mod support;

use std::process::Stdio;

use support::fleet::{Fleet, FleetHost, OnDrop, fleet, repo_root};
use support::follow::{collect, wait_for};
use support::output::{list_value, ok};

/// An image from the test base that serves `word` and writes a numbered line every 0.2 s
/// (`<word> tick N`), stopping at SIGTERM; pushed to the fleet registry as `repo_tag`.
fn ticking_image(f: &Fleet, repo_tag: &str, word: &str) -> String {
    f.page_image_with(
        repo_tag,
        word,
        &format!(
            "CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; httpd -f -p 8080 -h /www & i=0; \
             while :; do i=$((i+1)); echo {word} tick $i; sleep 0.2; done\"]\n"
        ),
    )
}

/// A project directory whose hoist.toml has env `day2` with host1 (compose v2) and host2 (v1)
/// as `user`.
fn inventory(f: &Fleet, user: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("hoist.toml"),
        format!(
            "[env.day2.hosts]\nweb = [\"{}\", \"{}\"]\n",
            f.host(1).spec_user(user),
            f.host(2).spec_user(user)
        ),
    )
    .unwrap();
    d
}

/// The lines hoist printed for a host (`[deploy@host1] ...`) that carry `needle`.
fn lines_of<'a>(out: &'a str, host: &str, needle: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.starts_with(&format!("[{host}] ")) && l.contains(needle))
        .collect()
}

#[test]
fn the_nightwatch_stack_started_by_hand_answers_status_logs_exec_and_destroy() {
    let f = fleet();
    let _up = f.hosts_up();
    let id = std::process::id();
    let hosts = [f.host(1), f.host(2)];
    let app = format!("d2-nw{id}");
    let base = format!("/home/deploy/{app}");
    let dir = format!("{base}/nightwatch-stack");
    let _cleanup = OnDrop(|| {
        for h in hosts {
            h.sh(&format!(
                "cd {dir} 2>/dev/null && {} --project-name {app} --env-file nightwatch.env down; rm -rf {base}",
                h.compose_cli()
            ));
        }
    });
    let namespace = format!("{}/{app}", f.registry);
    let app_image = ticking_image(f, &format!("{app}/app-uwsgi-flask:1.0"), "nightwatch");
    let web_image = ticking_image(f, &format!("{app}/web-nginx:1.0"), "web");
    let compose =
        std::fs::read_to_string(repo_root().join("examples/nightwatch-stack/docker-compose.yml"))
            .unwrap()
            .replace("registry.example.org/alyons18", &namespace);
    assert!(compose.contains(&app_image) && compose.contains(&web_image));
    for h in hosts {
        // The runbook's layout: the stack's env file is nightwatch.env, not .env; the static
        // files and data it names live beside the checkout.
        let env = format!(
            "UID={uid}\nGROUP_ID={gid}\nSTATIC_DIR={base}/nightwatchtest/output\n\
             DATA_DIR={base}/nightwatchtest/data/output\nWEB_PORT=19301\n",
            uid = h.sh_ok("id -u deploy"),
            gid = h.sh_ok("id -g deploy"),
        );
        let (static_dir, data_dir) = (
            format!("{base}/nightwatchtest/output"),
            format!("{base}/nightwatchtest/data/output"),
        );
        h.sh_ok(&format!(
            "set -e; mkdir -p {dir} {static_dir} {data_dir}; echo 'static {app}' > {static_dir}/marker; \
             printf %s {c} > {dir}/docker-compose.yml; printf %s {e} > {dir}/nightwatch.env; \
             chown -R deploy: {base}",
            c = hoist::command::quote(&compose),
            e = hoist::command::quote(&env),
        ));
        f.login_user(h, "deploy");
        // Started by hand, as the runbook does (`up -d --stack NAME --env-file nightwatch.env`).
        h.sh_ok(&format!(
            "su deploy -c 'cd {dir} && {} --project-name {app} --env-file nightwatch.env up -d' 2>&1",
            h.compose_cli()
        ));
        assert_eq!(h.project_containers(&app).lines().count(), 2, "{}", h.name);
    }
    let files_before: Vec<String> = hosts
        .iter()
        .map(|h| {
            h.sh_ok(&format!(
                "cd {dir} && sha256sum docker-compose.yml nightwatch.env"
            ))
        })
        .collect();

    let project = inventory(f, "deploy");
    let hoist = |args: &[&str]| {
        f.hoist_cmd(project.path())
            .args(args)
            .args(["--env", "day2", "--app", &app, "--dir", &dir])
            .output()
            .unwrap()
    };

    // How hoist names each host in its output.
    let names: Vec<String> = hosts.iter().map(|h| h.spec_user("deploy")).collect();

    // status: both services running on both hosts.
    let rows = list_value(&hoist(&["status", "--json"]));
    for name in &names {
        let mut mine: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r["host"] == name.as_str())
            .map(|r| {
                (
                    r["service"].as_str().unwrap().to_string(),
                    r["state"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        mine.sort();
        assert_eq!(
            mine,
            [
                ("app".into(), "running".into()),
                ("web".into(), "running".into())
            ],
            "{name}: {rows:?}"
        );
    }

    // logs --tail 3 of one service: three of its lines per host, none of the other service.
    let out = ok(&hoist(&["logs", "--service", "app", "--tail", "3"]));
    for name in &names {
        assert_eq!(lines_of(&out, name, "nightwatch tick").len(), 3, "{out}");
        assert!(lines_of(&out, name, "web tick").is_empty(), "{out}");
    }
    let out = ok(&hoist(&["logs", "--tail", "2"]));
    for name in &names {
        assert_eq!(lines_of(&out, name, "nightwatch tick").len(), 2, "{out}");
        assert_eq!(lines_of(&out, name, "web tick").len(), 2, "{out}");
    }

    // exec: in the app's container, as the stack's user, with the volume nightwatch.env named.
    let out = ok(&hoist(&[
        "exec",
        "--service",
        "app",
        "--cmd",
        "id -u; cat /app/static/marker",
    ]));
    for (h, name) in hosts.iter().zip(&names) {
        let uid = h.sh_ok("id -u deploy");
        assert!(out.contains(&format!("[{name}] {uid}\n")), "{out}");
        assert_eq!(
            lines_of(&out, name, &format!("static {app}")).len(),
            1,
            "{out}"
        );
    }

    // logs --follow: new lines keep coming until Ctrl-C.
    let mut follow = f
        .hoist_cmd(project.path())
        .args([
            "logs",
            "--follow",
            "--service",
            "app",
            "--tail",
            "1",
            "--env",
            "day2",
            "--app",
            &app,
            "--dir",
            &dir,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = collect(&mut follow);
    wait_for("five lines from every host", &seen, &mut follow, |s| {
        names
            .iter()
            .all(|name| lines_of(s, name, "nightwatch tick").len() >= 5)
    });
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(follow.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(follow.wait().unwrap().code(), Some(130));

    // A project name that is not there: the error says so and names the one that is.
    let o = f
        .hoist_cmd(project.path())
        .args([
            "logs",
            "--env",
            "day2",
            "--app",
            &format!("{app}x"),
            "--dir",
            &dir,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("no containers of compose project {app}x")) && err.contains(&app),
        "{err}"
    );

    // destroy: every container and the stack's network go; its files stay as they were.
    ok(&hoist(&["destroy", "--yes"]));
    for (h, before) in hosts.iter().zip(&files_before) {
        assert_eq!(h.project_containers(&app), "", "{}", h.name);
        assert!(
            !h.has_docker("network", &format!("{app}_default")),
            "{}",
            h.name
        );
        assert_eq!(
            &h.sh_ok(&format!(
                "cd {dir} && sha256sum docker-compose.yml nightwatch.env"
            )),
            before,
            "{}",
            h.name
        );
    }
    let rows = list_value(&hoist(&["status", "--json"]));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["state"] == "absent" && r["note"] == "no containers"),
        "{rows:?}"
    );
}

#[test]
fn an_alphakraken_style_stack_is_destroyed_without_its_env_file() {
    let f = fleet();
    let _up = f.hosts_up();
    f.login_hosts();
    let id = std::process::id();
    let hosts = [f.host(1), f.host(2)];
    let app = format!("d2-ak{id}");
    let dir = format!("/tmp/{app}");
    let keep = format!("{app}-keep");
    let up = |h: &FleetHost| {
        h.sh_ok(&format!(
            "cd {dir} && {c} --env-file envs/production.env --profile dbs --profile workers up -d 2>&1 && \
             {c} --env-file envs/production.env --profile workers run -d worker sh -c 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' 2>&1",
            c = h.compose_cli()
        ));
        // mongodb, worker and the one-off worker run.
        assert_eq!(h.project_containers(&app).lines().count(), 3, "{}", h.name);
    };
    let _cleanup = OnDrop(|| {
        for h in hosts {
            h.sh(&format!(
                "cd {dir} 2>/dev/null && {} --env-file envs/production.env --profile dbs --profile workers down -v --remove-orphans; \
                 docker volume rm {keep}; rm -rf {dir}",
                h.compose_cli()
            ));
        }
    });
    let image = ticking_image(f, &format!("{app}/kraken:1"), "kraken");
    // The port is required and comes only from envs/production.env; services sit behind
    // profiles; mongodb keeps its data in a named volume and reads an external one.
    let compose = format!(
        "services:\n  mongodb-service:\n    image: {image}\n    profiles: [dbs, infrastructure]\n\
         \x20   ports:\n      - \"127.0.0.1:${{MONGO_PORT:?set MONGO_PORT in envs/production.env}}:8080\"\n\
         \x20   volumes:\n      - mongodb_data:/data\n      - keep:/keep\n\
         \x20 worker:\n    image: {image}\n    profiles: [workers]\n    networks: [default, kraken]\n\
         volumes:\n  mongodb_data: {{}}\n  keep:\n    external: true\n    name: {keep}\n\
         networks:\n  kraken: {{}}\n"
    );
    for h in hosts {
        h.sh_ok(&format!(
            "set -e; mkdir -p {dir}/envs && cd {dir} && printf %s {c} > docker-compose.yaml && \
             echo MONGO_PORT=19302 > envs/production.env && docker volume create {keep} >/dev/null",
            c = hoist::command::quote(&compose)
        ));
        up(h);
    }
    let project = inventory(f, "root");
    let destroy = |extra: &[&str]| {
        f.hoist_cmd(project.path())
            .args([
                "destroy", "--yes", "--env", "day2", "--app", &app, "--dir", &dir,
            ])
            .args(extra)
            .output()
            .unwrap()
    };

    // No env file given: everything of the project goes but its volumes.
    let out = ok(&destroy(&[]));
    for h in hosts {
        assert_eq!(h.project_containers(&app), "", "{}", h.name);
        for net in ["default", "kraken"] {
            assert!(
                !h.has_docker("network", &format!("{app}_{net}")),
                "{} {net}",
                h.name
            );
        }
        assert!(
            h.has_docker("volume", &format!("{app}_mongodb_data")),
            "{}",
            h.name
        );
        assert!(h.has_docker("volume", &keep), "{}", h.name);
        assert_eq!(h.get("http://127.0.0.1:19302/index.html"), "", "{}", h.name);
        assert_eq!(
            h.read(&format!("{dir}/envs/production.env")),
            "MONGO_PORT=19302\n"
        );
    }
    assert!(
        out.contains(&format!("{app}_kraken")),
        "what went is said:\n{out}"
    );

    // With --volumes its named volume goes too; the external one stays.
    for h in hosts {
        up(h);
    }
    ok(&destroy(&["--volumes"]));
    for h in hosts {
        assert_eq!(h.project_containers(&app), "", "{}", h.name);
        assert!(
            !h.has_docker("volume", &format!("{app}_mongodb_data")),
            "{}",
            h.name
        );
        assert!(
            h.has_docker("volume", &keep),
            "{}: the external volume",
            h.name
        );
    }

    // Nothing left: a second destroy says so and succeeds.
    let again = destroy(&[]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(again.status.success(), "{text}");
    assert!(text.contains("nothing to remove"), "{text}");
}
