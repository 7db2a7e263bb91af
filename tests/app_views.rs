//! status / logs / exec / destroy on the test fleet (host1..host4: compose v2, v1, v2, v1),
//! through the `hoist` binary: one status row per host even when a host is cut off (that row
//! says why), with the live release; apps that `bluegreen` released (projects APP-blue /
//! APP-green, rolled out in batches); env files and profiles. Every check of a host's state
//! reads that host.

mod support;

use std::process::Stdio;

use support::fleet::{Fleet, OnDrop, fleet};
use support::follow::{collect, wait_for};
use support::output::{list_value, ok};

/// A project directory whose hoist.toml has env `test` with every fleet host in group web,
/// `trio` with host1..host3 and `pair` with host1 and host2.
fn project(f: &Fleet) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("hoist.toml"),
        format!(
            "[env.test]\nvars = {{ registry = \"{}\" }}\n[env.test.hosts]\nweb = [\"host1\", \"host2\", \"host3\", \"host4\"]\n\
             [env.trio.hosts]\nweb = [\"host1\", \"host2\", \"host3\"]\n[env.pair.hosts]\nweb = [\"host1\", \"host2\"]\n",
            f.registry
        ),
    )
    .unwrap();
    d
}

#[test]
fn status_has_a_row_per_host_with_the_release_even_when_a_host_is_cut_off() {
    let f = fleet();
    let _x = f.exclusive();
    f.login_hosts();
    let d = project(f);
    let app = format!("ro-status{}", std::process::id());
    let remote = format!("/tmp/ro-status-{}", std::process::id());
    let _cleanup = OnDrop(|| {
        for h in &f.hosts {
            h.sh(&format!(
                "cd {remote} 2>/dev/null && {} --project-name {app} down; rm -rf {remote} /root/.hoist/locks/{app}",
                h.compose_cli()
            ));
        }
    });
    let v1 = f.page_image(&format!("{app}:v1"), "v1");
    std::fs::write(
        d.path().join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:18473:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    // Released with upgrade on three hosts (host4 never had the app).
    for h in &f.hosts[..3] {
        h.sh_ok(&format!(
            "mkdir -p {remote} && printf 'services:\\n  web:\\n    image: {v1}\\n    ports:\\n      - \"127.0.0.1:18473:8080\"\\n' > {remote}/compose.yml"
        ));
    }
    let hoist = |args: &[&str]| {
        f.hoist_cmd(d.path())
            .args(args)
            .args(["--app", &app, "--dir", &remote])
            .output()
            .unwrap()
    };
    ok(&hoist(&[
        "upgrade",
        "--watch",
        "0",
        "--env",
        "trio",
        "--image",
        &v1,
        "--timeout",
        "30",
    ]));
    let rows = list_value(&hoist(&["status", "--env", "test", "--json"]));
    assert_eq!(rows.len(), 4, "{rows:?}");
    for (row, h) in rows.iter().zip(&f.hosts) {
        assert_eq!(row["host"], h.name.as_str(), "{rows:?}");
    }
    for row in &rows[..3] {
        assert_eq!(row["state"], "running", "{row}");
        assert_eq!(row["service"], "web", "{row}");
        assert_eq!(row["release"], v1.as_str(), "{row}");
    }
    assert_eq!(rows[3]["state"], "absent", "{}", rows[3]);
    assert!(
        rows[3]["note"].as_str().unwrap().contains("not deployed"),
        "{}",
        rows[3]
    );

    // host2 cut off: its row says why; the others are as before.
    let mut cut = f.fault("cut", f.host(2));
    let o = hoist(&["status", "--env", "test", "--json"]);
    let human = hoist(&["status", "--env", "test"]);
    cut.undo();
    // Every row is printed, then the run fails (exit 1) naming the host it could not read, so
    // a script or a CI job notices.
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    let result: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "result")
        .unwrap_or_else(|| panic!("no result event:\n{out}"));
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "error", "{last}");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no status from host2"),
        "{last}"
    );
    let rows = result["value"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 4, "{rows:?}");
    for (row, h) in rows.iter().zip(&f.hosts) {
        assert_eq!(row["host"], h.name.as_str(), "{rows:?}");
    }
    assert_eq!(rows[1]["state"], "unknown", "{}", rows[1]);
    let why = rows[1]["note"].as_str().unwrap();
    assert!(
        why.contains("cannot connect to host2: connection timed out"),
        "{why}"
    );
    for n in [0, 2] {
        assert_eq!(rows[n]["state"], "running", "{}", rows[n]);
        assert_eq!(rows[n]["release"], v1.as_str(), "{}", rows[n]);
    }
    assert_eq!(human.status.code(), Some(1), "{human:?}");
    let table = String::from_utf8_lossy(&human.stdout);
    let err = String::from_utf8_lossy(&human.stderr);
    assert!(
        table.contains("unknown") && table.contains("running") && err.contains("host2: no status"),
        "{table}\n{err}"
    );
}

