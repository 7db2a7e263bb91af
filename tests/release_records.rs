//! Release records on the test fleet (host1: compose v2, host2: compose v1; bluegreen on host3
//! and host4), through the `hoist` binary: deploy with env files and profiles (copied beside
//! the compose file, their digests in the record, reused by upgrade, status and rollback);
//! bluegreen with env files and profiles; a project an older hoist released (current.env,
//! previous.env, releases.log) read as records and migrated by its next release. Every check
//! reads the hosts themselves.

mod support;

use std::process::Output;

use support::fleet::{FleetHost, OnDrop, fleet};

fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

/// The rows of a `--json` run's result.
fn rows(o: &Output) -> Vec<serde_json::Value> {
    let out = ok(o);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    last["value"].as_array().unwrap().clone()
}

/// sha256 of a file in `dir` on the host, as its own sha256sum says.
fn sum_on(h: &FleetHost, dir: &str, file: &str) -> String {
    h.sh_ok(&format!("cd {dir} && sha256sum {file} | cut -d' ' -f1"))
}

/// Take a compose project's containers and networks off the host by their labels (compose
/// itself would need the env files that the test removes with the directory).
fn purge(h: &FleetHost, project: &str) {
    h.sh(&format!(
        "docker ps -aq --filter label=com.docker.compose.project={project} | xargs -r docker rm -f; \
         docker network ls -q --filter label=com.docker.compose.project={project} | xargs -r docker network rm"
    ));
}

/// `docker exec` in the project's container of `service`: `cmd`'s output.
fn in_service(h: &FleetHost, app: &str, service: &str, cmd: &str) -> String {
    h.sh_ok(&format!(
        "docker exec $(docker ps -q --filter label=com.docker.compose.project={app} --filter label=com.docker.compose.service={service}) {cmd}"
    ))
}

#[test]
fn deploy_copies_env_files_and_enables_profiles_records_their_digests_and_later_runs_reuse_them() {
    let f = fleet();
    let hosts = [f.host(1), f.host(2)];
    let pid = std::process::id();
    let app = format!("hrenv{pid}");
    let remote = format!("/tmp/hr-env-{pid}");
    let _cleanup = OnDrop(|| {
        for h in hosts {
            purge(h, &app);
            h.sh(&format!("rm -rf {remote} /root/.hoist/locks/{app}"));
        }
    });
    let d = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("hoist.toml"),
        format!(
            "[env.test]\nvars = {{ registry = \"{}\" }}\n[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n",
            f.registry
        ),
    )
    .unwrap();
    // The port and a setting come from two env files (one in a subdirectory locally); a debug
    // service sits behind a profile.
    std::fs::write(
        d.path().join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${WEB_PORT:?set WEB_PORT}:8080\"\n    environment:\n      GREETING: ${GREETING}\n    stop_grace_period: 1s\n  debug:\n    image: ${IMAGE}\n    profiles: [debug]\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    std::fs::write(d.path().join("ports.env"), "WEB_PORT=18481\n").unwrap();
    std::fs::create_dir_all(d.path().join("conf")).unwrap();
    std::fs::write(
        d.path().join("conf/app.env"),
        "GREETING=hello from app.env\n",
    )
    .unwrap();
    support::images::page_context(d.path(), "v1");
    let hoist = |args: &[&str]| {
        f.hoist_cmd(d.path())
            .env("HOME", home.path())
            .args(args)
            .args(["--env", "test", "--app", &app, "--dir", &remote])
            .output()
            .unwrap()
    };
    let check = [
        "--health-port",
        "18481",
        "--health-path",
        "/index.html",
        "--watch",
        "0",
    ];
    ok(&hoist(
        &[
            &[
                "deploy",
                "--user",
                &f.registry_user,
                "--context",
                "app",
                "--tag",
                "v1",
                "--env-files",
                "ports.env,conf/app.env",
                "--profiles",
                "debug",
            ][..],
            &check[..],
        ]
        .concat(),
    ));
    let served = |h: &FleetHost| h.get("http://127.0.0.1:18481/index.html");
    for h in hosts {
        assert_eq!(served(h), "v1", "{}", h.name);
        // The env files sit beside the compose file under their own names, readable by the
        // owner only; the project's variables reach the service; the profile's service runs.
        assert_eq!(h.read(&format!("{remote}/ports.env")), "WEB_PORT=18481\n");
        assert_eq!(
            h.read(&format!("{remote}/app.env")),
            "GREETING=hello from app.env\n"
        );
        assert_eq!(
            h.sh_ok(&format!("stat -c %a {remote}/ports.env {remote}/app.env")),
            "600\n600"
        );
        assert_eq!(
            in_service(h, &app, "web", "sh -c 'echo $GREETING'"),
            "hello from app.env"
        );
        assert_eq!(
            in_service(h, &app, "debug", "cat /www/index.html"),
            "v1",
            "{}",
            h.name
        );
        // The record holds the env files, the profile and each file's digest (the host's).
        let live = h.live_release(&remote);
        assert_eq!(
            live["env_files"],
            serde_json::json!(["ports.env", "app.env"])
        );
        assert_eq!(live["profiles"], serde_json::json!(["debug"]));
        for file in ["docker-compose.yml", "ports.env", "app.env"] {
            assert_eq!(
                live["files"][file],
                sum_on(h, &remote, file).as_str(),
                "{}: {file}: {live}",
                h.name
            );
        }
        assert_eq!(
            live["params"]["env_files"],
            serde_json::json!(["ports.env", "conf/app.env"])
        );
    }

    // upgrade, status and rollback are not told the env files or the profile again: the live
    // release's record has them.
    let v2 = f.page_image(&format!("{app}:v2"), "v2");
    f.login_hosts();
    ok(&hoist(
        &[&["upgrade", "--image", &v2][..], &check[..]].concat(),
    ));
    for h in hosts {
        assert_eq!(served(h), "v2", "{}", h.name);
        assert_eq!(in_service(h, &app, "debug", "cat /www/index.html"), "v2");
        let live = h.live_release(&remote);
        assert_eq!(live["id"], "r2");
        assert_eq!(
            live["env_files"],
            serde_json::json!(["ports.env", "app.env"])
        );
        assert_eq!(
            live["files"]["ports.env"],
            sum_on(h, &remote, "ports.env").as_str()
        );
    }
    let status = rows(&hoist(&["status", "--json"]));
    for h in hosts {
        let mut mine: Vec<String> = status
            .iter()
            .filter(|r| r["host"] == h.spec().as_str())
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["service"].as_str().unwrap(),
                    r["state"].as_str().unwrap(),
                    r["release"].as_str().unwrap()
                )
            })
            .collect();
        mine.sort();
        assert_eq!(
            mine,
            [format!("debug running {v2}"), format!("web running {v2}")],
            "{}: {status:?}",
            h.name
        );
    }
    ok(&hoist(
        &[&["upgrade", "--rollback"][..], &check[..]].concat(),
    ));
    for h in hosts {
        assert_eq!(served(h), "v1", "{}", h.name);
        assert_eq!(in_service(h, &app, "debug", "cat /www/index.html"), "v1");
    }
}

