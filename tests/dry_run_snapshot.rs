//! A dry run changes nothing, proven through the hosts: every check snapshots a fleet server
//! as a person with a root shell there would see it — file tree digests of the directories the
//! run touches, users and groups, crontabs, systemd units, the engine's containers, images,
//! volumes, networks, secrets, configs and swarm services (with their spec versions), the
//! server's swarm membership, and the fleet registry's tags — before and after a `--dry-run`
//! of primitives and built-in recipes, and asserts the two are identical. The real run that
//! follows must then record, in the audit log, exactly the changes the plan listed.
//!
//! The snapshot reads through `docker exec` and the registry's HTTP API, never through hoist:
//! a bypass of hoist's effect boundary (an engine call made around it) is seen here.

mod support;

use std::process::Output;

use serde_json::Value;
use support::fleet::{Fleet, FleetHost, OnDrop, fleet};
use support::plan::{audited_last_run, plan_of, planned};

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Everything a run could change on `h`, read through the host; `dirs` are the directories
/// whose file trees are digested.
fn host_snapshot(h: &FleetHost, dirs: &[&str]) -> String {
    let mut script = String::new();
    for d in dirs {
        script.push_str(&format!(
            "echo '## files {d}'; (cd {d} 2>/dev/null && find . -type f -exec sha256sum {{}} + | sort); \
             find {d} -printf '%p %y %m %u %g %l\\n' 2>/dev/null | sort; "
        ));
    }
    script.push_str(
        "echo '## accounts'; getent passwd; getent group; \
         echo '## crontabs'; for f in /var/spool/cron/crontabs/*; do [ -f \"$f\" ] && echo \"$f\" && cat \"$f\"; done; \
         echo '## units'; (cd /etc/systemd/system && find . -exec sha256sum {} + 2>/dev/null | sort; find . -type l -printf '%p -> %l\\n' | sort); \
         echo '## mounts'; cut -d' ' -f2,3 /proc/mounts | grep -v -e ' overlay' -e ' nsfs' -e /var/lib/docker | sort; \
         echo '## containers'; docker ps -a --format '{{.Names}} {{.Image}} {{.ID}} {{.State}}' | sort; \
         echo '## images'; docker images --digests --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}' | sort; \
         echo '## volumes'; docker volume ls -q | sort; \
         echo '## networks'; docker network ls --format '{{.Name}} {{.ID}} {{.Driver}}' | sort; \
         echo '## swarm'; docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.ControlAvailable}}'; \
         if [ \"$(docker info -f '{{.Swarm.ControlAvailable}}')\" = true ]; then \
           echo '## secrets'; docker secret ls --format '{{.Name}} {{.ID}}' | sort; \
           echo '## configs'; docker config ls --format '{{.Name}} {{.ID}}' | sort; \
           echo '## services'; for s in $(docker service ls -q); do docker service inspect -f '{{.Spec.Name}} {{.Version.Index}}' \"$s\"; done | sort; \
           echo '## nodes'; docker node ls --format '{{.Hostname}} {{.Availability}}' | sort; \
         fi",
    );
    h.sh_ok(&script)
}

