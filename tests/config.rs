//! Host configuration primitives on fleet servers — real apt, users, sshd, cron daemon,
//! systemd — as the `deploy` user with sudo. Each primitive: the first run changes the host
//! (read back through the host), the second reports no change, and bad input names itself.

mod support;

use std::time::{Duration, Instant};

use support::fleet::{Fleet, FleetHost, OnDrop, fleet};
use support::run_script;

/// Run a script against one fleet host bound as `h` (connected as `deploy`).
fn on(f: &Fleet, host: &FleetHost, body: &str) -> hoist::Result<serde_json::Value> {
    let (rt, _) = f.runtime();
    run_script(
        &rt,
        &format!("let h = ssh(\"{}\");\n{body}", host.spec_user("deploy")),
    )
}

fn ok(f: &Fleet, host: &FleetHost, body: &str) -> serde_json::Value {
    on(f, host, body).unwrap_or_else(|e| panic!("{}", e.render()))
}

#[test]
fn packages_from_a_local_apt_repository() {
    let f = fleet();
    let h = f.host(2);
    let id = std::process::id();
    let (repo, pkg) = (format!("/srv/hoist-repo-{id}"), format!("hoist-hello-{id}"));
    // The fleet reaches no mirror: apt sees only this repository.
    h.sh_ok(&format!(
        "set -e; mkdir -p {repo} /etc/apt/hoist-test-disabled; \
         mv /etc/apt/sources.list.d/* /etc/apt/hoist-test-disabled/ 2>/dev/null || true; \
         echo 'deb [trusted=yes] file:{repo} ./' > /etc/apt/sources.list.d/hoist-test.list"
    ));
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "dpkg --purge {pkg}; rm -rf {repo} /etc/apt/sources.list.d/hoist-test.list; \
             mv /etc/apt/hoist-test-disabled/* /etc/apt/sources.list.d/ 2>/dev/null; rmdir /etc/apt/hoist-test-disabled"
        ));
    });
    support::debs::publish(h, &repo, &pkg, "1.0");
    let install = format!(r#"h.packages(["{pkg}"], #{{update: true, sudo: true}})"#);
    assert_eq!(ok(f, h, &install), true);
    assert_eq!(
        h.sh_ok(&format!(
            "dpkg-query -W -f='${{Status}} ${{Version}}' {pkg}"
        )),
        "install ok installed 1.0"
    );
    assert_eq!(ok(f, h, &install), false, "second run: no change");
    // An unknown package is named, and nothing else is installed with it.
    let e = on(
        f,
        h,
        r#"h.packages(["hoist-no-such-package", "curl"], #{sudo: true})"#,
    )
    .unwrap_err();
    assert!(
        e.message.contains("no package hoist-no-such-package"),
        "{}",
        e.render()
    );
    assert_eq!(e.host.as_deref(), Some("deploy@host2"));
    // latest: a newer version in the index is installed, once.
    support::debs::publish(h, &repo, &pkg, "2.0");
    let latest =
        format!(r#"h.packages(["{pkg}"], #{{state: "latest", update: true, sudo: true}})"#);
    assert_eq!(ok(f, h, &latest), true);
    assert_eq!(
        h.sh_ok(&format!("dpkg-query -W -f='${{Version}}' {pkg}")),
        "2.0"
    );
    assert_eq!(ok(f, h, &latest), false);
    let remove = format!(r#"h.packages(["{pkg}"], #{{state: "absent", sudo: true}})"#);
    assert_eq!(ok(f, h, &remove), true);
    assert_ne!(
        h.sh(&format!(
            "dpkg-query -W -f='${{Status}}' {pkg} | grep -q '^install ok'"
        ))
        .code,
        0
    );
    assert_eq!(ok(f, h, &remove), false);
}

#[test]
fn users_groups_and_a_key_that_really_logs_in() {
    let f = fleet();
    let h = f.host(1);
    let id = std::process::id();
    let (user, group) = (format!("kraken{id}"), format!("pool{id}"));
    let _cleanup = OnDrop(|| {
        h.sh(&format!("userdel -r {user}; groupdel {group}"));
    });
    let make = format!(
        r#"let a = h.group("{group}", #{{gid: 23456, sudo: true}});
           let b = h.user("{user}", #{{groups: ["{group}", "docker"], shell: "/bin/bash", sudo: true}});
           [a, b]"#
    );
    assert_eq!(ok(f, h, &make), serde_json::json!([true, true]));
    assert_eq!(
        ok(f, h, &make),
        serde_json::json!([false, false]),
        "second run"
    );
    assert_eq!(
        h.sh_ok(&format!("getent group {group} | cut -d: -f3")),
        "23456"
    );
    assert_eq!(
        h.sh_ok(&format!("getent passwd {user} | cut -d: -f7")),
        "/bin/bash"
    );
    let groups = h.sh_ok(&format!("id -Gn {user}"));
    assert!(
        groups.contains(&group) && groups.contains("docker"),
        "{groups}"
    );
    // A changed field is changed alone.
    assert_eq!(
        ok(
            f,
            h,
            &format!(r#"h.user("{user}", #{{shell: "/bin/sh", sudo: true}})"#)
        ),
        true
    );
    assert_eq!(
        h.sh_ok(&format!("getent passwd {user} | cut -d: -f7")),
        "/bin/sh"
    );

    // The ssh-copy-id step: a fresh key, authorized, logs in for real; never twice.
    let d = tempfile::tempdir().unwrap();
    let key = d.path().join("k");
    let keygen = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "laptop", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(keygen.success());
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let auth = format!(
        r#"h.authorized_key("{user}", "{}", #{{sudo: true}})"#,
        pubkey.trim()
    );
    assert_eq!(ok(f, h, &auth), true);
    assert_eq!(ok(f, h, &auth), false, "no duplicate");
    let login = |expect: bool| {
        let o = std::process::Command::new("ssh")
            .args(["-F"])
            .arg(&f.ssh_config)
            .args(["-o", "IdentitiesOnly=yes", "-i"])
            .arg(&key)
            .arg(format!("{user}@{}", h.name))
            .arg("whoami")
            .output()
            .unwrap();
        assert_eq!(
            o.status.success(),
            expect,
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    // The fleet's own key is tried first by ssh_config: make it not match this user.
    assert_eq!(login(true), user);
    let listed = h.sh_ok(&format!("cat /home/{user}/.ssh/authorized_keys"));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert_eq!(
        h.sh_ok(&format!(
            "stat -c '%a %U' /home/{user}/.ssh/authorized_keys"
        )),
        format!("600 {user}")
    );
    let revoke = format!(
        r#"h.authorized_key("{user}", "{}", #{{state: "absent", sudo: true}})"#,
        pubkey.trim()
    );
    assert_eq!(ok(f, h, &revoke), true);
    login(false);

    let e = on(f, h, r#"h.user("-rf", #{sudo: true})"#).unwrap_err();
    assert!(e.message.contains("user name `-rf`"), "{}", e.render());
    let e = on(f, h, &format!(r#"h.authorized_key("{user}", "not a key")"#)).unwrap_err();
    assert!(
        e.message.contains("not an ssh public key"),
        "{}",
        e.render()
    );
}

#[test]
fn a_cron_entry_runs_once_a_minute_and_is_never_duplicated() {
    let f = fleet();
    let h = f.host(3);
    let id = std::process::id();
    let out = format!("/tmp/hoist-cron-{id}");
    let _cleanup = OnDrop(|| {
        h.sh(&format!("crontab -u deploy -r; rm -f {out}"));
    });
    h.sh_ok("echo 'MAILTO=\"\"' | crontab -u deploy -");
    let job =
        format!(r#"h.cron("tick", #{{schedule: "* * * * *", command: "date +%s >> {out}"}})"#);
    assert_eq!(ok(f, h, &job), true);
    assert_eq!(ok(f, h, &job), false);
    let tab = h.sh_ok("crontab -u deploy -l");
    assert_eq!(
        tab,
        format!("MAILTO=\"\"\n# hoist: tick\n* * * * * date +\\%s >> {out}"),
        "the user's own lines are kept, the entry is there once"
    );
    // The host's cron daemon runs it (within about a minute), `%` and all.
    let deadline = Instant::now() + Duration::from_secs(75);
    while h.read(&out).is_empty() {
        assert!(Instant::now() < deadline, "cron never ran the entry");
        std::thread::sleep(Duration::from_secs(1));
    }
    let stamp: u64 = h.read(&out).lines().next().unwrap().trim().parse().unwrap();
    assert!(stamp > 1_700_000_000, "date +%s ran as written: {stamp}");
    let e = on(
        f,
        h,
        r#"h.cron("bad", #{schedule: "hourly", command: "x"})"#,
    )
    .unwrap_err();
    assert!(e.message.contains("five fields"), "{}", e.render());
    assert_eq!(ok(f, h, r#"h.cron("tick", #{state: "absent"})"#), true);
    assert_eq!(h.sh_ok("crontab -u deploy -l"), "MAILTO=\"\"");
}

#[test]
fn lines_blocks_and_file_state() {
    let f = fleet();
    let h = f.host(4);
    let dir = format!("/tmp/hoist-files-{}", std::process::id());
    let _cleanup = OnDrop(|| {
        h.sh(&format!("rm -rf {dir}"));
    });
    h.sh_ok(&format!(
        "mkdir -p {dir} && printf 'AIRFLOW_UID=0\\n# keep me\\nOTHER=1\\n' > {dir}/.env-airflow && chmod 640 {dir}/.env-airflow && chown -R deploy: {dir}"
    ));
    let set_uid = format!(
        r#"h.line_in_file("{dir}/.env-airflow", #{{regexp: "^AIRFLOW_UID=", line: "AIRFLOW_UID=" + h.run("id -u").stdout.trim()}})"#
    );
    // (trim() edits in place and returns nothing in Rhai: compute the uid first.)
    let set_uid = set_uid.replace(
        "\"AIRFLOW_UID=\" + h.run(\"id -u\").stdout.trim()",
        "`AIRFLOW_UID=${uid}`",
    );
    let script = format!("let uid = h.run(\"id -u\").stdout; uid.trim();\n{set_uid}");
    assert_eq!(ok(f, h, &script), true);
    assert_eq!(ok(f, h, &script), false);
    assert_eq!(
        h.read(&format!("{dir}/.env-airflow")),
        "AIRFLOW_UID=1000\n# keep me\nOTHER=1\n"
    );
    assert_eq!(
        h.sh_ok(&format!("stat -c %a {dir}/.env-airflow")),
        "640",
        "mode kept"
    );
    let block = format!(
        r##"h.block_in_file("{dir}/.env-airflow", "A=1\nB=2", #{{marker: "# {{mark}} pool settings"}})"##
    );
    assert_eq!(ok(f, h, &block), true);
    assert_eq!(ok(f, h, &block), false);
    assert_eq!(
        h.read(&format!("{dir}/.env-airflow")),
        "AIRFLOW_UID=1000\n# keep me\nOTHER=1\n# BEGIN pool settings\nA=1\nB=2\n# END pool settings\n"
    );

    // /run/gunicorn-style directory, a link, removal.
    let d = format!(
        r#"h.file("{dir}/run/gunicorn", #{{state: "directory", mode: "0755", owner: "deploy", sudo: true}})"#
    );
    assert_eq!(ok(f, h, &d), true);
    assert_eq!(ok(f, h, &d), false);
    assert_eq!(
        h.sh_ok(&format!("stat -c '%F %a %U' {dir}/run/gunicorn")),
        "directory 755 deploy"
    );
    let l = format!(r#"h.file("{dir}/current", #{{state: "link", src: "{dir}/run"}})"#);
    assert_eq!(ok(f, h, &l), true);
    assert_eq!(ok(f, h, &l), false);
    assert_eq!(
        h.sh_ok(&format!("readlink {dir}/current")),
        format!("{dir}/run")
    );
    let e = on(f, h, &format!(r#"h.file("{dir}/run", #{{state: "file"}})"#)).unwrap_err();
    assert!(
        e.message.contains("exists as a directory"),
        "{}",
        e.render()
    );
    let gone = format!(r#"h.file("{dir}/current", #{{state: "absent"}})"#);
    assert_eq!(ok(f, h, &gone), true);
    assert_eq!(ok(f, h, &gone), false);
}

#[test]
fn a_unit_installed_with_its_mode_twice_is_not_reloaded_or_restarted() {
    let f = fleet();
    let h = f.host(1);
    let unit = format!("hoistcfg{}.service", std::process::id());
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "systemctl disable --now {unit}; systemctl unmask {unit}; rm -f /etc/systemd/system/{unit}; systemctl daemon-reload"
        ));
    });
    let text = "[Unit]\nDescription=hoist config test\n[Service]\nExecStart=/bin/sleep infinity\nRuntimeDirectory=gunicorn-test\n[Install]\nWantedBy=multi-user.target\n";
    let install = format!(
        r#"let s = h.systemd("{unit}", #{{sudo: true}});
           let changed = s.install("{}", #{{mode: "0755"}});
           let enabled = s.enable();
           if changed {{ s.restart(); }}
           [changed, enabled]"#,
        text.replace('\n', "\\n")
    );
    assert_eq!(ok(f, h, &install), serde_json::json!([true, true]));
    assert_eq!(
        h.sh_ok(&format!("stat -c %a /etc/systemd/system/{unit}")),
        "755"
    );
    let since = h.sh_ok(&format!(
        "systemctl show -p ActiveEnterTimestampMonotonic --value {unit}"
    ));
    assert_eq!(
        ok(f, h, &install),
        serde_json::json!([false, false]),
        "second run"
    );
    assert_eq!(
        h.sh_ok(&format!(
            "systemctl show -p ActiveEnterTimestampMonotonic --value {unit}"
        )),
        since,
        "not restarted"
    );
    // RuntimeDirectory=: systemd creates /run/gunicorn-test for the running service.
    assert_eq!(h.sh_ok("stat -c %F /run/gunicorn-test"), "directory");
    let toggles = format!(
        r#"let s = h.systemd("{unit}", #{{sudo: true}});
           [s.disable(), s.disable(), s.enable(), s.enable()]"#
    );
    assert_eq!(
        ok(f, h, &toggles),
        serde_json::json!([true, false, true, false])
    );
    assert_eq!(h.sh_ok(&format!("systemctl is-enabled {unit}")), "enabled");
    // Masking works on units the system ships (systemd refuses to mask one in /etc).
    let masks = r#"let s = h.systemd("apt-daily.timer", #{sudo: true});
        [s.mask(), s.mask(), s.unmask(), s.unmask()]"#;
    assert_eq!(
        ok(f, h, masks),
        serde_json::json!([true, false, true, false])
    );
    assert_ne!(h.sh_ok("systemctl is-enabled apt-daily.timer"), "masked");
    // Masking stopped the timer: start it again, as it was.
    h.sh_ok("systemctl reset-failed apt-daily.timer; systemctl start apt-daily.timer");
    let e = on(f, h, r#"h.systemd("../../../tmp/x.service")"#).unwrap_err();
    assert!(
        e.message.contains("not a systemd unit name"),
        "{}",
        e.render()
    );
}

#[test]
fn sudo_with_a_password_from_a_script_or_the_environment() {
    let f = fleet();
    let h = f.host(2);
    let (rt, _) = f.runtime();
    let v = run_script(
        &rt,
        &format!(
            r#"
            let h = ssh("{spec}");
            let r = #{{}};
            try {{ h.run("id -u", #{{sudo: true}}); }} catch (e) {{ r.no_pw = e.message; r.hint = e.hint; }}
            sudo_password(secret("wrong-pass"));
            try {{ h.run("id -u", #{{sudo: true}}); }} catch (e) {{ r.wrong = e.message; r.wrong_host = e.host; }}
            sudo_password(secret("ops-password"));
            r.id = h.capture("id -u", #{{sudo: true}});
            r.stdin = h.capture("cat", #{{sudo: true, stdin: "data"}});
            r.env_has_it = h.capture("env", #{{sudo: true}}).contains("ops-password");
            h.write("/root/hoist-sudo-pw-probe", "x\n", #{{sudo: true}});
            r
            "#,
            spec = h.spec_user("ops")
        ),
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(v["no_pw"], "sudo needs a password");
    assert!(
        v["hint"].as_str().unwrap().contains("--ask-sudo-password"),
        "{v}"
    );
    assert_eq!(v["wrong"], "sudo refused the password");
    assert_eq!(v["wrong_host"], h.spec_user("ops"));
    assert_eq!(v["id"], "0");
    assert_eq!(v["stdin"], "data", "the command's own stdin is untouched");
    assert_eq!(
        v["env_has_it"], false,
        "the command never sees the password"
    );
    assert_eq!(h.read("/root/hoist-sudo-pw-probe"), "x\n");
    h.sh_ok("rm -f /root/hoist-sudo-pw-probe");
    let audit = std::fs::read_to_string(rt.services.audit_path().unwrap()).unwrap();
    assert!(audit.contains("sudo -A"), "the audit log shows sudo ran");
    assert!(
        !audit.contains("ops-password"),
        "the audit log never holds the password"
    );
    rt.shutdown();

    // From the environment, for the CLI.
    let project = f.project("");
    std::fs::write(
        project.path().join("job.rhai"),
        format!(
            r#"ssh("{}").capture("id -un", #{{sudo: true}})"#,
            h.spec_user("ops")
        ),
    )
    .unwrap();
    let o = f
        .hoist_cmd(project.path())
        .args(["run", "job.rhai", "-v"])
        .env("HOIST_SUDO_PASSWORD", "ops-password")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("root"), "{out}");
    assert!(
        !out.contains("ops-password") && !err.contains("ops-password"),
        "{out}{err}"
    );
}

/// The (kind, summary) of every change in `rt`'s audit log.
fn audited_changes(rt: &hoist::Runtime) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(rt.services.audit_path().unwrap()).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["probe"] == false)
        .map(|e| {
            (
                e["change"]["kind"].as_str().unwrap().to_string(),
                e["change"]["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_primitive_plans_exactly_what_its_first_run_then_does() {
    let f = fleet();
    let h = f.host(4);
    let id = std::process::id();
    let (user, group, dir) = (
        format!("hplan{id}"),
        format!("hplang{id}"),
        format!("/tmp/hoist-plan-{id}"),
    );
    let unit = format!("hoistplan{id}.service");
    let (repo, pkg) = (
        format!("/srv/hoist-plan-repo-{id}"),
        format!("hoist-plan-{id}"),
    );
    h.sh_ok(&format!(
        "set -e; mkdir -p {dir} {repo} && printf 'UID=0\\nKEEP=1\\n' > {dir}/env; \
         mkdir -p /etc/apt/hoist-plan-disabled; \
         mv /etc/apt/sources.list.d/* /etc/apt/hoist-plan-disabled/ 2>/dev/null || true; \
         echo 'deb [trusted=yes] file:{repo} ./' > /etc/apt/sources.list.d/hoist-plan.list"
    ));
    let _cleanup = OnDrop(|| {
        h.sh(&format!(
            "userdel -r {user}; groupdel {group}; crontab -u deploy -l | grep -v plantick | crontab -u deploy -; rm -rf {dir}; \
             sed -i '/hoistplan{id}\\|HoistPlanTestKey/d' /home/deploy/.ssh/authorized_keys; \
             systemctl disable {unit}; rm -f /etc/systemd/system/{unit}; systemctl daemon-reload; \
             dpkg --purge {pkg}; rm -rf {repo} /etc/apt/sources.list.d/hoist-plan.list; \
             mv /etc/apt/hoist-plan-disabled/* /etc/apt/sources.list.d/ 2>/dev/null; rmdir /etc/apt/hoist-plan-disabled"
        ));
    });
    support::debs::publish(h, &repo, &pkg, "1.0");
    // A key of this run only (removed again below), so no earlier run's leftovers count.
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("k");
    assert!(
        std::process::Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                &format!("hoistplan{id}"),
                "-f"
            ])
            .arg(&key)
            .status()
            .unwrap()
            .success()
    );
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let pubkey = pubkey.trim();
    let body = format!(
        r##"let h = ssh("{spec}");
[
  h.packages(["{pkg}"], #{{update: true}}),
  h.group("{group}", #{{}}),
  h.user("{user}", #{{groups: ["{group}"], shell: "/bin/sh"}}),
  h.authorized_key("deploy", "{pubkey}", #{{}}),
  h.cron("plantick", #{{schedule: "0 3 * * *", command: "true", user: "deploy"}}),
  h.line_in_file("{dir}/env", #{{regexp: "^UID=", line: "UID=1000"}}),
  h.block_in_file("{dir}/env", "A=1\nB=2", #{{marker: "# {{mark}} pool"}}),
  h.file("{dir}/run", #{{state: "directory", mode: "0750"}}),
  h.systemd("{unit}").install("[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", #{{mode: "0644"}}),
  h.systemd("{unit}").enable(),
]"##,
        spec = h.spec()
    );
    let state = || {
        h.sh_ok(&format!(
            "getent passwd {user}; getent group {group}; crontab -u deploy -l 2>/dev/null | grep plantick; \
             cat {dir}/env; find {dir} -printf '%p %m %u\\n' | sort; ls -la /etc/systemd/system/{unit} 2>&1; \
             grep -c hoistplan{id} ~deploy/.ssh/authorized_keys 2>/dev/null; dpkg -l {pkg} 2>&1 | tail -1; true"
        ))
    };
    let before = state();

    // The plan: probes ran, nothing changed.
    let (plan_rt, _) = f.runtime();
    plan_rt
        .services
        .effects()
        .set_mode(hoist::effect::Mode::Plan);
    let planned_value = run_script(&plan_rt, &body).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(state(), before, "the dry run changed the host");
    let plan = plan_rt.services.effects().plan();
    assert!(plan.uncertain.is_empty(), "{:?}", plan.uncertain);
    let planned: Vec<(String, String)> = plan
        .changes
        .iter()
        .map(|c| (c.change.kind(), c.change.summary()))
        .collect();
    assert!(planned.len() >= 10, "{planned:#?}");

    // The run makes exactly those changes, and says it changed what the plan said it would.
    let (run_rt, _) = f.runtime();
    let value = run_script(&run_rt, &body).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(value, planned_value);
    assert_eq!(
        value,
        serde_json::json!([true, true, true, true, true, true, true, true, true, true])
    );
    assert_eq!(audited_changes(&run_rt), planned);

    // Second plan: nothing to do.
    let (again, _) = f.runtime();
    again.services.effects().set_mode(hoist::effect::Mode::Plan);
    let value = run_script(&again, &body).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(
        value,
        serde_json::json!([
            false, false, false, false, false, false, false, false, false, false
        ])
    );
    let left: Vec<String> = again
        .services
        .effects()
        .plan()
        .changes
        .iter()
        .map(|c| c.change.summary())
        .collect();
    assert!(left.is_empty(), "{left:#?}");
}