#[test]
fn status_logs_exec_and_destroy_know_bluegreen_colours() {
    let f = fleet();
    let _x = f.hosts_up();
    f.login_hosts();
    let d = project(f);
    let app = format!("ro-bg{}", std::process::id());
    let remote = format!("/tmp/ro-bg-{}", std::process::id());
    let _cleanup = OnDrop(|| {
        for h in &f.hosts {
            for colour in ["blue", "green"] {
                h.sh(&format!(
                    "cd {remote}/{colour} 2>/dev/null && {} --project-name {app}-{colour} down",
                    h.compose_cli()
                ));
            }
            h.sh(&format!("rm -rf {remote} /root/.hoist/locks/{app}"));
        }
    });
    let v1 = f.page_image(&format!("{app}:v1"), "v1");
    let v2 = f.page_image(&format!("{app}:v2"), "v2");
    // The service says which release it is when it starts (a log line to find).
    std::fs::write(
        d.path().join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    command: [\"sh\", \"-c\", \"echo started $$RELEASE; exec httpd -f -p 8080 -h /www\"]\n    environment:\n      RELEASE: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    let hoist = |args: &[&str]| {
        f.hoist_cmd(d.path())
            .args(args)
            .args(["--env", "test", "--app", &app, "--dir", &remote])
            .output()
            .unwrap()
    };
    let bluegreen = |image: &str| {
        hoist(&[
            "bluegreen",
            "--image",
            image,
            "--blue-port",
            "18471",
            "--green-port",
            "18472",
            "--health-path",
            "/index.html",
            "--timeout",
            "30",
            "--batch",
            "2",
        ])
    };
    let o = bluegreen(&v1);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("▶ batch 1 of 2: host1, host2")
            && err.contains("▶ batch 2 of 2: host3, host4"),
        "{err}"
    );
    ok(&bluegreen(&v2));
    for h in &f.hosts {
        assert_eq!(
            h.get("http://127.0.0.1:18471/index.html"),
            "v1",
            "{}",
            h.name
        );
        assert_eq!(
            h.get("http://127.0.0.1:18472/index.html"),
            "v2",
            "{}",
            h.name
        );
    }

    // status: both colours on every host, the live one marked, with each colour's release.
    let rows = list_value(&hoist(&["status", "--json"]));
    assert_eq!(rows.len(), 8, "{rows:?}");
    for h in &f.hosts {
        let mine: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|r| r["host"] == h.name.as_str())
            .collect();
        assert_eq!(mine.len(), 2, "{}: {rows:?}", h.name);
        let blue = mine
            .iter()
            .find(|r| r["project"] == format!("{app}-blue"))
            .unwrap();
        let green = mine
            .iter()
            .find(|r| r["project"] == format!("{app}-green"))
            .unwrap();
        assert_eq!(blue["state"], "running", "{blue}");
        assert_eq!(blue["release"], v1.as_str(), "{blue}");
        assert_eq!(blue["note"], "blue: idle", "{blue}");
        assert_eq!(green["state"], "running", "{green}");
        assert_eq!(green["release"], v2.as_str(), "{green}");
        assert_eq!(green["note"], "green: live", "{green}");
    }

    // exec: the live colour, or the one asked for.
    let out = ok(&hoist(&[
        "exec",
        "--service",
        "web",
        "--cmd",
        "cat /www/index.html",
    ]));
    for h in &f.hosts {
        assert!(out.contains(&format!("[{}] v2", h.name)), "{out}");
    }
    let out = ok(&hoist(&[
        "exec",
        "--service",
        "web",
        "--cmd",
        "cat /www/index.html",
        "--colour",
        "blue",
    ]));
    for h in &f.hosts {
        assert!(out.contains(&format!("[{}] v1", h.name)), "{out}");
    }

    // logs: the live colour's; --follow streams new lines until Ctrl-C.
    let out = ok(&hoist(&["logs", "--tail", "20"]));
    for h in &f.hosts {
        assert!(
            out.contains(&format!("[{}] ", h.name)) && out.contains(&format!("started {v2}")),
            "{out}"
        );
    }
    assert!(
        !out.contains(&format!("started {v1}")),
        "the idle colour's logs: {out}"
    );
    let mut follow = f
        .hoist_cmd(d.path())
        .args([
            "logs", "--follow", "--tail", "5", "--env", "test", "--app", &app, "--dir", &remote,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = collect(&mut follow);
    wait_for("every host's log was shown", &seen, &mut follow, |s| {
        f.hosts
            .iter()
            .all(|h| s.contains(&format!("[{}] ", h.name)))
    });
    // A line written to the live container's output after the follow began reaches it.
    let mark = format!("ro-follow-mark-{}", std::process::id());
    for h in &f.hosts {
        h.sh_ok(&format!(
            "docker ps -q --filter label=com.docker.compose.project={app}-green | xargs -I{{}} docker exec {{}} sh -c 'echo {mark} > /proc/1/fd/1'"
        ));
    }
    wait_for("the new line on every host", &seen, &mut follow, |s| {
        f.hosts.iter().all(|h| {
            s.lines()
                .any(|l| l.starts_with(&format!("[{}] ", h.name)) && l.contains(&mark))
        })
    });
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(follow.id() as libc::pid_t, libc::SIGINT) };
    let status = follow.wait().unwrap();
    assert_eq!(status.code(), Some(130));

    // destroy: both colours, on every host.
    ok(&hoist(&["destroy", "--yes"]));
    for h in &f.hosts {
        for colour in ["blue", "green"] {
            assert_eq!(
                h.project_containers(&format!("{app}-{colour}")),
                "",
                "{} {colour}",
                h.name
            );
        }
        assert_eq!(h.get("http://127.0.0.1:18472/index.html"), "", "{}", h.name);
    }
    let rows = list_value(&hoist(&["status", "--json"]));
    assert_eq!(rows.len(), 8, "{rows:?}");
    assert!(rows.iter().all(|r| r["state"] == "absent"), "{rows:?}");
}