#[test]
fn bluegreen_takes_env_files_and_profiles() {
    let f = fleet();
    f.login_hosts();
    let pid = std::process::id();
    for h in [f.host(3), f.host(4)] {
        let app = format!("hrbg{pid}");
        let remote = format!("/tmp/hr-bg-{pid}");
        let _cleanup = OnDrop(|| {
            for colour in ["blue", "green"] {
                purge(h, &format!("{app}-{colour}"));
            }
            h.sh(&format!("rm -rf {remote} /root/.hoist/locks/{app}"));
        });
        let v1 = f.page_image(&format!("{app}:v1"), "v1");
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("hoist.toml"),
            format!("[env.test.hosts]\nweb = [\"{}\"]\n", h.spec()),
        )
        .unwrap();
        std::fs::write(
            d.path().join("compose.yml"),
            "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    environment:\n      GREETING: ${GREETING:?set GREETING}\n    stop_grace_period: 1s\n  debug:\n    image: ${IMAGE}\n    profiles: [debug]\n    stop_grace_period: 1s\n",
        )
        .unwrap();
        std::fs::write(d.path().join("greet.env"), "GREETING=hello blue\n").unwrap();
        ok(&f
            .hoist_cmd(d.path())
            .args([
                "bluegreen",
                "--env",
                "test",
                "--app",
                &app,
                "--dir",
                &remote,
                "--image",
                &v1,
                "--blue-port",
                "18483",
                "--green-port",
                "18484",
                "--health-path",
                "/index.html",
                "--timeout",
                "20",
                "--env-files",
                "greet.env",
                "--profiles",
                "debug",
            ])
            .output()
            .unwrap());
        assert_eq!(
            h.get("http://127.0.0.1:18483/index.html"),
            "v1",
            "{}",
            h.name
        );
        assert_eq!(
            h.read(&format!("{remote}/blue/greet.env")),
            "GREETING=hello blue\n"
        );
        assert_eq!(
            in_service(h, &format!("{app}-blue"), "web", "sh -c 'echo $GREETING'"),
            "hello blue",
            "{}",
            h.name
        );
        assert_eq!(
            in_service(h, &format!("{app}-blue"), "debug", "cat /www/index.html"),
            "v1",
            "{}",
            h.name
        );
    }
}