/// The fleet registry's repositories under `prefix` and their tags with digests, read over
/// its HTTP API with curl (the credentials go in on stdin, not in argv).
fn registry_snapshot(f: &Fleet, prefix: &str) -> String {
    let curl = |path: &str, head: bool| -> String {
        let mut c = std::process::Command::new("curl");
        c.args(["-sS", "--fail-with-body", "-K", "-", "--cacert"])
            .arg(f.dir.join("registry/ca.crt"))
            .args([
                "-H",
                "Accept: application/vnd.docker.distribution.manifest.v2+json",
            ]);
        if head {
            c.args(["-I"]);
        }
        c.arg(format!("https://{}{path}", f.registry))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().expect("curl (apt-get install -y curl)");
        use std::io::Write;
        writeln!(
            child.stdin.take().unwrap(),
            "user = \"{}:{}\"",
            f.registry_user,
            f.registry_password
        )
        .unwrap();
        let o = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let catalog: Value = serde_json::from_str(&curl("/v2/_catalog?n=1000", false))
        .unwrap_or_else(|e| panic!("the registry's catalog: {e}"));
    let mut out = vec![];
    for repo in catalog["repositories"].as_array().into_iter().flatten() {
        let repo = repo.as_str().unwrap();
        if !repo.starts_with(prefix) {
            continue;
        }
        let tags: Value =
            serde_json::from_str(&curl(&format!("/v2/{repo}/tags/list"), false)).unwrap();
        for tag in tags["tags"].as_array().into_iter().flatten() {
            let tag = tag.as_str().unwrap();
            let head = curl(&format!("/v2/{repo}/manifests/{tag}"), true);
            let digest = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("docker-content-digest:")
                        .map(|d| d.trim().to_string())
                })
                .unwrap_or_default();
            out.push(format!("{repo}:{tag} {digest}"));
        }
    }
    out.sort();
    out.join("\n")
}

/// The lines a dry run changed, as a unified diff.
fn changed(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(1)
        .to_string()
}