#[test]
fn logs_exec_and_destroy_take_env_files_and_profiles() {
    let f = fleet();
    let _x = f.hosts_up();
    f.login_hosts();
    let d = project(f);
    let app = format!("ro-envf{}", std::process::id());
    let remote = format!("/tmp/ro-envf-{}", std::process::id());
    let hosts = [f.host(1), f.host(2)];
    let _cleanup = OnDrop(|| {
        for h in hosts {
            h.sh(&format!(
                "cd {remote} 2>/dev/null && {} --project-name {app} --env-file ports.env --profile debug down; rm -rf {remote} /root/.hoist/locks/{app}",
                h.compose_cli()
            ));
        }
    });
    let v1 = f.page_image(&format!("{app}:v1"), "v1");
    // The port comes from an env file that is not .env, and a debug service sits behind a
    // profile: set up by hand, as the runbooks do.
    let compose = format!(
        "services:\n  web:\n    image: {v1}\n    ports:\n      - \"127.0.0.1:${{WEB_PORT:?set WEB_PORT in ports.env}}:8080\"\n    stop_grace_period: 1s\n  debug:\n    image: {v1}\n    profiles: [debug]\n    stop_grace_period: 1s\n"
    );
    for h in hosts {
        h.sh_ok(&format!(
            "mkdir -p {remote} && cd {remote} && printf %s {c} > compose.yml && echo WEB_PORT=18474 > ports.env && \
             {tool} --project-name {app} --env-file ports.env --profile debug up -d 2>&1",
            c = hoist::command::quote(&compose),
            tool = h.compose_cli()
        ));
        assert_eq!(h.project_containers(&app).lines().count(), 2, "{}", h.name);
    }
    // Only host1 and host2 have the app: environment `pair`.
    let two = |args: &[&str]| {
        f.hoist_cmd(d.path())
            .args(args)
            .args(["--env", "pair", "--app", &app, "--dir", &remote])
            .output()
            .unwrap()
    };

    // The project is found by its containers' labels: without the env file (which its compose
    // file needs) as with it.
    for extra in [&[][..], &["--env-files", "ports.env"][..]] {
        let out = ok(&two(&[
            &["exec", "--service", "web", "--cmd", "cat /www/index.html"][..],
            extra,
        ]
        .concat()));
        for h in hosts {
            assert!(out.contains(&format!("[{}] v1", h.name)), "{out}");
        }
    }
    ok(&two(&[
        "logs",
        "--env-files",
        "ports.env",
        "--profiles",
        "debug",
        "--tail",
        "3",
    ]));

    // destroy with the env file and the profile takes the profile's service down too.
    ok(&two(&[
        "destroy",
        "--yes",
        "--env-files",
        "ports.env",
        "--profiles",
        "debug",
    ]));
    for h in hosts {
        assert_eq!(h.project_containers(&app), "", "{}", h.name);
        assert_eq!(h.get("http://127.0.0.1:18474/index.html"), "", "{}", h.name);
    }
}
