//! The runbook examples end to end on the test fleet, as a user runs them: the example copied
//! beside a hoist.toml whose header is the one the example documents, `hoist run` against
//! fleet servers, and every check read through the servers themselves.

mod support;

use support::plan::{host_state, planned_then_run};

use std::path::Path;

use support::fleet::{Fleet, FleetHost, OnDrop, fleet};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name),
    )
    .unwrap()
}

fn run(f: &Fleet, project: &Path, script: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut c = f.hoist_cmd(project);
    c.args(["run", script, "--env", "production"]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &std::process::Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

/// The `hoist.toml:` header an example documents, without the comment marks.
fn documented_inventory(script: &str) -> String {
    let mut lines = script.lines().skip_while(|l| l.trim() != "// hoist.toml:");
    lines
        .next()
        .unwrap_or_else(|| panic!("no `// hoist.toml:` header"));
    lines
        .take_while(|l| l.starts_with("//   "))
        .map(|l| format!("{}\n", &l[5..]))
        .collect()
}

/// Every example's documented hoist.toml is a valid inventory: hoist loads it and resolves
/// its groups (hosts connect lazily, so nothing is contacted).
#[test]
fn every_example_documents_a_valid_inventory() {
    for name in ["nightwatch.rhai", "alphakraken.rhai"] {
        let d = tempfile::tempdir().unwrap();
        let toml = documented_inventory(&example(name));
        write(&d.path().join("hoist.toml"), &toml);
        write(&d.path().join("t.rhai"), "hosts().map(|h| h.name)");
        let o = fleet()
            .hoist_cmd(d.path())
            .args(["run", "t.rhai", "--env", "production", "--json"])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: its hoist.toml header does not load:\n{toml}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Runbook 001 (Nightwatch on Spin): two images built and pushed after a registry login, the
/// mounted directories checked for `o+x`, the stack rendered and started non-root with
/// `cap_drop: ALL` on a compose v2 server as the `deploy` user.
#[test]
fn nightwatch_builds_pushes_checks_mounts_and_starts_the_stack() {
    let f = fleet();
    let h: &FleetHost = f.host(3);
    let id = std::process::id();
    let (stack_dir, static_dir, data_dir) = (
        format!("/home/deploy/nightwatch-{id}/stack"),
        format!("/srv/nightwatch-{id}/static"),
        format!("/srv/nightwatch-{id}/data"),
    );
    let namespace = format!("{}/nightwatch{id}", f.registry);
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(&p.join("nightwatch.rhai"), &example("nightwatch.rhai"));
    write(
        &p.join("hoist.toml"),
        &format!(
            "[env.production.vars]\nregistry = \"{namespace}\"\nregistry_user = \"{user}\"\n\
             stack = \"nightwatch\"\nstack_dir = \"{stack_dir}\"\n\
             mounted = [\"{static_dir}\", \"{data_dir}\"]\n\
             [env.production.hosts]\nspin = [\"{spin}\"]\n",
            user = f.registry_user,
            spin = h.spec_user("deploy"),
        ),
    );
    let base = support::images::stops_at_sigterm();
    for (dir, text) in [("app", "uwsgi app"), ("web", "nginx web")] {
        write(
            &p.join(format!("nightwatch/docker/{dir}/Dockerfile")),
            &format!("FROM {base}\nRUN echo '{text}' > /www/index.html\n"),
        );
    }
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "cd {stack_dir} && docker compose -p nightwatch down; rm -rf /home/deploy/nightwatch-{id} /srv/nightwatch-{id}"
        ));
    });
    // The stack as the runbook keeps it on the server: env file paths, non-root, no caps.
    h.sh_ok(&format!(
        "set -e; mkdir -p {stack_dir} {static_dir} {data_dir}; chmod 0711 /srv/nightwatch-{id}; \
         chown -R deploy: /home/deploy/nightwatch-{id}"
    ));
    let compose = format!(
        "services:\n  app:\n    image: {namespace}/app-uwsgi-flask:latest\n    user: \"${{UID}}\"\n    cap_drop: [ALL]\n\
         \x20   volumes: [\"${{STATIC_DIR}}:/static:ro\"]\n  web:\n    image: {namespace}/web-nginx:latest\n\
         \x20   user: \"${{UID}}\"\n    cap_drop: [ALL]\n    ports: [\"127.0.0.1:18441:8080\"]\n\
         \x20   volumes: [\"${{DATA_DIR}}:/data:ro\"]\n"
    );
    h.sh_ok(&format!(
        "cat > {stack_dir}/docker-compose.yml <<'EOF'\n{compose}EOF\n\
         printf 'STATIC_DIR={static_dir}\\nDATA_DIR={data_dir}\\n' > {stack_dir}/nightwatch.env; \
         chown -R deploy: {stack_dir}"
    ));

    // A directory docker cannot enter is named before anything starts.
    h.sh_ok(&format!("chmod 0700 /srv/nightwatch-{id}"));
    let o = run(f, p, "nightwatch.rhai", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("/srv/nightwatch-{id}")) && err.contains("deploy@host3"),
        "the error names the directory and the host: {err}"
    );
    assert_eq!(
        h.sh_ok("docker ps -q --filter label=com.docker.compose.project=nightwatch"),
        "",
        "nothing started"
    );

    h.sh_ok(&format!("chmod 0711 /srv/nightwatch-{id}"));
    let state = || host_state(h, &[&stack_dir, &static_dir, &data_dir], "nightwatch");
    let out = ok(&planned_then_run(f, p, "nightwatch.rhai", &state));
    assert!(
        out.contains("app-uwsgi-flask"),
        "the rendered stack is shown: {out}"
    );
    for svc in ["app", "web"] {
        let c = format!("nightwatch-{svc}-1");
        let user = h.sh_ok(&format!("docker inspect -f '{{{{.Config.User}}}}' {c}"));
        assert_eq!(user, h.sh_ok("id -u deploy"), "{svc} runs as deploy");
        let caps = h.sh_ok(&format!(
            "docker inspect -f '{{{{.HostConfig.CapDrop}}}}' {c}"
        ));
        assert_eq!(caps, "[ALL]");
        let health = h.sh_ok(&format!(
            "docker inspect -f '{{{{.State.Health.Status}}}}' {c}"
        ));
        assert_eq!(health, "healthy", "{svc}");
    }
    assert_eq!(h.get("http://127.0.0.1:18441/index.html"), "nginx web");
    // The server's engine pulled what this machine pushed: the registry has both images.
    assert!(
        h.read("/home/deploy/.docker/config.json")
            .contains(&f.registry),
        "deploy's engine login"
    );
}