#[test]
fn a_project_an_older_hoist_released_is_read_as_records_and_migrated_by_its_next_release() {
    let f = fleet();
    f.login_hosts();
    let hosts = [f.host(1), f.host(2)];
    let pid = std::process::id();
    let app = format!("hrold{pid}");
    let remote = format!("/tmp/hr-old-{pid}");
    let _cleanup = OnDrop(|| {
        for h in hosts {
            h.remove_app(&app, &remote);
        }
    });
    let v1 = f.page_image(&format!("{app}:v1"), "v1");
    let bad = format!("{}/{app}:bad", f.registry);
    let v2 = f.page_image(&format!("{app}:v2"), "v2");
    // What an older hoist left: the release in current.env / previous.env, its log, its pin.
    let log = format!(
        "2026-11-01T10:00:00Z {v1}\n2026-11-02T10:00:00Z {bad}\n2026-11-02T10:01:00Z {bad} rolled-back\n2026-11-03T10:00:00Z {v2}\n"
    );
    let pin = format!(
        "# Written by hoist: the release this project runs.\n# The project's compose file, .env and env files are never rewritten.\nservices:\n  web:\n    image: \"{v2}\"\n"
    );
    for h in hosts {
        h.sh_ok(&format!(
            "mkdir -p {remote}/.hoist && cd {remote} && docker pull -q {v1} >/dev/null && \
             printf %s {c} > compose.yml && printf %s {p} > docker-compose.override.yml && \
             printf 'IMAGE=%s\\n' {v2} > .hoist/current.env && printf 'IMAGE=%s\\n' {v1} > .hoist/previous.env && \
             printf %s {l} > .hoist/releases.log && {tool} --project-name {app} up -d 2>&1",
            c = hoist::command::quote(
                "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:18482:8080\"\n    stop_grace_period: 1s\n"
            ),
            p = hoist::command::quote(&pin),
            l = hoist::command::quote(&log),
            tool = h.compose_cli()
        ));
        assert_eq!(
            h.get("http://127.0.0.1:18482/index.html"),
            "v2",
            "{}",
            h.name
        );
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("hoist.toml"),
        "[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n",
    )
    .unwrap();
    let hoist = |args: &[&str]| {
        f.hoist_cmd(d.path())
            .args(args)
            .args(["--env", "test", "--app", &app, "--dir", &remote])
            .output()
            .unwrap()
    };
    let history = |o: &Output, h: &FleetHost| -> Vec<String> {
        rows(o)
            .iter()
            .filter(|r| r["host"] == h.spec().as_str())
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

    // Read as records, newest first; reading changes nothing.
    let o = hoist(&["releases", "--json"]);
    for h in hosts {
        assert_eq!(
            history(&o, h),
            [
                format!("r3 live {v2}"),
                format!("r2 failed {bad}"),
                format!("r1 superseded {v1}")
            ],
            "{}",
            h.name
        );
        assert_eq!(h.read(&format!("{remote}/.hoist/releases.log")), log);
        assert_eq!(h.read(&format!("{remote}/.hoist/releases.jsonl")), "");
    }

    // The next release (a rollback to r1) migrates them: one records file, the old ones gone.
    ok(&hoist(&[
        "upgrade",
        "--watch",
        "0",
        "--rollback",
        "--health-port",
        "18482",
        "--health-path",
        "/index.html",
    ]));
    let o = hoist(&["releases", "--json"]);
    for h in hosts {
        assert_eq!(
            h.get("http://127.0.0.1:18482/index.html"),
            "v1",
            "{}",
            h.name
        );
        assert_eq!(
            history(&o, h),
            [
                format!("r3 rolled-back {v2}"),
                format!("r2 failed {bad}"),
                format!("r1 live {v1}")
            ],
            "{}",
            h.name
        );
        assert_eq!(h.releases(&remote).len(), 3, "{}", h.name);
        // The old files are gone: the records and the kept files of the releases from now on.
        assert_eq!(
            h.sh_ok(&format!("ls -A {remote}/.hoist")),
            "releases\nreleases.jsonl",
            "{}",
            h.name
        );
        // Migrated records were pinned by tag by the older hoist, and say so.
        let live = h.live_release(&remote);
        assert_eq!(
            (live["pin"].as_str(), live["pinned"].as_str()),
            (Some("tag"), Some(v1.as_str()))
        );
        assert!(
            live["note"].as_str().unwrap().contains("older hoist"),
            "{live}"
        );
    }
}