/// A project on the controller whose inventory is `hosts_toml`, plus the fleet's registry var.
struct Project {
    f: &'static Fleet,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Project {
    fn new(hosts_toml: &str) -> Project {
        let f = fleet();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hoist.toml"),
            format!(
                "[env.test]\nvars = {{ registry = \"{}\", registry_user = \"{}\" }}\n[env.test.hosts]\n{hosts_toml}",
                f.registry, f.registry_user
            ),
        )
        .unwrap();
        Project {
            f,
            dir,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn hoist(&self, args: &[&str]) -> Output {
        let mut c = self.f.hoist_cmd(self.dir.path());
        c.env("HOME", self.home.path())
            .args(args)
            .args(["--env", "test"]);
        c.output().expect("run hoist")
    }

    /// `args --dry-run` leaves `snapshot` as it was and plans with no uncertain line; the real
    /// run then records exactly the planned changes in the audit log. The plan.
    fn planned_then_run(&self, args: &[&str], snapshot: &dyn Fn() -> String) -> Value {
        let before = snapshot();
        let mut dry = args.to_vec();
        dry.extend(["--dry-run", "--json"]);
        let o = self.hoist(&dry);
        assert!(o.status.success(), "{args:?} --dry-run: {}", text(&o));
        let plan = plan_of(&String::from_utf8_lossy(&o.stdout));
        let after = snapshot();
        assert!(
            after == before,
            "{args:?} --dry-run changed the world:\n{}",
            changed(&before, &after)
        );
        assert_eq!(plan["uncertain"], Value::Array(vec![]), "{args:?}: {plan}");
        let mut want = planned(&plan);
        want.sort_by_key(|(h, _, _)| h.clone());
        let o = self.hoist(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert_eq!(
            audited_last_run(self.dir.path()),
            want,
            "{args:?}: the run did not make what its plan said"
        );
        plan
    }
}

/// The built-in `stack` recipe on a one-node swarm: deploy planned and made, a redeploy with
/// a changed secret (the old secret object stays, unused), then `rm` planned — which must
/// leave every secret, config and network of the stack where it is — and made.
#[test]
fn stack_deploy_and_rm_under_dry_run_change_nothing_and_plan_what_they_do() {
    let f = fleet();
    let h = f.host(3);
    let stack = format!("gs{}", std::process::id());
    let dir = format!("/tmp/hoist-gate-stack-{}", std::process::id());
    let image = f.page_image("gate-snap/web:v1", "v1");
    f.login_hosts();
    h.sh_ok(&format!(
        "[ \"$(docker info -f '{{{{.Swarm.LocalNodeState}}}}')\" = active ] || docker swarm init --advertise-addr {} >/dev/null",
        h.ip
    ));
    // The engine makes the swarm's `docker_gwbridge` network a moment after `swarm init`
    // returns (CI once saw it appear during the dry run): wait for it, so the snapshot taken
    // before the dry run already holds it.
    h.sh_ok(
        "for i in $(seq 120); do docker network inspect docker_gwbridge >/dev/null 2>&1 && exit 0; sleep 0.25; done; \
         echo 'docker_gwbridge did not appear within 30 s of swarm init' >&2; exit 1",
    );
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "docker stack rm {stack} >/dev/null 2>&1; sleep 3; \
             docker secret ls -q --filter label=com.docker.stack.namespace={stack} | xargs -r docker secret rm; \
             docker config ls -q --filter label=com.docker.stack.namespace={stack} | xargs -r docker config rm; \
             docker swarm leave --force; rm -rf {dir}"
        ));
    });
    h.sh_ok(&format!(
        "mkdir -p {dir} && echo s3cret > {dir}/token.txt && echo hello > {dir}/motd.txt && cat > {dir}/compose.yaml <<'EOF'\n\
         services:\n  web:\n    image: {image}\n    ports:\n      - target: 8080\n        published: 18591\n        mode: host\n\
         \x20   secrets: [token]\n    configs: [motd]\n\
         secrets:\n  token:\n    file: ./token.txt\nconfigs:\n  motd:\n    file: ./motd.txt\nEOF"
    ));
    let p = Project::new("managers = [\"host3\"]\n");
    let snapshot = || host_snapshot(h, &[&dir]);
    let recipe = |action: &str| -> Vec<String> {
        [
            "stack",
            "--name",
            &stack,
            "--dir",
            &dir,
            "--action",
            action,
            "--timeout",
            "120",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let deploy = recipe("deploy");
    let plan = p.planned_then_run(&args(&deploy), &snapshot);
    let kinds: Vec<String> = planned(&plan).into_iter().map(|(_, k, _)| k).collect();
    for k in [
        "docker secret create",
        "docker config create",
        "docker network create",
        "docker service create",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} not planned: {plan}");
    }

    // A changed secret is a new secret object; the old one stays behind, unused.
    h.sh_ok(&format!("echo n3w > {dir}/token.txt"));
    let o = p.hoist(&args(&deploy));
    assert!(o.status.success(), "redeploy: {}", text(&o));
    let secrets = h.sh_ok(&format!(
        "docker secret ls -q --filter label=com.docker.stack.namespace={stack} | wc -l"
    ));
    assert_eq!(secrets, "2", "the old secret and the new one");

    // rm: the plan names every service, network, secret and config it removes; the dry run
    // removes none of them; the real run removes exactly those.
    let plan = p.planned_then_run(&args(&recipe("rm")), &snapshot);
    let kinds: Vec<String> = planned(&plan).into_iter().map(|(_, k, _)| k).collect();
    for k in [
        "docker service rm",
        "docker network rm",
        "docker secret rm",
        "docker config rm",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} not planned: {plan}");
    }
    // A node lets go of an overlay network a moment after the manager removed it.
    let left = || {
        h.sh_ok(&format!(
            "docker secret ls --filter label=com.docker.stack.namespace={stack} --format 'secret {{{{.Name}}}}'; \
             docker config ls --filter label=com.docker.stack.namespace={stack} --format 'config {{{{.Name}}}}'; \
             docker network ls --filter label=com.docker.stack.namespace={stack} --format 'network {{{{.Name}}}}'"
        ))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !left().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(left(), "", "rm left objects of the stack behind");
}