/// Runbook 001 on an orchestrator: the same stack as a swarm over a manager (host3) and a
/// worker (host4), one task of each service per node, non-root, no capabilities; a dry run
/// first changes nothing; the swarm is left afterwards.
#[test]
fn nightwatch_runs_as_a_swarm_stack_on_a_manager_and_a_worker() {
    let f = fleet();
    let (mgr, wrk) = (f.host(3), f.host(4));
    let id = std::process::id();
    let (stack_dir, static_dir, data_dir) = (
        format!("/home/deploy/nws-{id}/stack"),
        format!("/srv/nws-{id}/static"),
        format!("/srv/nws-{id}/data"),
    );
    let namespace = format!("{}/nws{id}", f.registry);
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(
        &p.join("nightwatch-swarm.rhai"),
        &example("nightwatch-swarm.rhai"),
    );
    write(
        &p.join("hoist.toml"),
        &format!(
            "[env.production.vars]\nregistry = \"{namespace}\"\nregistry_user = \"{user}\"\n\
             stack = \"nws\"\nstack_dir = \"{stack_dir}\"\n\
             mounted = [\"{static_dir}\", \"{data_dir}\"]\n\
             [env.production.hosts]\nmanagers = [\"{m}\"]\nworkers = [\"{w}\"]\n",
            user = f.registry_user,
            m = mgr.spec_user("deploy"),
            w = wrk.spec_user("deploy"),
        ),
    );
    let base = support::images::stops_at_sigterm();
    for (dir, text) in [("app", "uwsgi app"), ("web", "nginx web")] {
        write(
            &p.join(format!("nightwatch/docker/{dir}/Dockerfile")),
            &format!("FROM {base}\nRUN echo '{text}' > /www/index.html\n"),
        );
    }
    let _cleanup = OnDrop(|| {
        mgr.sh("docker stack rm nws >/dev/null 2>&1; sleep 2");
        wrk.sh("docker swarm leave --force");
        mgr.sh("docker swarm leave --force");
        for h in [mgr, wrk] {
            h.sh(&format!("rm -rf /home/deploy/nws-{id} /srv/nws-{id}"));
        }
    });
    for h in [mgr, wrk] {
        h.sh_ok(&format!(
            "set -e; mkdir -p {stack_dir} {static_dir} {data_dir}; chmod 0711 /srv/nws-{id}; \
             chown -R deploy: /home/deploy/nws-{id}"
        ));
    }
    let compose = format!(
        "services:\n  app:\n    image: {namespace}/app-uwsgi-flask:latest\n    user: \"${{UID}}\"\n    cap_drop: [ALL]\n\
         \x20   volumes: [\"${{STATIC_DIR}}:/static:ro\"]\n    deploy:\n      mode: global\n\
         \x20 web:\n    image: {namespace}/web-nginx:latest\n\
         \x20   user: \"${{UID}}\"\n    cap_drop: [ALL]\n\
         \x20   ports:\n      - target: 8080\n        published: 18443\n        mode: host\n\
         \x20   volumes: [\"${{DATA_DIR}}:/data:ro\"]\n    deploy:\n      mode: global\n"
    );
    mgr.sh_ok(&format!(
        "cat > {stack_dir}/docker-compose.yml <<'EOF'\n{compose}EOF\n\
         printf 'STATIC_DIR={static_dir}\\nDATA_DIR={data_dir}\\n' > {stack_dir}/nightwatch.env; \
         chown -R deploy: {stack_dir}"
    ));
    // The build and push are local: a dry run plans them, and the swarm part too; the stack
    // cannot be planned before the swarm exists (its spec diff needs a manager), so the plan
    // is checked for what it says and that it changes nothing on the nodes.
    let state = || {
        [mgr, wrk]
            .iter()
            .map(|h| {
                host_state(h, &[&stack_dir], "nws")
                    + h.sh_ok("docker info -f '{{.Swarm.LocalNodeState}}'")
                        .as_str()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let before = state();
    let dry = f
        .hoist_cmd(p)
        .args([
            "run",
            "nightwatch-swarm.rhai",
            "--env",
            "production",
            "--dry-run",
        ])
        .output()
        .unwrap();
    let plan = ok(&dry);
    assert_eq!(state(), before, "the dry run changed a node");
    assert!(plan.contains("swarm init"), "{plan}");
    let out = ok(&run(f, p, "nightwatch-swarm.rhai", &[]));
    assert!(out.contains("nws_web") && out.contains("nws_app"), "{out}");
    // One task of each service on each node, running as deploy with no capabilities.
    for h in [mgr, wrk] {
        for svc in ["app", "web"] {
            let c = h.sh_ok(&format!(
                "docker ps -q --filter label=com.docker.swarm.service.name=nws_{svc}"
            ));
            assert!(!c.is_empty(), "{}: no {svc} task", h.name);
            assert_eq!(
                h.sh_ok(&format!("docker inspect -f '{{{{.Config.User}}}}' {c}")),
                h.sh_ok("id -u deploy")
            );
            assert_eq!(
                h.sh_ok(&format!(
                    "docker inspect -f '{{{{.HostConfig.CapDrop}}}}' {c}"
                )),
                "[ALL]"
            );
        }
        assert_eq!(h.get("http://127.0.0.1:18443/index.html"), "nginx web");
    }
}

/// Runbook 003 (AlphaKraken): pools mounted (bind mounts here: the kernel has no CIFS) and
/// persisted before any worker starts — every pool on the workers, the logs pool on the
/// infrastructure host; the database folder backed up; `git pull` on every machine; the
/// infrastructure profile started before the workers' — over a compose v2 infrastructure host
/// and workers with v1 and v2, as the `deploy` user with sudo.
#[test]
fn alphakraken_mounts_backs_up_pulls_and_starts_infrastructure_then_workers() {
    let f = fleet();
    let id = std::process::id();
    let (infra, workers) = (f.host(1), [f.host(2), f.host(3)]);
    let everyone = [infra, workers[0], workers[1]];
    let (checkout, origin, work, pools, mounts) = (
        format!("/home/deploy/ak{id}"),
        format!("/home/deploy/ak{id}-origin.git"),
        format!("/home/deploy/ak{id}-work"),
        format!("/srv/ak{id}"),
        format!("/mnt/ak{id}"),
    );
    let namespace = format!("{}/ak{id}", f.registry);
    let base = support::images::stops_at_sigterm();
    let (mongo_img, worker_img) = (
        f.push(base, &format!("ak{id}/mongodb:1")),
        f.push(base, &format!("ak{id}/worker:1")),
    );
    assert!(mongo_img.starts_with(&namespace));
    let compose = format!(
        "services:\n  mongodb:\n    image: {mongo_img}\n    profiles: [infrastructure]\n\
         \x20   volumes: [\"./mongodb_data:/data\"]\n  worker:\n    image: {worker_img}\n\
         \x20   profiles: [workers]\n    volumes: [\"${{MOUNTS_PATH}}/output:/output\", \"${{MOUNTS_PATH}}/backup:/backup:ro\"]\n"
    );
    let _cleanup = OnDrop(|| {
        for h in everyone {
            let compose = h.compose_cli();
            h.sh(&format!(
                "cd {checkout} && for p in infrastructure workers; do {compose} --env-file envs/production.env --profile $p down; done; \
                 for p in backup output logs; do umount {mounts}/$p; done; \
                 sed -i '\\#{mounts}/#d' /etc/fstab; rm -rf {checkout} {origin} {work} {pools} {mounts}"
            ));
        }
    });
    let git = "git -c user.name=t -c user.email=t@example.org";
    for h in everyone {
        // The pools' sources, a marker in the output pool, and the deploy user's registry login.
        h.sh_ok(&format!(
            "set -e; for p in backup output logs; do mkdir -p {pools}/pool-$p; done; \
             echo from-the-pool > {pools}/pool-output/marker; \
             echo {pw} | su deploy -c 'docker login -u {user} --password-stdin {reg}' >/dev/null",
            pw = hoist::command::quote(&f.registry_password),
            user = f.registry_user,
            reg = f.registry,
        ));
        // The code: an origin with v1 cloned to the checkout, then v2 pushed (the new version).
        let setup = format!(
            "set -e; git init -q --bare -b main {origin}; git clone -q {origin} {work}; cd {work}; \
             mkdir -p envs mongodb_data; echo 'MOUNTS_PATH={mounts}' > envs/production.env; \
             echo records > mongodb_data/db.txt; cat > compose.yaml <<'EOF'\n{compose}EOF\n\
             echo v1 > VERSION; {git} add .; {git} commit -qm v1; git push -q origin HEAD:main; \
             git clone -q {origin} {checkout}; echo v2 > VERSION; {git} commit -qam v2; \
             git push -q origin HEAD:main"
        );
        h.sh_ok(&format!("su deploy -c {}", hoist::command::quote(&setup)));
    }

    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(&p.join("alphakraken.rhai"), &example("alphakraken.rhai"));
    write(
        &p.join("hoist.toml"),
        &format!(
            "[env.production.vars]\ncheckout = \"{checkout}\"\npool_type = \"bind\"\n\
             pool_user = \"kraken-write\"\nmounts_path = \"{mounts}\"\n\
             [env.production.vars.pools]\nbackup = \"{pools}/pool-backup\"\n\
             output = \"{pools}/pool-output\"\nlogs = \"{pools}/pool-logs\"\n\
             [env.production.hosts]\ninfrastructure = [\"{}\"]\nworkers = [\"{}\", \"{}\"]\n",
            infra.spec_user("deploy"),
            workers[0].spec_user("deploy"),
            workers[1].spec_user("deploy"),
        ),
    );
    let state = || {
        everyone
            .iter()
            .map(|h| host_state(h, &[&checkout, &mounts], &format!("ak{id}")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    ok(&planned_then_run(f, p, "alphakraken.rhai", &state));

    let mounted =
        |h: &FleetHost, pool: &str| h.sh(&format!("findmnt -n {mounts}/{pool}")).code == 0;
    let project_of = |svc: &str| format!("label=com.docker.compose.service={svc}");
    for h in everyone {
        assert_eq!(
            h.read(&format!("{checkout}/VERSION")),
            "v2\n",
            "{} pulled",
            h.name
        );
        assert!(mounted(h, "logs"), "{}: logs pool", h.name);
        let fstab = h.read("/etc/fstab");
        assert_eq!(
            fstab.matches(&format!("{mounts}/logs ")).count(),
            1,
            "{}: one persisted line: {fstab}",
            h.name
        );
    }
    // The infrastructure host: only the logs pool, the database backed up, mongodb running.
    assert!(!mounted(infra, "output") && !mounted(infra, "backup"));
    let backup = infra.sh_ok(&format!("ls {checkout}/backups"));
    assert!(
        backup.starts_with("db-") && backup.ends_with(".tgz"),
        "{backup}"
    );
    let listed = infra.sh_ok(&format!("tar -tzf {checkout}/backups/{backup}"));
    assert!(listed.contains("mongodb_data/db.txt"), "{listed}");
    assert_ne!(
        infra.sh_ok(&format!("docker ps -q --filter {}", project_of("mongodb"))),
        ""
    );
    assert_eq!(
        infra.sh_ok(&format!("docker ps -q --filter {}", project_of("worker"))),
        ""
    );
    for w in workers {
        assert!(mounted(w, "output") && mounted(w, "backup"), "{}", w.name);
        assert_eq!(
            w.sh_ok(&format!("docker ps -q --filter {}", project_of("mongodb"))),
            ""
        );
        // The worker sees the pool through its mount.
        let c = w.sh_ok(&format!("docker ps -q --filter {}", project_of("worker")));
        assert_ne!(c, "", "{}: worker running", w.name);
        assert_eq!(
            w.sh_ok(&format!("docker exec {c} cat /output/marker")),
            "from-the-pool"
        );
    }
}

/// Runbook 002 (JACoW): the unit (mode 0755, RuntimeDirectory), the hourly cron entry, the
/// gitpull update and the journal scan, on a fleet server's real systemd, cron and journald.
/// A second run changes neither the unit nor the crontab.
#[test]
fn jacow_installs_the_unit_and_cron_then_updates_from_git() {
    let f = fleet();
    let h = f.host(2);
    let id = std::process::id();
    let (unit, checkout, origin, work) = (
        format!("jacow{id}.service"),
        format!("/home/deploy/jacow{id}"),
        format!("/home/deploy/jacow{id}-origin.git"),
        format!("/home/deploy/jacow{id}-work"),
    );
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "systemctl disable --now {unit}; rm -f /etc/systemd/system/{unit}; systemctl daemon-reload; \
             crontab -u deploy -r; rm -rf {checkout} {origin} {work}"
        ));
    });
    let git = "git -c user.name=t -c user.email=t@example.org";
    let as_deploy = |script: &str| {
        h.sh_ok(&format!(
            "su deploy -c {}",
            hoist::command::quote(&format!("set -e; {script}"))
        ))
    };
    as_deploy(&format!(
        "git init -q --bare -b main {origin}; git clone -q {origin} {work}; cd {work}; \
         mkdir public; echo v1 > public/index.html; {git} add .; {git} commit -qm v1; \
         git push -q origin HEAD:main; git clone -q {origin} {checkout}; \
         echo v2 > public/index.html; {git} commit -qam v2; git push -q origin HEAD:main"
    ));
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(&p.join("jacow.rhai"), &example("jacow.rhai"));
    write(
        &p.join("hoist.toml"),
        &format!(
            "[env.production.vars]\ncheckout = \"{checkout}\"\nservice = \"{unit}\"\nrun_as = \"deploy\"\n\
             exec_start = \"/usr/bin/python3 -m http.server 18451 --bind 127.0.0.1 --directory {checkout}/public\"\n\
             install = \"echo installed > deps.txt\"\ncron_schedule = \"@hourly\"\n\
             cron_command = \"find /tmp -name 'jacow-*' -mmin +60 -delete\"\n\
             [env.production.hosts]\nvalidator = [\"{}\"]\n",
            h.spec_user("deploy")
        ),
    );
    let state = || host_state(h, &[&checkout], &format!("jacow{id}|hourly"));
    ok(&planned_then_run(f, p, "jacow.rhai", &state));
    assert_eq!(
        h.sh_ok(&format!("stat -c %a /etc/systemd/system/{unit}")),
        "755"
    );
    assert_eq!(h.sh_ok(&format!("systemctl is-enabled {unit}")), "enabled");
    assert_eq!(h.sh_ok(&format!("systemctl is-active {unit}")), "active");
    assert_eq!(h.sh_ok("stat -c '%F %U' /run/gunicorn"), "directory deploy");
    assert_eq!(h.read(&format!("{checkout}/deps.txt")), "installed\n");
    // The service serves the pulled code (asked on the server).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while h.get("http://127.0.0.1:18451/index.html") != "v2" {
        assert!(
            std::time::Instant::now() < deadline,
            "the validator never served v2"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let tab = h.sh_ok("crontab -u deploy -l");
    assert_eq!(tab.matches("# hoist: jacow-hourly").count(), 1, "{tab}");

    // Again: the unit file is not rewritten (no daemon-reload), the cron entry not doubled.
    let before = h.sh_ok(&format!("stat -c %Y /etc/systemd/system/{unit}"));
    let out = ok(&run(f, p, "jacow.rhai", &[]));
    assert!(!out.contains("unit updated"), "{out}");
    assert_eq!(
        h.sh_ok(&format!("stat -c %Y /etc/systemd/system/{unit}")),
        before
    );
    assert_eq!(
        h.sh_ok("crontab -u deploy -l")
            .matches("jacow-hourly")
            .count(),
        1
    );
}

/// Runbook 003's one-time set-up: a package from the host's apt repository (a local one here:
/// the fleet reaches no mirror), the pool users, AIRFLOW_UID in the env file (other lines
/// kept), docker disabled at boot; a second run changes nothing.
#[test]
fn alphakraken_setup_is_desired_state() {
    let f = fleet();
    let h = f.host(4);
    let id = std::process::id();
    let (repo, pkg, checkout) = (
        format!("/srv/ak-setup-repo-{id}"),
        format!("hoist-cifs-utils-{id}"),
        format!("/home/deploy/ak-setup-{id}"),
    );
    let (reader, writer) = (format!("krread{id}"), format!("krwrite{id}"));
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "dpkg --purge {pkg}; userdel {reader}; userdel {writer}; systemctl enable docker.service; \
             rm -rf {repo} {checkout} /etc/apt/sources.list.d/hoist-setup.list; \
             mv /etc/apt/hoist-setup-disabled/* /etc/apt/sources.list.d/ 2>/dev/null; rmdir /etc/apt/hoist-setup-disabled"
        ));
    });
    h.sh_ok(&format!(
        "set -e; mkdir -p {repo} /etc/apt/hoist-setup-disabled; \
         mv /etc/apt/sources.list.d/* /etc/apt/hoist-setup-disabled/ 2>/dev/null || true; \
         echo 'deb [trusted=yes] file:{repo} ./' > /etc/apt/sources.list.d/hoist-setup.list; \
         mkdir -p {checkout}/envs; printf '# airflow\\nAIRFLOW_UID=0\\nAIRFLOW_GID=0\\n' > {checkout}/envs/.env-airflow; \
         chown -R deploy: {checkout}"
    ));
    support::debs::publish(h, &repo, &pkg, "1.0");
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(&p.join("setup.rhai"), &example("alphakraken-setup.rhai"));
    write(
        &p.join("hoist.toml"),
        &format!(
            "[env.production.vars]\ncheckout = \"{checkout}\"\npackages = [\"{pkg}\"]\n\
             pool_users = [\"{reader}\", \"{writer}\"]\ndisable_docker_at_boot = true\n\
             [env.production.hosts]\nworkers = [\"{}\"]\n",
            h.spec_user("deploy")
        ),
    );
    let state = || {
        host_state(
            h,
            &[&checkout],
            &format!("{pkg}|{reader}|{writer}|docker.service"),
        )
    };
    ok(&planned_then_run(f, p, "setup.rhai", &state));
    assert_eq!(
        h.sh_ok(&format!("dpkg-query -W -f='${{Status}}' {pkg}")),
        "install ok installed"
    );
    for u in [&reader, &writer] {
        assert_eq!(
            h.sh_ok(&format!("getent passwd {u} | cut -d: -f7")),
            "/usr/sbin/nologin"
        );
    }
    assert_eq!(
        h.read(&format!("{checkout}/envs/.env-airflow")),
        "# airflow\nAIRFLOW_UID=1000\nAIRFLOW_GID=0\n"
    );
    assert_eq!(
        h.sh("systemctl is-enabled docker.service").stdout.trim(),
        "disabled"
    );
    assert_eq!(
        h.sh_ok("systemctl is-active docker.service"),
        "active",
        "only at boot"
    );
    // Again: nothing to change on any host.
    let mut c = f.hoist_cmd(p);
    let o = c
        .args(["run", "setup.rhai", "--env", "production", "--json"])
        .output()
        .unwrap();
    let out = ok(&o);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["value"][&h.spec_user("deploy")],
        serde_json::json!([]),
        "{last}"
    );
}
