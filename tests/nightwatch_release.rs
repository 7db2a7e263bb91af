//! Runbook 001's Nightwatch stack (examples/nightwatch-stack: literal images, a `.env` with the
//! stack's ids, paths and port, non-root services with every capability dropped) upgraded,
//! rolled back and confirmed with one `hoist upgrade` command each, on a compose v2 server
//! (host1) and a compose v1 one (host2), as the `deploy` user. The stack is started by hand
//! first, as the runbook does. Every check reads the servers themselves.

mod support;

use std::path::Path;

use support::fleet::{Fleet, FleetHost, OnDrop, fleet};

fn ok(o: &std::process::Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/nightwatch-stack")
            .join(name),
    )
    .unwrap()
}

/// Build an image from the test base serving `text` at /index.html; push it as `repo_tag`.
fn image(f: &Fleet, repo_tag: &str, text: &str) -> String {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("index.html"), format!("{text}\n")).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {}\nCOPY index.html /www/index.html\n",
            // Like the runbook's uWSGI and nginx, it stops at SIGTERM.
            support::images::stops_at_sigterm()
        ),
    )
    .unwrap();
    let local = format!("hoist-test/{repo_tag}");
    support::images::build(&local, ctx.path());
    f.push(&local, repo_tag)
}

/// The container of `service` in the stack's project on a host.
fn container(h: &FleetHost, project: &str, service: &str) -> String {
    h.sh_ok(&format!(
        "docker ps -q --filter label=com.docker.compose.project={project} --filter label=com.docker.compose.service={service}"
    ))
}

/// What the app answers, asked from the web container over the stack's own network (the
/// way the runbook's nginx reaches uWSGI).
fn app_says(h: &FleetHost, project: &str) -> String {
    let web = container(h, project, "web");
    h.sh_ok(&format!(
        "docker exec {web} wget -q -O - http://app:8080/index.html"
    ))
}