/// The primitives that change a host, its engine and the registry, each once in a script:
/// its dry run changes nothing a root shell or the registry can see and plans exactly what
/// the real run then does; then the script that undoes them, the same way.
#[test]
fn primitives_under_dry_run_change_nothing_and_plan_what_they_do() {
    let f = fleet();
    let h = f.host(1);
    let pid = std::process::id();
    let dir = format!("/tmp/hoist-gate-prims-{pid}");
    let image = f.page_image("gate-snap/web:v1", "v1");
    f.login_hosts();
    let user = format!("gsnap{}", pid % 100000);
    let tagged = format!("{}/gate-snap/copy{pid}:t", f.registry);
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "rm -rf {dir}; userdel -r {user} 2>/dev/null; groupdel {user}g 2>/dev/null; \
             crontab -l 2>/dev/null | grep -v gsnap{pid} | crontab -; \
             rm -f /etc/systemd/system/gsnap{pid}.service; systemctl daemon-reload; \
             docker rm -f gsnap{pid}; docker volume rm gsnap{pid}; docker network rm gsnap{pid}; \
             docker rmi {tagged} gsnap{pid}/local:t; umount {dir}-tmp 2>/dev/null; rm -rf {dir}-tmp; true"
        ));
    });
    let p = Project::new("web = [\"host1\"]\n");
    let up = p.dir.path().join("up.rhai");
    std::fs::write(
        &up,
        format!(
            r#"let h = hosts("web")[0];
let d = h.docker();
let dir = "{dir}";
h.mkdir(dir);
h.write(`${{dir}}/a.conf`, "one\n");
h.line_in_file(`${{dir}}/a.conf`, #{{line: "two"}});
h.block_in_file(`${{dir}}/b.conf`, "x = 1", #{{}});
h.set_env(`${{dir}}/.env`, #{{K: "v"}});
h.append(`${{dir}}/log.txt`, "line\n");
h.file(`${{dir}}/sub`, #{{state: "directory", mode: "0750"}});
h.file(`${{dir}}/link`, #{{state: "link", src: `${{dir}}/a.conf`}});
h.group("{user}g", #{{}});
h.user("{user}", #{{groups: ["{user}g"], shell: "/bin/sh"}});
h.cron("gsnap{pid}", #{{schedule: "*/5 * * * *", command: "true gsnap{pid}"}});
h.systemd("gsnap{pid}.service").install("[Unit]\nDescription=gsnap\n[Service]\nExecStart=/bin/sleep 1000\n");
h.mount(#{{type: "tmpfs", target: `${{dir}}-tmp`, options: "size=1m"}});
d.ensure_volume("gsnap{pid}");
d.ensure_network("gsnap{pid}");
d.pull("{image}");
d.tag("{image}", "gsnap{pid}/local:t");
d.tag("{image}", "{tagged}");
d.push("{tagged}");
d.run("{image}", #{{name: "gsnap{pid}"}});
d.stop("gsnap{pid}");
"#
        ),
    )
    .unwrap();
    let down = p.dir.path().join("down.rhai");
    std::fs::write(
        &down,
        format!(
            r#"let h = hosts("web")[0];
let d = h.docker();
let dir = "{dir}";
d.rm("gsnap{pid}");
d.rmi("gsnap{pid}/local:t");
d.remove_network("gsnap{pid}");
d.remove_volume("gsnap{pid}");
registry("https://{reg}", #{{user: "{ruser}", password_env: "REGISTRY_PASSWORD"}}).delete("{tagged}");
h.umount(`${{dir}}-tmp`);
h.systemd("gsnap{pid}.service").disable();
h.cron("gsnap{pid}", #{{state: "absent"}});
h.user("{user}", #{{state: "absent"}});
h.group("{user}g", #{{state: "absent"}});
h.line_in_file(`${{dir}}/a.conf`, #{{line: "two", state: "absent"}});
h.remove(`${{dir}}/log.txt`);
h.remove(`${{dir}}/sub`, #{{recursive: true}});
"#,
            reg = f.registry,
            ruser = f.registry_user,
        ),
    )
    .unwrap();
    let snapshot = || {
        format!(
            "{}\n## registry\n{}",
            host_snapshot(h, &[&dir, &format!("{dir}-tmp")]),
            registry_snapshot(f, "gate-snap/")
        )
    };
    for script in [&up, &down] {
        let s = script.to_str().unwrap();
        p.planned_then_run(&["run", s], &snapshot);
    }
}

/// Edits of one file in a dry run build on each other: a line added to a file the run has not
/// made yet, a second line, a block and an `h.edit_file` after it, two authorized keys and two
/// cron entries each
/// plan the content the real run would leave — the second edit reads the first one's planned
/// file, not the host — and a crontab change is a file change with its diff.
#[test]
fn edits_of_one_file_in_a_dry_run_build_on_each_other() {
    let f = fleet();
    let h = f.host(2);
    let pid = std::process::id();
    let path = format!("/tmp/hoist-gate-edits-{pid}/app.conf");
    let user = format!("gedit{}", pid % 100000);
    h.sh_ok(&format!(
        "useradd -m {user} && mkdir -p /tmp/hoist-gate-edits-{pid}"
    ));
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "userdel -r {user} 2>/dev/null; rm -rf /tmp/hoist-gate-edits-{pid}"
        ));
    });
    let before = host_snapshot(h, &[&format!("/tmp/hoist-gate-edits-{pid}")]);
    let rt = f.dry_runtime();
    let k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHIyone one@laptop";
    let k2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHIytwo two@laptop";
    support::run_script(
        &rt,
        &format!(
            r#"let h = ssh("host2");
               h.line_in_file("{path}", #{{line: "a = 1"}});
               h.line_in_file("{path}", #{{line: "b = 2"}});
               h.block_in_file("{path}", "c = 3", #{{}});
               h.edit_file("{path}", |old| old + "d = 4\n");
               h.authorized_key("{user}", "{k1}", #{{}});
               h.authorized_key("{user}", "{k2}", #{{}});
               h.cron("first", #{{schedule: "@hourly", command: "true 1", user: "{user}"}});
               h.cron("second", #{{schedule: "@daily", command: "true 2", user: "{user}"}});"#
        ),
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    let after = host_snapshot(h, &[&format!("/tmp/hoist-gate-edits-{pid}")]);
    assert!(after == before, "{}", changed(&before, &after));
    let plan = rt.services.effects().plan();
    // The last planned content of each file, and how many changes planned it.
    let last = |p: &str| -> (usize, String) {
        let files: Vec<&Vec<u8>> = plan
            .changes
            .iter()
            .filter_map(|c| match &c.change {
                hoist::effect::Change::File { path, after, .. } if path == p => Some(after),
                _ => None,
            })
            .collect();
        (
            files.len(),
            String::from_utf8_lossy(files.last().map(|v| v.as_slice()).unwrap_or_default())
                .into_owned(),
        )
    };
    assert_eq!(
        last(&path),
        (
            4,
            "a = 1\nb = 2\n# BEGIN hoist managed block\nc = 3\n# END hoist managed block\nd = 4\n"
                .to_string()
        ),
        "{:?}",
        plan.changes
            .iter()
            .map(|c| c.change.summary())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        last(&format!("/home/{user}/.ssh/authorized_keys")),
        (2, format!("{k1}\n{k2}\n"))
    );
    let (n, crontab) = last(&format!("crontab of {user}"));
    assert_eq!(n, 2);
    assert_eq!(
        crontab,
        "# hoist: first\n@hourly true 1\n# hoist: second\n@daily true 2\n"
    );
    let cron_diff = plan
        .changes
        .iter()
        .rev()
        .find_map(|c| match &c.change {
            hoist::effect::Change::File { path, .. } if path.starts_with("crontab of") => {
                c.change.diff()
            }
            _ => None,
        })
        .unwrap();
    assert!(
        cron_diff.contains("+# hoist: second") && cron_diff.contains(" # hoist: first"),
        "{cron_diff}"
    );
}