#[test]
fn the_nightwatch_stack_upgrades_rolls_back_and_confirms_with_one_command_each() {
    let f = fleet();
    let id = std::process::id();
    let hosts = [f.host(1), f.host(2)];
    let app = "ro-nightwatch-stack";
    let base = format!("/home/deploy/ro-nw{id}");
    let dir = format!("{base}/{app}");
    let namespace = format!("{}/ro-nw{id}", f.registry);
    let app_v1 = image(f, &format!("ro-nw{id}/app-uwsgi-flask:1.0"), "app 1.0");
    let app_v2 = image(f, &format!("ro-nw{id}/app-uwsgi-flask:2.0"), "app 2.0");
    let web = image(f, &format!("ro-nw{id}/web-nginx:1.0"), "web 1.0");
    assert!(app_v1.starts_with(&namespace) && web.starts_with(&namespace));

    // The example's files, with this fleet's registry, ids, paths and port.
    let compose =
        example("docker-compose.yml").replace("registry.example.org/alyons18", &namespace);
    let _cleanup = OnDrop(|| {
        for h in hosts {
            h.sh(&format!(
                "cd {dir} 2>/dev/null && {} --project-name {app} down; rm -rf {base} /home/deploy/.hoist/locks/{app}",
                h.compose_cli()
            ));
        }
    });
    let mut env_files = Vec::new();
    for h in hosts {
        let uid = h.sh_ok("id -u deploy");
        let gid = h.sh_ok("id -g deploy");
        let env = example(".env")
            .replace("UID=38305", &format!("UID={uid}"))
            .replace("GROUP_ID=58102", &format!("GROUP_ID={gid}"))
            .replace(
                "/global/project/nightwatchtest",
                &format!("{base}/nightwatchtest"),
            )
            .replace("WEB_PORT=60037", "WEB_PORT=18475");
        h.sh_ok(&format!(
            "set -e; mkdir -p {dir} {base}/nightwatchtest/output {base}/nightwatchtest/data/output; \
             printf %s {c} > {dir}/docker-compose.yml; printf %s {e} > {dir}/.env; chown -R deploy: {base}; \
             echo {pw} | su deploy -c 'docker login -u {user} --password-stdin {reg}' >/dev/null",
            c = hoist::command::quote(&compose),
            e = hoist::command::quote(&env),
            pw = hoist::command::quote(&f.registry_password),
            user = f.registry_user,
            reg = f.registry,
        ));
        // Started by hand, as the runbook does.
        h.sh_ok(&format!(
            "su deploy -c 'cd {dir} && {} up -d' 2>&1",
            h.compose_cli()
        ));
        env_files.push(env);
    }
    for h in hosts {
        assert_eq!(
            h.get("http://127.0.0.1:18475/index.html"),
            "web 1.0",
            "{}",
            h.name
        );
        assert_eq!(app_says(h, app), "app 1.0", "{}", h.name);
    }

    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("hoist.toml"),
        format!(
            "[env.production.hosts]\nweb = [\"{}\", \"{}\"]\n",
            hosts[0].spec_user("deploy"),
            hosts[1].spec_user("deploy")
        ),
    )
    .unwrap();
    let upgrade = |extra: &[&str]| {
        f.hoist_cmd(project.path())
            .args([
                "upgrade",
                "--watch",
                "0",
                "--env",
                "production",
                "--app",
                app,
                "--dir",
                &dir,
                "--timeout",
                "60",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    // The stack is as the runbook left it: files byte for byte, non-root, no capabilities,
    // web untouched.
    let unchanged = |h: &FleetHost, env: &str, what: &str| {
        assert_eq!(
            h.read(&format!("{dir}/docker-compose.yml")),
            compose,
            "{}: {what}",
            h.name
        );
        assert_eq!(h.read(&format!("{dir}/.env")), env, "{}: {what}", h.name);
        let uid = h.sh_ok("id -u deploy");
        for svc in ["app", "web"] {
            let c = container(h, app, svc);
            let user = h.sh_ok(&format!("docker inspect -f '{{{{.Config.User}}}}' {c}"));
            assert_eq!(
                user.split(':').next(),
                Some(uid.as_str()),
                "{}: {svc} {what}",
                h.name
            );
            let caps = h.sh_ok(&format!(
                "docker inspect -f '{{{{.HostConfig.CapDrop}}}}' {c}"
            ));
            assert_eq!(caps, "[ALL]", "{}: {svc} {what}", h.name);
        }
        assert_eq!(
            h.get("http://127.0.0.1:18475/index.html"),
            "web 1.0",
            "{}: {what}",
            h.name
        );
        let web_image = h.sh_ok(&format!(
            "docker inspect -f '{{{{.Config.Image}}}}' {}",
            container(h, app, "web")
        ));
        assert_eq!(web_image, web, "{}: {what}", h.name);
    };

    // One command: upgrade the app to 2.0.
    ok(&upgrade(&["--image", &app_v2]));
    for (h, env) in hosts.iter().zip(&env_files) {
        assert_eq!(app_says(h, app), "app 2.0", "{}", h.name);
        unchanged(h, env, "after the upgrade");
        let pin = h.read(&format!("{dir}/docker-compose.override.yml"));
        assert!(
            pin.contains(&app_v2) && !pin.contains("web-nginx"),
            "{}: {pin}",
            h.name
        );
        // Recorded: the stack as the runbook started it (r1, found in place) and the upgrade
        // (r2), each pinned by the digest its image has on the host.
        let recs = h.releases(&dir);
        let seen: Vec<String> = recs
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["id"].as_str().unwrap(),
                    r["outcome"].as_str().unwrap(),
                    r["image"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                format!("r1 superseded {app_v1}"),
                format!("r2 live {app_v2}")
            ],
            "{}",
            h.name
        );
        assert_eq!(
            recs[1]["pinned"],
            h.repo_digest(&app_v2).as_str(),
            "{}",
            h.name
        );
        assert!(
            pin.contains(recs[1]["pinned"].as_str().unwrap()),
            "{}: {pin}",
            h.name
        );
    }

    // One command: roll back to 1.0.
    ok(&upgrade(&["--rollback"]));
    for (h, env) in hosts.iter().zip(&env_files) {
        assert_eq!(app_says(h, app), "app 1.0", "{}", h.name);
        unchanged(h, env, "after the rollback");
    }

    // Upgrade again, then one command: confirm 2.0 (the release before is forgotten).
    ok(&upgrade(&["--image", &app_v2]));
    ok(&upgrade(&["--confirm"]));
    for (h, env) in hosts.iter().zip(&env_files) {
        assert_eq!(app_says(h, app), "app 2.0", "{}", h.name);
        unchanged(h, env, "after the confirm");
        let live = h.live_release(&dir);
        assert_eq!(live["confirmed"], true, "{}: {live}", h.name);
        assert_eq!(live["image"], app_v2.as_str(), "{}: {live}", h.name);
    }
    let o = upgrade(&["--rollback"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no previous release"), "{err}");
    for h in hosts {
        assert_eq!(app_says(h, app), "app 2.0", "{}", h.name);
    }
}
